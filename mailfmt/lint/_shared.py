"""Small helpers shared by the checks."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import accumulate, compress, count, repeat
from operator import add, gt

__all__ = ["describe_bytes", "lines_over"]

_NAMES = {0x0D: "<CR>", 0x0A: "<LF>", 0x00: "<NUL>"}


def describe_bytes(data: bytes) -> str:
    """``b"\\n.\\r\\n"`` -> ``<LF>.<CR><LF>`` (as the SMTP RFCs write them)."""
    return "".join(_NAMES.get(b, chr(b)) for b in data)


def lines_over(raw: bytes, pos: int, lines: list[bytes], limit: int) -> Iterator[tuple[int, int]]:
    """(start, length) of each line longer than ``limit`` octets, the CR of
    its CRLF not counted. ``lines`` is a split on LF whose first line starts
    at ``raw[pos]``.
    """
    lens = list(map(len, lines))
    if max(lens) <= limit:
        return      # one more octet may be a CR: the loop below tells
    # The candidates and the line starts are found in C (compress,
    # accumulate); only the candidates are looked at one by one.
    starts = list(accumulate(map(add, lens, repeat(1)), initial=pos))
    for i in compress(count(), map(gt, lens, repeat(limit))):
        n, start = lens[i], starts[i]
        length = n - 1 if raw[start + n - 1] == 0x0D else n
        if length > limit:
            yield start, length
