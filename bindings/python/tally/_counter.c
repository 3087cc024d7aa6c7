/*
 * _counter.c — tally.Counter: the handle of one counter. add() is the
 * inline tally_add of tally.h compiled in: one relaxed atomic add on this
 * CPU's cell, no allocation and no call into libtally, so an add from
 * Python costs little more than the method call itself.
 */
#include "_tally.h"

#include <structmember.h>

PyObject *tallypy_counter_new(RegionObject *region, tally_counter *c, PyObject *name)
{
    CounterObject *self = PyObject_New(CounterObject, &TallyPy_CounterType);
    if (self == NULL)
        return NULL;
    self->region = (RegionObject *)Py_NewRef(region);
    self->c = c;
    self->name = Py_NewRef(name);
    return (PyObject *)self;
}

static void Counter_dealloc(CounterObject *self)
{
    Py_DECREF(self->region);
    Py_DECREF(self->name);
    PyObject_Free(self);
}

static PyObject *Counter_add(CounterObject *self, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames)
{
    int64_t n = 1;
    if ((nargs != 0 || kwnames != NULL) &&
        tallypy_add_amount(args, nargs, kwnames, 0, "add", &n) < 0)
        return NULL;
    RegionObject *r = self->region;
    if (r->r == NULL)
        return tallypy_closed(r);
    if (r->readonly)
        return tallypy_raise(TALLY_ERDONLY, "counter", self->name);
    tally_add(self->c, n);
    Py_RETURN_NONE;
}

static PyObject *Counter_reset(CounterObject *self, PyObject *unused)
{
    RegionObject *r = self->region;
    if (r->r == NULL)
        return tallypy_closed(r);
    if (r->readonly)
        return tallypy_raise(TALLY_ERDONLY, "counter", self->name);
    return PyLong_FromLongLong(tally_reset(self->c));
}

static PyObject *Counter_get_value(CounterObject *self, void *unused)
{
    if (self->region->r == NULL)
        return tallypy_closed(self->region);
    return PyLong_FromLongLong(tally_value(self->c));
}

static PyObject *Counter_repr(CounterObject *self)
{
    if (self->region->r == NULL)
        return PyUnicode_FromFormat("<tally.Counter %R of a closed region>", self->name);
    return PyUnicode_FromFormat("<tally.Counter %R = %lld>", self->name,
                                (long long)tally_value(self->c));
}

static PyMethodDef Counter_methods[] = {
    {"add", (PyCFunction)(void (*)(void))Counter_add, METH_FASTCALL | METH_KEYWORDS,
     "add(n=1): add n to the counter (one atomic add)"},
    {"reset", (PyCFunction)Counter_reset, METH_NOARGS,
     "reset() -> int: set the counter to 0 and return what it held; no add is lost"},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Counter_members[] = {
    {"name", T_OBJECT, offsetof(CounterObject, name), READONLY, "the counter's name"},
    {"region", T_OBJECT, offsetof(CounterObject, region), READONLY, "the Region it counts in"},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef Counter_getset[] = {
    {"value", (getter)Counter_get_value, NULL, "the counter's value, summed over every CPU", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject TallyPy_CounterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tally.Counter",
    .tp_basicsize = sizeof(CounterObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The handle of one counter; get it with Region.counter(name).",
    .tp_dealloc = (destructor)Counter_dealloc,
    .tp_repr = (reprfunc)Counter_repr,
    .tp_methods = Counter_methods,
    .tp_members = Counter_members,
    .tp_getset = Counter_getset,
};
