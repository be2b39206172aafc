"""One pass over a span of lines for the line rules: how many LF, CR and
CRLF it holds, and which lines are over a length.

Two implementations give the same answers: ``mailfmt._speedups``, a small C
extension built when a compiler is at hand (one memchr pass, no copy), and
the pure-Python one below (a split and three counts, all in C builtins).
The C one is used when it is importable and ``MAILFMT_NO_SPEEDUPS`` is not
set; ``SPEEDUPS`` says which one is in use. tests/lint/test_scan.py holds
them to the same results on any bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ._shared import accelerated, lines_over

__all__ = ["BARE_CR", "SPEEDUPS", "scan_lines", "scan_lines_py"]

ScanResult = tuple[int, int, int, list[tuple[int, int]]]

#: a CR that no LF follows (the line rules list these; the scan only asks
#: whether there is one)
BARE_CR = re.compile(rb"\r(?!\n)")


def scan_lines_py(data: bytes, start: int, end: int, limit: int) -> ScanResult:
    """(LF count, CR count, CRLF count, (start, length) of each line over
    ``limit`` octets) in ``data[start:end]``, lines split at LF, a line's
    final CR not counted in its length; the offsets are ``data``'s.

    >>> scan_lines_py(b"ab\\r\\n" + b"x" * 5 + b"\\ncd\\r", 0, 14, 4)
    (2, 2, 1, [(4, 5)])
    """
    start = max(start, 0)
    end = max(min(end, len(data)), start)
    lines = data[start:end].split(b"\n")
    cr = data.count(b"\r", start, end)
    # Without a CR outside CRLF, every CR counts one CRLF: a search that
    # stops at each CR costs less than counting the pairs.
    crlf = 0 if not cr else cr if BARE_CR.search(data, start, end) is None \
        else data.count(b"\r\n", start, end)
    return len(lines) - 1, cr, crlf, lines_over(start, lines, limit)


scan_lines: Callable[[bytes, int, int, int], ScanResult]
scan_lines, SPEEDUPS = accelerated("scan_lines", scan_lines_py)
