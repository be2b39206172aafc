"""What the lines of some data are, split at CRLF, in one call: for the
dot-stuffer, which must refuse what may never reach a server and stuff the
lines that start with "." (RFC 5321 4.5.2), and for the writer's choice of a
transfer encoding (RFC 5322 2.1.1: lines of at most 998 octets).

``crlf_lines`` is the C function of mailfmt._speedups when it was built (one
memchr pass per kind of octet, no copy), else ``crlf_lines_py``: a split and
three counts, all in C builtins. tests/test_lines.py holds the two, and an
octet-by-octet reading, to the same answers on any bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ._accelerated import accelerated

__all__ = ["SPEEDUPS", "CrlfLines", "crlf_lines", "crlf_lines_py"]

#: (offset of the first bad octet or -1, first line's length, last line's
#: length, longest line's length, lines after the first starting with ".")
CrlfLines = tuple[int, int, int, int, int]

# RFC 5321 2.3.8: CR and LF only as CRLF; and no NUL (RFC 5322 2.3).
_BAD_OCTET = re.compile(rb"\x00|\r(?!\n)|(?<!\r)\n")


def crlf_lines_py(data: bytes) -> CrlfLines:
    r"""``data``'s lines, split at CRLF: the offset of its first octet that
    must never reach a server (a NUL, a CR that no LF follows, an LF that no
    CR precedes; -1 when there is none), the lengths of its first, last and
    longest lines, and how many lines after the first start with ".".

    >>> crlf_lines_py(b"ab\r\n.cde\r\nf")
    (-1, 2, 1, 4, 1)
    >>> crlf_lines_py(b"ab\ncd\x00")[0]
    2
    """
    lines = data.split(b"\r\n")
    n = len(lines) - 1
    bad = -1
    # Every CR and every LF is one of the n CRLFs exactly when each count is n.
    if b"\x00" in data or data.count(b"\r") != n or data.count(b"\n") != n:
        found = _BAD_OCTET.search(data)
        assert found is not None
        bad = found.start()
    dots = data.count(b"\r\n.")
    return bad, len(lines[0]), len(lines[-1]), max(map(len, lines)), dots


crlf_lines: Callable[[bytes], CrlfLines]
crlf_lines, SPEEDUPS = accelerated("crlf_lines", crlf_lines_py)
