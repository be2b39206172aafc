"""Small helpers shared by the checks."""

from __future__ import annotations

from itertools import compress, count, repeat
from operator import gt

from .._accelerated import accelerated

__all__ = ["accelerated", "describe_bytes", "lines_over"]

_NAMES = {0x0D: "<CR>", 0x0A: "<LF>", 0x00: "<NUL>"}


def describe_bytes(data: bytes) -> str:
    """``b"\\n.\\r\\n"`` -> ``<LF>.<CR><LF>`` (as the SMTP RFCs write them)."""
    return "".join(_NAMES.get(b, chr(b)) for b in data)


def lines_over(pos: int, lines: list[bytes], limit: int) -> list[tuple[int, int]]:
    """(start, length) of each line longer than ``limit`` octets, the CR of
    its CRLF (or a CR that ends the last line) not counted. ``lines`` is a
    split on LF whose first line starts at offset ``pos``.
    """
    if max(map(len, lines)) <= limit:
        return []   # the usual answer, asked per message: no generator to make
    # The candidates are found in C (compress); a candidate's start is the
    # last one's plus the lengths between, summed in C, so the work is linear
    # whatever the number of candidates. One more octet may be a CR.
    lens = list(map(len, lines))
    out = []
    start, at = pos, 0
    for i in compress(count(), map(gt, lens, repeat(limit))):
        start += sum(lens[at:i]) + i - at
        at = i
        n = lens[i]
        length = n - 1 if lines[i][-1:] == b"\r" else n
        if length > limit:
            out.append((start, length))
    return out
