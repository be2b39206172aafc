/*
 * Optional C accelerators, each with a pure-Python twin that
 * gives the same answers (the tests hold them to it):
 *
 * scan_lines(data, start, end, limit), for the line rules
 * (mailfmt/lint/_scan.py), reads data[start:end] once and returns what the
 * pure-Python scanner returns, computed there with a split and three counts:
 * (LF count, CR count, CRLF count, the (start, length) of every line longer
 * than ``limit`` octets, the CR of a CRLF not counted).
 *
 * plain_header(data), for the plain-section proof (mailfmt/lint/plain.py),
 * matches the message's header section as the regex _PLAIN_SECTION does and
 * returns the same answer: None where the regex does not match; else the
 * match's end, then for Content-Type, Content-Transfer-Encoding and
 * MIME-Version the start of the last such field, and the start and end of
 * its value (-1, -1, -1 when absent). The regex is a backtracking one; at
 * every choice below it either has one way on, or its first way on is the
 * one taken here and no later way could succeed (plain.py says why for each
 * piece), so one pass without going back gives its answer.
 *
 * crlf_lines(data), for the dot-stuffer (mailfmt/transport/_dotstuff.py)
 * and the body writer's choice of transfer encoding (mailfmt/format/
 * transfer.py), reads data split at CRLF as the pure-Python twin in
 * mailfmt/_lines.py does with a split and three counts: the offset of the
 * first octet that must never reach a server (a NUL, a CR that no LF
 * follows, an LF that no CR precedes; -1 when none), the lengths of the
 * first, the last and the longest line, and how many lines after the first
 * start with ".".
 *
 * All three only read the buffer, every index checked against its length: no
 * write, no read past the end, whatever the input.
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

/* ---- plain_header: the plain-section proof ---------------------------- */

/* Octet classes, one bit each, named after plain.py's pieces. */
enum {
    K_ATEXT = 1 << 0,   /* RFC 5322 atext */
    K_LDH = 1 << 1,     /* A-Za-z0-9 and "-": a domain label */
    K_ALNUM = 1 << 2,   /* A-Za-z0-9 */
    K_ALPHA = 1 << 3,   /* A-Za-z */
    K_DOMAIN = 1 << 4,  /* A-Za-z0-9 "." "-" */
    K_TEXT = 1 << 5,    /* HTAB and printable ASCII (_TEXT) */
    K_NAME = 1 << 6,    /* ftext: printable ASCII but ":" */
    K_QTEXT = 1 << 7,   /* inside _PHRASE's quoted string */
    K_DTEXT = 1 << 8,   /* a msg-id's no-fold-literal */
    K_CTEXT = 1 << 9,   /* _DATE's comment */
    K_BLANK = 1 << 10,  /* SP and HTAB */
    K_DIGIT = 1 << 11,
};

static unsigned short kinds[256];

static void
init_kinds(void)
{
    const char *atext_extra = "!#$%&'*+-/=?^_`{|}~";
    for (int c = 0; c < 256; c++) {
        unsigned short k = 0;
        int alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        int digit = c >= '0' && c <= '9';
        if (alpha || digit || (c != 0 && strchr(atext_extra, c) != NULL))
            k |= K_ATEXT;
        if (alpha || digit)
            k |= K_ALNUM | K_LDH | K_DOMAIN;
        if (c == '-')
            k |= K_LDH | K_DOMAIN;
        if (c == '.')
            k |= K_DOMAIN;
        if (alpha)
            k |= K_ALPHA;
        if (digit)
            k |= K_DIGIT;
        if (c == '\t' || (c >= 0x20 && c <= 0x7e))
            k |= K_TEXT;
        if ((c >= 0x21 && c <= 0x39) || (c >= 0x3b && c <= 0x7e))
            k |= K_NAME;
        if (c == '\t' || c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x3f)
                || (c >= 0x41 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e))
            k |= K_QTEXT;
        if ((c >= 0x21 && c <= 0x5a) || (c >= 0x5e && c <= 0x7e))
            k |= K_DTEXT;
        if ((c >= 0x20 && c <= 0x27) || (c >= 0x2a && c <= 0x5b) || (c >= 0x5d && c <= 0x7e))
            k |= K_CTEXT;
        if (c == ' ' || c == '\t')
            k |= K_BLANK;
        kinds[c] = k;
    }
}

