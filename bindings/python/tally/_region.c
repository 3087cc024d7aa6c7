/*
 * _region.c — tally.Region: one open region, its counters by name, and the
 * handles (tally.Counter) that bump them without a lookup.
 *
 * Every method checks that the region is still open: close() unmaps it and
 * frees its handles, so a Counter that outlived it must raise, not write
 * into freed memory. The GIL orders close() against every other call, so
 * the check cannot race. A region closed in a forked child is unmapped in
 * that child only: nothing is ever unlinked.
 */
#include "_tally.h"

#include <errno.h>
#include <grp.h>
#include <structmember.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK_OPEN(self)                                                                           \
    do {                                                                                           \
        if ((self)->r == NULL)                                                                     \
            return tallypy_closed(self);                                                           \
    } while (0)

/* A user or group given by number, or by name looked up in the system's
 * databases (getpwnam_r / getgrnam_r: no static buffers, safe in threads). */
static int id_of(PyObject *arg, int group, unsigned *out)
{
    const char *kind = group ? "group" : "owner";
    if (PyLong_Check(arg)) {
        unsigned long v = PyLong_AsUnsignedLong(arg);
        if (v == (unsigned long)-1 && PyErr_Occurred()) {
            PyErr_Format(PyExc_ValueError, "%s=%R: a numeric id must be 0 or more", kind, arg);
            return -1;
        }
        if (v >= (unsigned long)(unsigned)-1) {
            PyErr_Format(PyExc_ValueError, "%s=%R: out of range for an id", kind, arg);
            return -1;
        }
        *out = (unsigned)v;
        return 0;
    }
    if (!PyUnicode_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "%s must be a name (str) or a numeric id (int), not %.100s",
                     kind, Py_TYPE(arg)->tp_name);
        return -1;
    }
    const char *name = PyUnicode_AsUTF8(arg);
    if (name == NULL)
        return -1;
    long hint = sysconf(group ? _SC_GETGR_R_SIZE_MAX : _SC_GETPW_R_SIZE_MAX);
    size_t cap = hint > 0 ? (size_t)hint : 1024;
    for (;;) {
        char *buf = malloc(cap);
        if (buf == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        int rc;
        int found;
        if (group) {
            struct group g, *res = NULL;
            rc = getgrnam_r(name, &g, buf, cap, &res);
            found = res != NULL;
            if (found)
                *out = g.gr_gid;
        } else {
            struct passwd p, *res = NULL;
            rc = getpwnam_r(name, &p, buf, cap, &res);
            found = res != NULL;
            if (found)
                *out = p.pw_uid;
        }
        free(buf);
        if (rc == ERANGE && cap < (1u << 20)) {
            cap *= 4;
            continue;
        }
        if (found)
            return 0;
        if (rc != 0) {
            errno = rc;
            PyErr_SetFromErrno(PyExc_OSError);
        } else
            PyErr_Format(PyExc_ValueError,
                         "%s %R does not exist on this system: create it, or give a numeric id",
                         kind, arg);
        return -1;
    }
}

