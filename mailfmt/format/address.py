"""Writing mailboxes, groups and address lists (RFC 5322 section 3.4) as chunks.

Display names go through one phrase encoder that picks atoms, a quoted string
or encoded words for the whole name, deliberately: structural characters
(``, < > @ : ;``) are never encoded and never left bare.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._grammar import PHRASE_ATOMS, PHRASE_ATOMS_UTF8
from ..models.address import Address, Group
from .encoded_word import encode_words
from .fold import Chunk

__all__ = ["address_list_chunks", "address_list_line", "phrase_chunks"]

def phrase_chunks(name: str, *, utf8: bool, room: int = 75) -> tuple[list[Chunk], bool]:
    """Chunks for a display name, and whether it was written as encoded words.

    ``room`` is the width left on the line the name starts on.
    """
    if "=?" in name or "?=" in name:
        # Text shaped like an encoded word is encoded, so no reader decodes it
        # into something the caller did not write (CPython decodes them even
        # inside quoted strings).
        return _encoded(name, room), True
    if utf8 or name.isascii():
        atoms = PHRASE_ATOMS_UTF8 if utf8 else PHRASE_ATOMS
        if atoms.fullmatch(name):
            words = name.split(" ")
            return [Chunk("", words[0]), *(Chunk(" ", w) for w in words[1:])], False
        return [Chunk("", '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"')], False
    return _encoded(name, room), True


def _encoded(name: str, room: int) -> list[Chunk]:
    words = encode_words(name, room)
    return [Chunk("", words[0]), *(Chunk(" ", w) for w in words[1:])]


def _mailbox_chunks(addr: Address, *, utf8: bool, room: int = 75,
                    as_written: bool = False) -> list[Chunk]:
    spec = addr.addr_spec if utf8 or as_written else addr.ascii_addr_spec
    # Message validation refuses non-ASCII local parts without utf8.
    assert spec is not None
    if not addr.display_name:
        return [Chunk("", spec)]
    chunks, _ = phrase_chunks(addr.display_name, utf8=utf8, room=room)
    chunks.append(Chunk(" ", f"<{spec}>"))
    return chunks


def _group_chunks(group: Group, *, utf8: bool, room: int = 75,
                  as_written: bool = False) -> list[Chunk]:
    chunks, encoded = phrase_chunks(group.display_name, utf8=utf8, room=room)
    # RFC 2047 5 (3): an encoded word in a phrase is separated from a special
    # by whitespace.
    if encoded:
        chunks.append(Chunk(" ", ":"))
    else:
        chunks[-1] = Chunk(chunks[-1].ws, chunks[-1].text + ":")
    if not group.members:
        chunks[-1] = Chunk(chunks[-1].ws, chunks[-1].text + ";")
        return chunks
    for i, member in enumerate(group.members):
        mchunks = _mailbox_chunks(member, utf8=utf8, as_written=as_written)
        mchunks[0] = Chunk(" ", mchunks[0].text)
        last = mchunks[-1]
        mchunks[-1] = Chunk(last.ws, last.text + ("," if i < len(group.members) - 1 else ";"))
        chunks.extend(mchunks)
    return chunks


def address_list_chunks(
    items: Sequence[Address | Group], *, utf8: bool, room: int = 75, as_written: bool = False
) -> list[Chunk]:
    """Chunks for an address-list: mailboxes and groups separated by ', '.

    ``room`` is the width left on the first line (after "Name: ").
    ``as_written``: each addr-spec as it is, not in the form email-validator
    normalizes (for rewriting a field read from a message: ``mailfmt fmt``).
    """
    out: list[Chunk] = []
    for i, item in enumerate(items):
        r = room if i == 0 else 75
        chunks = (_group_chunks(item, utf8=utf8, room=r, as_written=as_written)
                  if isinstance(item, Group)
                  else _mailbox_chunks(item, utf8=utf8, room=r, as_written=as_written))
        if i:
            chunks[0] = Chunk(" ", chunks[0].text)
        if i < len(items) - 1:
            chunks[-1] = Chunk(chunks[-1].ws, chunks[-1].text + ",")
        out.extend(chunks)
    return out


def address_list_line(items: Sequence[Address | Group], *, utf8: bool) -> str | None:
    """The address-list as address_list_chunks and an unfolded line give it,
    when every item is a mailbox without a display name (the usual From and
    To); None otherwise. Asked for every message written."""
    specs = []
    for item in items:
        if type(item) is not Address or item.display_name:
            return None
        spec = item.addr_spec if utf8 else item.ascii_addr_spec
        if spec is None:
            return None
        specs.append(spec)
    return ", ".join(specs)