typedef struct {
    const unsigned char *b;
    Py_ssize_t n;
} Buf;

/* The octet at i, or -1 past the end. */
static inline int
at(const Buf *s, Py_ssize_t i)
{
    return i >= 0 && i < s->n ? s->b[i] : -1;
}

static inline int
is(const Buf *s, Py_ssize_t i, unsigned short kind)
{
    return i >= 0 && i < s->n && (kinds[s->b[i]] & kind);
}

static inline Py_ssize_t
run(const Buf *s, Py_ssize_t i, unsigned short kind)
{
    if (i < 0)
        return i;
    while (i < s->n && (kinds[s->b[i]] & kind))
        i++;
    return i;
}

/* _FWS: blanks, then folds (CRLF or LF, then one or more blanks). */
static Py_ssize_t
fws(const Buf *s, Py_ssize_t i)
{
    i = run(s, i, K_BLANK);
    for (;;) {
        Py_ssize_t j = i + (at(s, i) == '\r');
        if (at(s, j) != '\n' || !is(s, j + 1, K_BLANK))
            return i;
        i = run(s, j + 1, K_BLANK);
    }
}

/* _EOL: CRLF or LF; -1 for neither. */
static Py_ssize_t
eol(const Buf *s, Py_ssize_t i)
{
    if (i < 0)
        return -1;
    if (at(s, i) == '\r')
        i++;
    return at(s, i) == '\n' ? i + 1 : -1;
}

/* DOT_ATOM: atext runs joined by single dots. */
static Py_ssize_t
dot_atom(const Buf *s, Py_ssize_t i)
{
    if (!is(s, i, K_ATEXT))
        return -1;
    i = run(s, i, K_ATEXT);
    while (at(s, i) == '.' && is(s, i + 1, K_ATEXT))
        i = run(s, i + 1, K_ATEXT);
    return i;
}

/* _ADDR. Its look-aheads bound a run that a character outside the run ends,
 * so each holds for one length only: the whole run's. */
static Py_ssize_t
addr(const Buf *s, Py_ssize_t i)
{
    Py_ssize_t r = run(s, i, K_ATEXT);
    while (at(s, r) == '.')     /* the run of atext and dots */
        r = run(s, r + 1, K_ATEXT);
    if (r - i < 1 || r - i > 64 || at(s, r) != '@')
        return -1;
    Py_ssize_t j = dot_atom(s, i);
    if (j < 0 || at(s, j) != '@')
        return -1;
    j++;
    r = run(s, j, K_DOMAIN);
    if (r - j < 1 || r - j > 189)
        return -1;
    int labels = 0;
    for (;;) {
        r = run(s, j, K_LDH);
        if (r - j < 1 || r - j > 63 || at(s, r) != '.' || !is(s, j, K_ALNUM))
            break;
        Py_ssize_t k = run(s, j, K_ALNUM);
        while (at(s, k) == '-' && is(s, k + 1, K_ALNUM))
            k = run(s, k + 1, K_ALNUM);
        if (at(s, k) != '.')
            break;
        j = k + 1;
        labels++;
    }
    if (labels == 0)
        return -1;
    r = run(s, j, K_ALPHA);
    if (r - j < 2 || r - j > 63)
        return -1;
    int c = at(s, r);
    if (c >= 0 && ((kinds[c] & K_ATEXT) || c == '.' || c == '@'))
        return -1;
    return r;
}

/* _PHRASE: atoms apart by FWS, or one quoted string without escapes. */
static Py_ssize_t
phrase(const Buf *s, Py_ssize_t i)
{
    if (at(s, i) == '"') {
        Py_ssize_t j = run(s, i + 1, K_QTEXT);
        return at(s, j) == '"' ? j + 1 : -1;
    }
    if (!is(s, i, K_ATEXT))
        return -1;
    Py_ssize_t j = run(s, i, K_ATEXT);
    for (;;) {
        int c = at(s, j);
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return j;
        Py_ssize_t k = fws(s, j);
        if (!is(s, k, K_ATEXT))
            return j;
        j = run(s, k, K_ATEXT);
    }
}

/* _MAILBOX: an addr-spec, or a phrase and an angle-addr. Where _ADDR
 * matches, the phrase could not: it would stop at the "@" or a dot. */
