"""Small helpers shared by the checks."""

from __future__ import annotations

__all__ = ["describe_bytes"]

_NAMES = {0x0D: "<CR>", 0x0A: "<LF>", 0x00: "<NUL>"}


def describe_bytes(data: bytes) -> str:
    """``b"\\n.\\r\\n"`` -> ``<LF>.<CR><LF>`` (as the SMTP RFCs write them)."""
    return "".join(_NAMES.get(b, chr(b)) for b in data)
