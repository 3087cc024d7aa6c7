/*
 * _tally.h — what the files of the tally extension module share: the two
 * object types (a Region owns a tally_region; a Counter holds a handle and
 * a reference to its Region, so the mapping outlives every handle into it)
 * and the bridge from libtally's error codes to tally's Python exceptions.
 */
#ifndef TALLY_PY_H
#define TALLY_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "tally.h"

typedef struct {
    PyObject_HEAD tally_region *r; /* NULL once closed */
    PyObject *name;                /* the name or path as given (str) */
    PyObject *path;                /* the file backing it (str) */
    int readonly;                  /* adds, resets and new names raise tally.ReadOnly */
} RegionObject;

typedef struct {
    PyObject_HEAD RegionObject *region; /* strong reference: the handle points into its mapping */
    tally_counter *c;                   /* owned by the region; freed by tally_close */
    PyObject *name;
} CounterObject;

extern PyTypeObject TallyPy_RegionType;
extern PyTypeObject TallyPy_CounterType;
extern PyTypeObject *TallyPy_InfoType;

/* Raise the exception for libtally's code rc about `subject` (a counter
 * name, a region path; may be NULL), with tally_strerror's text. Returns
 * NULL so callers can `return tallypy_raise(...)`. */
PyObject *tallypy_raise(int rc, const char *what, PyObject *subject);
/* Raise tally.ClosedRegion for a region used after close(). */
PyObject *tallypy_closed(RegionObject *r);
/* The UTF-8 of a counter name argument (a str without NUL): NULL with
 * TypeError or tally.BadName set otherwise. Valid while name lives. */
const char *tallypy_name(PyObject *name);
/* The n of an add: args[pos] or the keyword n, 1 when absent; -1 with
 * TypeError or OverflowError set. No allocation on the way. */
int tallypy_add_amount(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, Py_ssize_t pos,
                       const char *fname, int64_t *out);

PyObject *tallypy_counter_new(RegionObject *region, tally_counter *c, PyObject *name);

#endif