static Py_ssize_t
mailbox(const Buf *s, Py_ssize_t i)
{
    Py_ssize_t j = addr(s, i);
    if (j >= 0)
        return j;
    j = phrase(s, i);
    if (j < 0)
        return -1;
    j = fws(s, j);
    if (at(s, j) != '<')
        return -1;
    j = addr(s, j + 1);
    return j >= 0 && at(s, j) == '>' ? j + 1 : -1;
}

/* _MAILBOX_LIST */
static Py_ssize_t
mailbox_list(const Buf *s, Py_ssize_t i)
{
    Py_ssize_t j = mailbox(s, fws(s, i));
    if (j < 0)
        return -1;
    for (;;) {
        Py_ssize_t k = fws(s, j);
        if (at(s, k) != ',')
            return k;
        j = mailbox(s, fws(s, k + 1));
        if (j < 0)
            return -1;
    }
}

/* MSG_ID: "<" dot-atom "@" (dot-atom / no-fold-literal) ">". */
static Py_ssize_t
msg_id(const Buf *s, Py_ssize_t i)
{
    if (at(s, i) != '<')
        return -1;
    Py_ssize_t j = dot_atom(s, i + 1);
    if (j < 0 || at(s, j) != '@')
        return -1;
    j++;
    if (at(s, j) == '[') {
        j = run(s, j + 1, K_DTEXT);
        if (at(s, j) != ']')
            return -1;
        j++;
    } else if ((j = dot_atom(s, j)) < 0) {
        return -1;
    }
    return at(s, j) == '>' ? j + 1 : -1;
}

static int
word3(const Buf *s, Py_ssize_t i, const char *words)
{
    if (i + 3 > s->n)
        return 0;
    for (const char *w = words; *w; w += 3)
        if (memcmp(s->b + i, w, 3) == 0)
            return 1;
    return 0;
}

static inline int
digit_in(const Buf *s, Py_ssize_t i, int lo, int hi)
{
    int c = at(s, i);
    return c >= lo && c <= hi;
}

/* _DATE, on one line. */
static Py_ssize_t
date(const Buf *s, Py_ssize_t i)
{
    Py_ssize_t j = run(s, i, K_BLANK);
    if (word3(s, j, "MonTueWedThuFriSatSun")) {
        Py_ssize_t k = run(s, j + 3, K_BLANK);
        if (at(s, k) == ',')
            j = k + 1;
    }
    j = run(s, j, K_BLANK);
    if (!is(s, j, K_DIGIT))
        return -1;
    j += 1 + is(s, j + 1, K_DIGIT);
    if (!is(s, j, K_BLANK))
        return -1;
    j = run(s, j, K_BLANK);
    if (!word3(s, j, "JanFebMarAprMayJunJulAugSepOctNovDec"))
        return -1;
    j += 3;
    if (!is(s, j, K_BLANK))
        return -1;
    j = run(s, j, K_BLANK);
    if (!((at(s, j) == '1' && at(s, j + 1) == '9')
            || (digit_in(s, j, '2', '9') && is(s, j + 1, K_DIGIT)))
            || !is(s, j + 2, K_DIGIT) || !is(s, j + 3, K_DIGIT))
        return -1;
    j += 4;
    if (!is(s, j, K_BLANK))
        return -1;
    j = run(s, j, K_BLANK);
    if (!((digit_in(s, j, '0', '1') && is(s, j + 1, K_DIGIT))
            || (at(s, j) == '2' && digit_in(s, j + 1, '0', '3')))
            || at(s, j + 2) != ':' || !digit_in(s, j + 3, '0', '5') || !is(s, j + 4, K_DIGIT))
        return -1;
    j += 5;
    if (at(s, j) == ':' && ((digit_in(s, j + 1, '0', '5') && is(s, j + 2, K_DIGIT))
                            || (at(s, j + 1) == '6' && at(s, j + 2) == '0')))
        j += 3;
    if (!is(s, j, K_BLANK))
        return -1;
    j = run(s, j, K_BLANK);
    int c = at(s, j);
    if (c == '+' || c == '-') {
        if (!((digit_in(s, j + 1, '0', '8') && is(s, j + 2, K_DIGIT))
                || (at(s, j + 1) == '9' && digit_in(s, j + 2, '0', '8'))
                || (at(s, j + 1) == '9' && at(s, j + 2) == '9' && digit_in(s, j + 3, '0', '5')))
                || !is(s, j + 3, K_DIGIT) || !is(s, j + 4, K_DIGIT))
            return -1;
        j += 5;
    } else if (c == 'U' && at(s, j + 1) == 'T') {
        j += 2;
    } else if (c == 'G' && at(s, j + 1) == 'M' && at(s, j + 2) == 'T') {
        j += 3;
    } else {
        return -1;
    }
    j = run(s, j, K_BLANK);
    if (at(s, j) == '(') {
        Py_ssize_t k = run(s, j + 1, K_CTEXT);
        if (at(s, k) == ')')
            j = run(s, k + 1, K_BLANK);
    }
    return j;
}

