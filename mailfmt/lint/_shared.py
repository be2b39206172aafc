"""Small helpers shared by the checks."""

from __future__ import annotations

from collections.abc import Iterator

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
    if max(map(len, lines)) <= limit:
        return      # one more octet may be a CR: the loop below tells
    for n in map(len, lines):
        length = n - 1 if n and raw[pos + n - 1] == 0x0D else n
        if length > limit:
            yield pos, length
        pos += n + 1