static int Region_init(RegionObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"name",  "capacity", "mode",     "group",
                             "owner", "create",   "readonly", NULL};
    PyObject *name = NULL, *group = Py_None, *owner = Py_None;
    PyObject *fsname = NULL;
    Py_ssize_t capacity = 0, mode = 0660;
    int create = 1, readonly = 0;
    if (self->r != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Region.__init__ called on an open region");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O$nnOOpp:Region", kwlist, &name, &capacity,
                                     &mode, &group, &owner, &create, &readonly))
        return -1;
    if (capacity < 0 || capacity > (Py_ssize_t)TALLY_MAX_CAPACITY) {
        PyErr_Format(PyExc_ValueError, "capacity=%zd: give 0 (the default, %d) up to %d counters",
                     capacity, TALLY_DEFAULT_CAPACITY, TALLY_MAX_CAPACITY);
        return -1;
    }
    if (mode < 0 || mode > 07777) {
        PyErr_Format(PyExc_ValueError, "mode=%zd: give permission bits, 0 to 0o7777 (e.g. 0o660)",
                     mode);
        return -1;
    }
    tally_open_opts o = {.capacity = (uint32_t)capacity, .mode = (mode_t)mode};
    if (!create)
        o.flags |= TALLY_OPEN_NOCREATE;
    if (readonly)
        o.flags |= TALLY_OPEN_RDONLY | TALLY_OPEN_NOCREATE;
    unsigned id;
    if (group != Py_None) {
        if (id_of(group, 1, &id) < 0)
            return -1;
        o.group = (gid_t)id;
        o.flags |= TALLY_OPEN_GROUP;
    }
    if (owner != Py_None) {
        if (id_of(owner, 0, &id) < 0)
            return -1;
        o.owner = (uid_t)id;
        o.flags |= TALLY_OPEN_OWNER;
    }
    if (name == NULL)
        name = PyUnicode_FromString("tally");
    else
        Py_INCREF(name);
    if (name == NULL || !PyUnicode_FSConverter(name, &fsname)) {
        Py_XDECREF(name);
        return -1;
    }
    tally_region *r = NULL;
    int rc;
    /* Opening may create a file and wait on the file system: let other
     * threads run meanwhile. */
    Py_BEGIN_ALLOW_THREADS rc = tally_open(&r, PyBytes_AS_STRING(fsname), &o);
    Py_END_ALLOW_THREADS Py_DECREF(fsname);
    if (rc != 0) {
        tallypy_raise(rc, "region", name);
        Py_DECREF(name);
        return -1;
    }
    tally_info info;
    tally_info_get(r, &info);
    PyObject *path = PyUnicode_DecodeFSDefault(info.path);
    if (path == NULL) {
        tally_close(r);
        Py_DECREF(name);
        return -1;
    }
    Py_XSETREF(self->name, PyObject_Str(name));
    Py_DECREF(name);
    Py_XSETREF(self->path, path);
    self->r = r;
    /* The flag asked for as well as the one reported: a region mapped
     * read-only must never reach the inline add, which would fault. */
    self->readonly = readonly || info.readonly;
    return 0;
}

static void Region_dealloc(RegionObject *self)
{
    tally_close(self->r);
    Py_XDECREF(self->name);
    Py_XDECREF(self->path);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The handle of name: registered if missing, unless read-only (where a
 * missing name is a write refused, as libtally's contract says). */
static int handle(RegionObject *self, PyObject *name, int create, tally_counter **out)
{
    const char *utf8 = tallypy_name(name);
    if (utf8 == NULL)
        return -1;
    int rc;
    if (create && !self->readonly)
        rc = tally_counter_get(self->r, utf8, out);
    else {
        rc = tally_counter_find(self->r, utf8, out);
        if (rc == TALLY_ENOCOUNTER && create)
            rc = TALLY_ERDONLY;
    }
    if (rc != 0) {
        if (rc != TALLY_ENOCOUNTER || create)
            tallypy_raise(rc, "counter", name);
        return rc;
    }
    return 0;
}

static PyObject *Region_counter(RegionObject *self, PyObject *name)
{
    CHECK_OPEN(self);
    tally_counter *c;
    if (handle(self, name, 1, &c) != 0)
        return NULL;
    return tallypy_counter_new(self, c, name);
}

static PyObject *Region_add(RegionObject *self, PyObject *const *args, Py_ssize_t nargs,
                            PyObject *kwnames)
{
    CHECK_OPEN(self);
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "add() needs a counter name");
        return NULL;
    }
    int64_t n;
    if (tallypy_add_amount(args, nargs, kwnames, 1, "add", &n) < 0)
        return NULL;
    const char *utf8 = tallypy_name(args[0]);
    if (utf8 == NULL)
        return NULL;
    if (self->readonly)
        return tallypy_raise(TALLY_ERDONLY, "counter", args[0]);
    int rc = tally_add_name(self->r, utf8, n);
    if (rc != 0)
        return tallypy_raise(rc, "counter", args[0]);
    Py_RETURN_NONE;
}