/* _TEXT (and _TEXT8 with ``eight``): text, and folds of a line break, a
 * blank and more text. */
static Py_ssize_t
text(const Buf *s, Py_ssize_t i, int eight)
{
    for (;;) {
        while (i < s->n && ((kinds[s->b[i]] & K_TEXT) || (eight && s->b[i] >= 0x80)))
            i++;
        Py_ssize_t j = i + (at(s, i) == '\r');
        if (at(s, j) != '\n' || !is(s, j + 1, K_BLANK))
            return i;
        i = j + 1;
    }
}

/* Case-blind comparison of name[0:len] with a lower-case word. */
static int
name_is(const unsigned char *name, Py_ssize_t len, const char *word)
{
    Py_ssize_t i = 0;
    for (; i < len && word[i]; i++) {
        int c = name[i];
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if (c != word[i])
            return 0;
    }
    return i == len && word[i] == 0;
}

static int
name_exact(const unsigned char *name, Py_ssize_t len, const char *word)
{
    return (Py_ssize_t)strlen(word) == len && memcmp(name, word, (size_t)len) == 0;
}

/* _SPECIAL and the MIME fields the walk reads: names the generic branch
 * refuses, in any case. tests/lint/test_plain.py checks it against plain.py. */
static const char *const refused[] = {
    "from", "sender", "reply-to", "to", "cc", "bcc", "resent-from", "resent-sender",
    "resent-to", "resent-cc", "resent-bcc", "disposition-notification-to",
    "mail-followup-to", "mail-reply-to", "date", "resent-date", "message-id",
    "resent-message-id", "content-id", "in-reply-to", "references", "content-type",
    "content-transfer-encoding", "mime-version", "content-disposition", NULL,
};

/* The captured MIME fields, in the order plain_header returns them. */
static const char *const captured[] = {
    "content-type", "content-transfer-encoding", "mime-version", NULL,
};

/* One field of _PLAIN_FIELD from i, its line break included; -1 if none.
 * Each name has one branch (the literal spellings, the captured MIME names,
 * or the generic branch, which refuses every other special name), so the
 * branch is picked by name. A capture is noted in spans. */
static Py_ssize_t
field(const Buf *s, Py_ssize_t i, Py_ssize_t spans[9])
{
    Py_ssize_t colon = run(s, i, K_NAME);
    if (colon == i || at(s, colon) != ':')
        return -1;
    const unsigned char *name = s->b + i;
    Py_ssize_t len = colon - i, j = colon + 1;
    if (name_exact(name, len, "From") || name_exact(name, len, "Sender")) {
        j = mailbox(s, fws(s, j));
        return j < 0 ? -1 : eol(s, fws(s, j));
    }
    if (name_exact(name, len, "To") || name_exact(name, len, "Cc")
            || name_exact(name, len, "Bcc") || name_exact(name, len, "Reply-To"))
        return eol(s, mailbox_list(s, j));
    if (name_exact(name, len, "Date"))
        return eol(s, date(s, j));
    if (name_exact(name, len, "Message-ID") || name_exact(name, len, "Message-Id")
            || name_exact(name, len, "Content-ID") || name_exact(name, len, "Content-Id")) {
        j = msg_id(s, fws(s, j));
        return j < 0 ? -1 : eol(s, fws(s, j));
    }
    if (name_exact(name, len, "In-Reply-To") || name_exact(name, len, "References")) {
        j = fws(s, j);
        Py_ssize_t k = msg_id(s, j);
        if (k < 0)
            return -1;
        do {
            j = fws(s, k);
        } while ((k = msg_id(s, j)) >= 0);
        return eol(s, j);
    }
    for (int c = 0; captured[c]; c++) {
        if (name_is(name, len, captured[c])) {
            Py_ssize_t end = text(s, j, 0);
            Py_ssize_t stop = eol(s, end);
            if (stop >= 0) {
                spans[3 * c] = i;
                spans[3 * c + 1] = j;
                spans[3 * c + 2] = end;
            }
            return stop;
        }
    }
    for (int r = 0; refused[r]; r++)
        if (name_is(name, len, refused[r]))
            return -1;
    return eol(s, text(s, j, 1));
}

