"""Message -> bytes, streamed: the header block, then the MIME entities."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from ..errors import FormatError
from .address import address_list_chunks
from .fields import extra_fields, unstructured_field
from .fold import Chunk, fold
from .mime import build_entity

if TYPE_CHECKING:
    from ..models.message import Message

__all__ = ["format_date", "iter_message", "message_headers"]

# What a header block may never contain (CVE-2024-6923's check, made
# stricter): a CR or LF outside CRLF, a NUL, or a line after CRLF that neither
# continues a field (WSP) nor starts one (a field name and a colon).
# Every branch opens with a literal octet, so the engine skips to candidates.
_BAD_HEADER_BYTES = re.compile(
    rb"\r(?!\n)|\n(?<!\r\n)|\x00|\r\n(?![ \t]|[\x21-\x39\x3b-\x7e]+:|$)"
)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(d: datetime) -> str:
    """RFC 5322 3.3 date-time, e.g. ``Fri, 21 Nov 1997 09:55:06 -0600``."""
    offset = d.utcoffset()
    assert offset is not None  # the model only holds aware datetimes
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    return (f"{_DAYS[d.weekday()]}, {d.day:02d} {_MONTHS[d.month - 1]} {d.year:04d} "
            f"{d.hour:02d}:{d.minute:02d}:{d.second:02d} {sign}{hh:02d}{mm:02d}")


def _words(value: str) -> list[Chunk]:
    words = value.split(" ")
    return [Chunk("", words[0]), *(Chunk(" ", w) for w in words[1:])]


def message_headers(msg: Message) -> str:
    """The top-level header fields (without the MIME ones), folded."""
    p = msg.policy
    lim = p.max_line_length
    utf8 = p.utf8

    def room(name: str) -> int:
        return lim - len(name) - 2

    out = [unstructured_field("Date", format_date(msg.date), p)]
    out.append(fold("From", address_list_chunks(msg.from_, utf8=utf8, room=room("From")),
                    limit=lim))
    if msg.sender is not None:
        out.append(fold("Sender", address_list_chunks([msg.sender], utf8=utf8,
                                                      room=room("Sender")), limit=lim))
    for name, items in (("Reply-To", msg.reply_to), ("To", msg.to), ("Cc", msg.cc)):
        if items:
            out.append(fold(name, address_list_chunks(items, utf8=utf8, room=room(name)),
                            limit=lim))
    # Bcc is never written: it travels in the envelope only (RFC 5322 3.6.3,
    # the first of the three ways it allows).
    if msg.subject is not None:
        out.append(unstructured_field("Subject", msg.subject, p))
    assert msg.message_id is not None
    out.append(fold("Message-ID", [Chunk("", msg.message_id)], limit=lim))
    if msg.in_reply_to:
        out.append(fold("In-Reply-To", _words(" ".join(msg.in_reply_to)), limit=lim))
    if msg.references:
        out.append(fold("References", _words(" ".join(msg.references)), limit=lim))
    out.append(extra_fields(msg.headers, p, top=True))
    out.append("MIME-Version: 1.0\r\n")
    return "".join(out)


def iter_message(msg: Message) -> Iterator[bytes]:
    """Yield the message's bytes: header block first, then the body in chunks."""
    assert msg.message_id is not None
    entity = build_entity(msg.mime_tree(), msg.policy, seed=msg.message_id)
    head = (message_headers(msg) + entity.headers).encode("utf-8")
    # The models are validated so these cannot fire; they are the last line
    # of defence against a formatter bug (or a model made without
    # validation) turning into header injection: every header block, the
    # body parts' too, before the first byte is written.
    _check_block(head, msg.policy.utf8, "header block")
    stack = list(entity.children)
    while stack:
        part = stack.pop()
        _check_block(part.headers.encode("utf-8"), msg.policy.utf8, "a body part's header block")
        stack.extend(part.children)
    chunks = entity.iter_bytes()
    next(chunks)  # the entity's own header block, already in ``head``
    yield head + b"\r\n"
    yield from chunks
    if entity.boundary is not None:
        yield b"\r\n"


def _check_block(head: bytes, utf8: bool, where: str) -> None:
    bad = _BAD_HEADER_BYTES.search(head)
    if bad:
        raise FormatError("line-break-in-value", field=where, char=repr(bad.group()),
                          index=bad.start(), offset=bad.start())
    if not utf8 and not head.isascii():
        raise FormatError("non-ascii-header", field=where)
