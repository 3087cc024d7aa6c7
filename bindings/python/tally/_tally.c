/*
 * _tally.c — the tally._tally module: its types, its constants, and the
 * argument and error conventions every method follows. The exception
 * classes live in tally/_errors.py (readable, and one table maps codes to
 * them); this file fetches its factory once at import.
 */
#include "_tally.h"

#include <string.h>

PyTypeObject *TallyPy_InfoType;

static PyObject *exception_for; /* tally._errors.exception_for(code, message, filename) */
static PyObject *closed_class;  /* tally._errors.ClosedRegion */

PyObject *tallypy_raise(int rc, const char *what, PyObject *subject)
{
    if (rc == -ENOMEM)
        return PyErr_NoMemory();
    PyObject *msg;
    if (subject != NULL)
        msg = PyUnicode_FromFormat("%s %R: %s", what, subject, tally_strerror(rc));
    else
        msg = PyUnicode_FromFormat("%s: %s", what, tally_strerror(rc));
    if (msg == NULL)
        return NULL;
    PyObject *exc =
        PyObject_CallFunction(exception_for, "iOO", rc, msg, subject != NULL ? subject : Py_None);
    Py_DECREF(msg);
    if (exc == NULL)
        return NULL;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
    return NULL;
}

PyObject *tallypy_closed(RegionObject *r)
{
    PyErr_Format(closed_class, "region %R is closed: open it again with tally.Region()", r->name);
    return NULL;
}

const char *tallypy_name(PyObject *name)
{
    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "a counter name must be a str, not %.100s",
                     Py_TYPE(name)->tp_name);
        return NULL;
    }
    Py_ssize_t len;
    const char *utf8 = PyUnicode_AsUTF8AndSize(name, &len);
    /* A lone surrogate has no UTF-8, and a NUL would cut the name short
     * in C: both are names libtally would refuse, so they say so alike. */
    if (utf8 == NULL || strlen(utf8) != (size_t)len) {
        PyErr_Clear();
        tallypy_raise(TALLY_ENAME, "counter", name);
        return NULL;
    }
    return utf8;
}

static int amount_of(PyObject *o, const char *fname, int64_t *out)
{
    long long v = PyLong_AsLongLong(o);
    if (v == -1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_OverflowError,
                         "%s: n=%R is out of a counter's range (a signed 64-bit integer)", fname,
                         o);
        }
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

int tallypy_add_amount(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, Py_ssize_t pos,
                       const char *fname, int64_t *out)
{
    *out = 1;
    if (nargs > pos + 1) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zd positional arguments (%zd given)",
                     fname, pos + 1, nargs);
        return -1;
    }
    PyObject *n = nargs == pos + 1 ? args[pos] : NULL;
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, i);
        if (!PyUnicode_Check(key) || PyUnicode_CompareWithASCIIString(key, "n") != 0) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument %R", fname, key);
            return -1;
        }
        if (n != NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument 'n'", fname);
            return -1;
        }
        n = args[nargs + i];
    }
    return n != NULL ? amount_of(n, fname, out) : 0;
}

static PyObject *mod_strerror(PyObject *self, PyObject *arg)
{
    int overflow;
    long code = PyLong_AsLongAndOverflow(arg, &overflow);
    if (code == -1 && PyErr_Occurred())
        return NULL;
    if (overflow || code < INT32_MIN || code > INT32_MAX)
        return PyUnicode_FromString(tally_strerror(INT32_MIN));
    return PyUnicode_FromString(tally_strerror((int)code));
}

static PyObject *mod_name_valid(PyObject *self, PyObject *arg)
{
    if (!PyUnicode_Check(arg))
        Py_RETURN_FALSE;
    Py_ssize_t len;
    const char *utf8 = PyUnicode_AsUTF8AndSize(arg, &len);
    if (utf8 == NULL) {
        PyErr_Clear();
        Py_RETURN_FALSE;
    }
    return PyBool_FromLong(strlen(utf8) == (size_t)len && tally_name_valid(utf8) == 0);
}

static PyMethodDef module_methods[] = {
    {"strerror", mod_strerror, METH_O, "strerror(code) -> str: libtally's text for an error code"},
    {"name_valid", mod_name_valid, METH_O,
     "name_valid(name) -> bool: whether name may name a counter (1 to 64 bytes of UTF-8, no "
     "control characters)"},
    {NULL, NULL, 0, NULL},
};

static PyStructSequence_Field info_fields[] = {
    {"capacity", "counter slots"},
    {"used", "counters registered"},
    {"overflow", "registrations refused because the region was full"},
    {"stripes", "per-CPU cells per counter"},
    {"readonly", "True if attached read-only"},
    {"path", "the file backing the region"},
    {"size", "bytes mapped"},
    {"created", "True if this open created the region"},
    {NULL, NULL},
};

static PyStructSequence_Desc info_desc = {
    "tally.Info",
    "What Region.info() reports about a region.",
    info_fields,
    8,
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tally._tally",
    .m_doc = "libtally's named 64-bit counters in a shared-memory region (the C side of tally).",
    .m_size = -1,
    .m_methods = module_methods,
};

static int add_constants(PyObject *m)
{
    return PyModule_AddIntConstant(m, "NAME_MAX", TALLY_NAME_MAX) < 0 ||
                   PyModule_AddIntConstant(m, "DEFAULT_CAPACITY", TALLY_DEFAULT_CAPACITY) < 0 ||
                   PyModule_AddIntConstant(m, "MAX_CAPACITY", TALLY_MAX_CAPACITY) < 0
               ? -1
               : 0;
}

PyMODINIT_FUNC PyInit__tally(void)
{
    PyObject *errors = PyImport_ImportModule("tally._errors");
    if (errors == NULL)
        return NULL;
    exception_for = PyObject_GetAttrString(errors, "exception_for");
    closed_class = PyObject_GetAttrString(errors, "ClosedRegion");
    Py_DECREF(errors);
    if (exception_for == NULL || closed_class == NULL)
        return NULL;
    if (PyType_Ready(&TallyPy_RegionType) < 0 || PyType_Ready(&TallyPy_CounterType) < 0)
        return NULL;
    TallyPy_InfoType = PyStructSequence_NewType(&info_desc);
    if (TallyPy_InfoType == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Region", (PyObject *)&TallyPy_RegionType) < 0 ||
        PyModule_AddObjectRef(m, "Counter", (PyObject *)&TallyPy_CounterType) < 0 ||
        PyModule_AddObjectRef(m, "Info", (PyObject *)TallyPy_InfoType) < 0 ||
        add_constants(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