static PyObject *Region_get(RegionObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    CHECK_OPEN(self);
    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError, "get() takes a name and an optional default (%zd given)",
                     nargs);
        return NULL;
    }
    tally_counter *c;
    int rc = handle(self, args[0], 0, &c);
    if (rc == TALLY_ENOCOUNTER)
        return Py_NewRef(nargs == 2 ? args[1] : Py_None);
    if (rc != 0)
        return NULL;
    return PyLong_FromLongLong(tally_value(c));
}

/* The handle of a counter that must exist: -1 with tally.NoCounter (a
 * KeyError) or another error set otherwise. */
static int existing(RegionObject *self, PyObject *name, tally_counter **out)
{
    int rc = handle(self, name, 0, out);
    if (rc == TALLY_ENOCOUNTER)
        tallypy_raise(rc, "counter", name);
    return rc == 0 ? 0 : -1;
}

static PyObject *Region_subscript(RegionObject *self, PyObject *name)
{
    CHECK_OPEN(self);
    tally_counter *c;
    if (existing(self, name, &c) != 0)
        return NULL;
    return PyLong_FromLongLong(tally_value(c));
}

static int Region_contains(RegionObject *self, PyObject *name)
{
    if (self->r == NULL) {
        tallypy_closed(self);
        return -1;
    }
    tally_counter *c;
    int rc = handle(self, name, 0, &c);
    if (rc == TALLY_ENOCOUNTER)
        return 0;
    return rc == 0 ? 1 : -1;
}

static PyObject *Region_reset(RegionObject *self, PyObject *name)
{
    CHECK_OPEN(self);
    tally_counter *c;
    if (existing(self, name, &c) != 0)
        return NULL;
    if (self->readonly)
        return tallypy_raise(TALLY_ERDONLY, "counter", name);
    return PyLong_FromLongLong(tally_reset(c));
}

/* Positive: a Python error is set (libtally's own codes are negative). */
static int put_item(const char *name, int64_t value, void *arg)
{
    PyObject *v = PyLong_FromLongLong(value);
    if (v == NULL)
        return 1;
    int rc = PyDict_SetItemString(arg, name, v);
    Py_DECREF(v);
    return rc < 0 ? 1 : 0;
}

static PyObject *Region_items(RegionObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"prefix", NULL};
    const char *prefix = "";
    CHECK_OPEN(self);
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|s:items", kwlist, &prefix))
        return NULL;
    PyObject *d = PyDict_New();
    if (d == NULL)
        return NULL;
    int rc = tally_foreach(self->r, prefix, put_item, d);
    if (rc != 0) {
        Py_DECREF(d);
        return rc > 0 ? NULL : tallypy_raise(rc, "region", self->path);
    }
    return d;
}

static PyObject *Region_info(RegionObject *self, PyObject *unused)
{
    CHECK_OPEN(self);
    tally_info info;
    int rc = tally_info_get(self->r, &info);
    if (rc != 0)
        return tallypy_raise(rc, "region", self->path);
    PyObject *t = PyStructSequence_New(TallyPy_InfoType);
    if (t == NULL)
        return NULL;
    PyObject *items[] = {
        PyLong_FromUnsignedLong(info.capacity),
        PyLong_FromUnsignedLong(info.used),
        PyLong_FromUnsignedLongLong(info.overflow),
        PyLong_FromUnsignedLong(info.stripes),
        PyBool_FromLong(self->readonly),
        PyUnicode_DecodeFSDefault(info.path),
        PyLong_FromUnsignedLongLong(info.size),
        PyBool_FromLong(info.created),
    };
    int failed = 0;
    for (Py_ssize_t i = 0; i < (Py_ssize_t)(sizeof(items) / sizeof(items[0])); i++) {
        failed |= items[i] == NULL;
        PyStructSequence_SET_ITEM(t, i, items[i]);
    }
    if (failed) {
        Py_DECREF(t);
        return NULL;
    }
    return t;
}

