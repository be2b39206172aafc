/*
 * Optional C accelerator for the line rules (mailfmt/lint/_scan.py).
 *
 * scan_lines(data, start, end, limit) reads data[start:end] once and returns
 * what the pure-Python scanner in _scan.py returns, computed there with a
 * split and three counts: (LF count, CR count, CRLF count, the (start,
 * length) of every line longer than ``limit`` octets, the CR of a CRLF not
 * counted). tests/lint/test_scan.py holds the two to the same answers.
 *
 * It only reads the buffer, within [start, end) after clamping both to it,
 * with memchr: no write, no index past the end, whatever the input.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static int
add_long(PyObject *longs, Py_ssize_t start, Py_ssize_t length)
{
    PyObject *item = Py_BuildValue("(nn)", start, length);
    if (item == NULL)
        return -1;
    int rc = PyList_Append(longs, item);
    Py_DECREF(item);
    return rc;
}

static PyObject *
scan_lines(PyObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t start, end, limit;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*nnn:scan_lines", &view, &start, &end, &limit))
        return NULL;
    if (start < 0)
        start = 0;
    if (end > view.len)
        end = view.len;
    if (end < start)
        end = start;
    const unsigned char *buf = (const unsigned char *)view.buf;
    Py_ssize_t lf = 0, cr = 0, crlf = 0;
    PyObject *longs = PyList_New(0);
    if (longs == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    Py_ssize_t line = start;     /* where the current line starts */
    for (;;) {
        const unsigned char *nl_at = memchr(buf + line, '\n', (size_t)(end - line));
        Py_ssize_t stop = nl_at != NULL ? nl_at - buf : end;
        const unsigned char *p = buf + line;
        const unsigned char *q = buf + stop;
        while (p < q && (p = memchr(p, '\r', (size_t)(q - p))) != NULL) {
            cr++;
            p++;
        }
        Py_ssize_t length = stop - line;
        if (length > 0 && buf[stop - 1] == '\r') {
            length--;               /* the CR before the LF, or at the end */
            if (nl_at != NULL)
                crlf++;
        }
        if (length > limit && add_long(longs, line, length) < 0) {
            Py_DECREF(longs);
            PyBuffer_Release(&view);
            return NULL;
        }
        if (nl_at == NULL)
            break;
        lf++;
        line = stop + 1;
    }
    PyBuffer_Release(&view);
    return Py_BuildValue("(nnnN)", lf, cr, crlf, longs);
}

static PyMethodDef methods[] = {
    {"scan_lines", scan_lines, METH_VARARGS,
     "scan_lines(data, start, end, limit) -> (lf, cr, crlf, [(start, length), ...])"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "mailfmt._speedups",
    "Optional C accelerator for the line rules.", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&module);
}
