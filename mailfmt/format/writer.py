"""Message -> bytes, streamed: the header block, then the MIME entities."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from ..errors import FormatError
from .address import address_list_chunks, address_list_line
from .fields import extra_fields, unstructured_field
from .fold import Chunk, field_line, fold
from .mime import build_entity, plain_text_entity

if TYPE_CHECKING:
    from ..models.address import Address, Group
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
    hh, mm = divmod(abs(minutes), 60)
    # %-formatting: one call, faster than an f-string of nine format specs
    return "%s, %02d %s %04d %02d:%02d:%02d %s%02d%02d" % (  # noqa: UP031
        _DAYS[d.weekday()], d.day, _MONTHS[d.month - 1], d.year, d.hour, d.minute, d.second,
        "-" if minutes < 0 else "+", hh, mm)


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

    def addresses(name: str, items: Sequence[Address | Group]) -> str:
        # Bare addresses that fit on the line (most From and To fields):
        # what fold's own shortcut would give, without making the chunks.
        line = address_list_line(items, utf8=utf8)
        if line is not None and len(name) + 2 + len(line) <= lim and line.isascii():
            return field_line(name, line)
        return fold(name, address_list_chunks(items, utf8=utf8, room=room(name)), limit=lim)

    out = [unstructured_field("Date", format_date(msg.date), p)]
    out.append(addresses("From", msg.from_))
    if msg.sender is not None:
        out.append(addresses("Sender", [msg.sender]))
    for name, items in (("Reply-To", msg.reply_to), ("To", msg.to), ("Cc", msg.cc)):
        if items:
            out.append(addresses(name, items))
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
    if msg.text is not None and msg.body is None and msg.html is None and not msg.attachments:
        # Plain text alone: its entity, without the TextPart mime_tree()
        # would make for it (a pydantic model, 4 us of a 26 us message).
        entity = plain_text_entity(msg.text, msg.policy)
    else:
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