static PyObject *
plain_header(PyObject *self, PyObject *arg)
{
    Py_buffer view;
    (void)self;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    Buf s = {(const unsigned char *)view.buf, view.len};
    Py_ssize_t spans[9] = {-1, -1, -1, -1, -1, -1, -1, -1, -1};
    Py_ssize_t i = 0, end = -1;
    for (;;) {
        Py_ssize_t next = field(&s, i, spans);
        if (next < 0) {
            end = i > 0 ? eol(&s, i) : -1;   /* (?:field)+ then the empty line */
            break;
        }
        i = next;
    }
    PyBuffer_Release(&view);
    if (end < 0)
        Py_RETURN_NONE;
    return Py_BuildValue("(nnnnnnnnnn)", end, spans[0], spans[1], spans[2], spans[3],
                         spans[4], spans[5], spans[6], spans[7], spans[8]);
}

/* ---- crlf_lines: the lines of data on the wire -------------------------- */

static PyObject *
crlf_lines(PyObject *self, PyObject *arg)
{
    Py_buffer view;
    (void)self;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *buf = (const unsigned char *)view.buf;
    Py_ssize_t n = view.len;
    Py_ssize_t bad = -1, first = -1, longest = 0, dots = 0;
    const unsigned char *hit = memchr(buf, '\0', (size_t)n);
    if (hit != NULL)
        bad = hit - buf;
    /* The first CR that no LF follows. */
    const unsigned char *p = buf, *q = buf + n;
    while (p < q && (p = memchr(p, '\r', (size_t)(q - p))) != NULL) {
        if (p + 1 == q || p[1] != '\n') {
            if (bad < 0 || p - buf < bad)
                bad = p - buf;
            break;
        }
        p += 2;
    }
    /* Lines end at CRLF; an LF without its CR ends none and is bad. */
    Py_ssize_t line = 0, at = 0;
    while (at < n) {
        const unsigned char *nl = memchr(buf + at, '\n', (size_t)(n - at));
        if (nl == NULL)
            break;
        Py_ssize_t i = nl - buf;
        if (i > line && buf[i - 1] == '\r') {
            Py_ssize_t length = i - 1 - line;
            if (first < 0)
                first = length;
            if (length > longest)
                longest = length;
            line = i + 1;
            if (line < n && buf[line] == '.')
                dots++;
        }
        else if (bad < 0 || i < bad) {
            bad = i;
        }
        at = i + 1;
    }
    Py_ssize_t last = n - line;
    if (first < 0)
        first = last;
    if (last > longest)
        longest = last;
    PyBuffer_Release(&view);
    return Py_BuildValue("(nnnnn)", bad, first, last, longest, dots);
}

static PyMethodDef methods[] = {
    {"scan_lines", scan_lines, METH_VARARGS,
     "scan_lines(data, start, end, limit) -> (lf, cr, crlf, [(start, length), ...])"},
    {"plain_header", plain_header, METH_O,
     "plain_header(data) -> None | (end, then (start, value start, value end) of "
     "Content-Type, Content-Transfer-Encoding and MIME-Version, -1 when absent)"},
    {"crlf_lines", crlf_lines, METH_O,
     "crlf_lines(data) -> (first bad octet or -1, first line's length, last line's "
     "length, longest line's length, lines after the first that start with '.')"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "mailfmt._speedups",
    "Optional C accelerators for the linter, the writer and the dot-stuffer.", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    init_kinds();
    return PyModule_Create(&module);
}
