"""Unstructured and extra header fields, for the message and its body parts."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..models._extra import ADDRESS_EXTRAS, extra_addresses
from ..models.header import Header, is_raw_header
from ..policy import Policy
from .address import address_list_chunks
from .fold import Chunk, field_line, fold, unstructured_chunks

__all__ = ["extra_fields", "unstructured_field"]

_WORD = re.compile(r"([ \t]*)([^ \t]+)")


def unstructured_field(name: str, value: str, policy: Policy) -> str:
    """``name: value``, folded, with RFC 2047 encoded words where the text needs them."""
    lim = policy.max_line_length
    # Short ASCII text with nothing that reads as an encoded word is
    # written as it is: what unstructured_chunks and fold would give.
    if (value.isascii() and len(name) + 2 + len(value) <= lim
            and "=?" not in value and "?=" not in value):
        return field_line(name, value)
    return fold(name, unstructured_chunks(value, utf8=policy.utf8, room=lim - len(name) - 2),
                limit=lim, lead=False)


def extra_fields(headers: Sequence[Header], policy: Policy, *, top: bool = False) -> str:
    """The given fields in order: trace and signature fields (is_raw_header)
    as they are, folded only at their blanks; the others as text. ``top``:
    the message's own fields, where the address fields the model checks
    (models._extra) are written as To is, and Resent-Bcc, like Bcc, is not
    written at all (RFC 5322 3.6.3 and 3.6.6: its addresses are envelope
    recipients only)."""
    out = []
    lim = policy.max_line_length
    for h in headers:
        key = h.name.lower()
        if top and key in ADDRESS_EXTRAS:
            if key == "resent-bcc":
                continue
            items = extra_addresses(h.name, h.value, policy)
            out.append(fold(h.name, address_list_chunks(items, utf8=policy.utf8,
                                                        room=lim - len(h.name) - 2), limit=lim))
        elif is_raw_header(h.name):
            chunks = [Chunk(ws, w) for ws, w in _WORD.findall(h.value)]
            out.append(fold(h.name, chunks, limit=policy.max_line_length))
        else:
            out.append(unstructured_field(h.name, h.value, policy))
    return "".join(out)