static PyObject *Region_close(RegionObject *self, PyObject *unused)
{
    tally_close(self->r);
    self->r = NULL;
    Py_RETURN_NONE;
}

static PyObject *Region_enter(RegionObject *self, PyObject *unused)
{
    CHECK_OPEN(self);
    return Py_NewRef(self);
}

static PyObject *Region_exit(RegionObject *self, PyObject *args)
{
    return Region_close(self, NULL);
}

static PyObject *Region_repr(RegionObject *self)
{
    return PyUnicode_FromFormat("<tally.Region %R at %R%s%s>", self->name, self->path,
                                self->readonly ? " read-only" : "",
                                self->r == NULL ? " closed" : "");
}

static PyObject *Region_get_closed(RegionObject *self, void *unused)
{
    return PyBool_FromLong(self->r == NULL);
}

static PyObject *Region_get_readonly(RegionObject *self, void *unused)
{
    return PyBool_FromLong(self->readonly);
}

static PyMethodDef Region_methods[] = {
    {"counter", (PyCFunction)Region_counter, METH_O,
     "counter(name) -> Counter: the handle of a counter, registered if missing"},
    {"add", (PyCFunction)(void (*)(void))Region_add, METH_FASTCALL | METH_KEYWORDS,
     "add(name, n=1): add n to a counter by name, registering it if missing"},
    {"get", (PyCFunction)(void (*)(void))Region_get, METH_FASTCALL,
     "get(name, default=None) -> int: a counter's value, or default if there is none"},
    {"reset", (PyCFunction)Region_reset, METH_O,
     "reset(name) -> int: set a counter to 0 and return what it held"},
    {"items", (PyCFunction)(void (*)(void))Region_items, METH_VARARGS | METH_KEYWORDS,
     "items(prefix='') -> dict: every counter whose name starts with prefix, with its value"},
    {"info", (PyCFunction)Region_info, METH_NOARGS,
     "info() -> Info: capacity, used, overflow, stripes, readonly, path, size, created"},
    {"close", (PyCFunction)Region_close, METH_NOARGS,
     "close(): unmap the region in this process (never removes it); later use raises"},
    {"__enter__", (PyCFunction)Region_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)Region_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Region_members[] = {
    {"name", T_OBJECT, offsetof(RegionObject, name), READONLY, "the region's name or path"},
    {"path", T_OBJECT, offsetof(RegionObject, path), READONLY, "the file backing the region"},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef Region_getset[] = {
    {"closed", (getter)Region_get_closed, NULL, "True once close() ran", NULL},
    {"readonly", (getter)Region_get_readonly, NULL, "True if attached read-only", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMappingMethods Region_as_mapping = {
    .mp_subscript = (binaryfunc)Region_subscript,
};

static PySequenceMethods Region_as_sequence = {
    .sq_contains = (objobjproc)Region_contains,
};

PyTypeObject TallyPy_RegionType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tally.Region",
    .tp_basicsize = sizeof(RegionObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Region(name='tally', *, capacity=0, mode=0o660, group=None, owner=None, "
              "create=True, readonly=False)\n\n"
              "A tally region: created if missing (unless create=False), else attached.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Region_init,
    .tp_dealloc = (destructor)Region_dealloc,
    .tp_repr = (reprfunc)Region_repr,
    .tp_methods = Region_methods,
    .tp_members = Region_members,
    .tp_getset = Region_getset,
    .tp_as_mapping = &Region_as_mapping,
    .tp_as_sequence = &Region_as_sequence,
};
