"""The positioned source view: the raw bytes, line numbers computed only for
findings, and header sections read leniently with every byte's place kept.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Field", "Section", "field_at", "fields_of", "read_section"]

_FIELD_START = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:")
# One well-formed field, continuation lines included: the fast path. Lines it
# does not match go through the line-by-line reader below.
_FIELD = re.compile(rb"([\x21-\x39\x3b-\x7e]+)([ \t]*):([^\n]*)\n((?:[ \t][^\n]*\n)*)")
# A whole section of well-formed fields up to its empty line: the common case,
# read with one match and one findall instead of line by line. Field names
# cannot start with a blank, so how the fields split is unambiguous.
_SECTION = re.compile(rb"(?:[\x21-\x39\x3b-\x7e]+[ \t]*:[^\n]*\n(?:[ \t][^\n]*\n)*)*\r?\n")


@dataclass(slots=True)
class Field:
    """A header field: its name, its unfolded value, and where each piece was."""

    name: str
    offset: int
    value: str
    #: (index in value, octets from ``offset``) at the start of each physical
    #: line piece: relative, so that the same field found again at another
    #: offset shares them
    pieces: list[tuple[int, int]] = field(default_factory=list)
    obsolete_space: bool = False
    #: the name in lower case, the key every check looks fields up by
    key: str = ""

    def shifted(self, delta: int) -> Field:
        """The same field ``delta`` octets further on (read once, found again
        at another offset)."""
        # The pieces are never changed once a field is read: shared.
        return Field(self.name, self.offset + delta, self.value, self.pieces,
                     self.obsolete_space, self.key)

    def value_start(self) -> int:
        """Byte offset of the value's first non-blank character."""
        return self.offset_of(len(self.value) - len(self.value.lstrip(" \t")))

    def offset_of(self, index: int) -> int:
        """Byte offset of character ``index`` of the unfolded value."""
        i = bisect.bisect_right(self.pieces, (index, 1 << 62)) - 1
        if i < 0:
            return self.offset
        start, off = self.pieces[i]
        return self.offset + off + (index - start)


@dataclass(slots=True)
class Section:
    """A header section: fields, stray lines, and where the body starts."""

    fields: list[Field]
    body_start: int
    #: (kind, offset): "no-colon", "continuation-first", "bad-name", "no-separator"
    problems: list[tuple[str, int]] = field(default_factory=list)


def read_section(raw: bytes, start: int, end: int, max_fields: int) -> Section:
    """Read the header section of the entity ``raw[start:end]``, leniently.

    Lines end at LF, with or without CR (the line rules report the bare ones).
    Values are decoded as Latin-1 so that one character is one octet and
    every finding maps back to its byte exactly.
    """
    whole = _SECTION.match(raw, start, end)
    if whole is not None:
        found = _FIELD.findall(raw, start, whole.end())
        if len(found) <= max_fields:
            return Section(fields_of(found, start), whole.end())
    fields: list[Field] = []
    problems: list[tuple[str, int]] = []
    pos = start
    find = raw.find
    match = _FIELD.match
    while pos < end:
        m = match(raw, pos, end)
        if m is not None and len(fields) < max_fields:
            fields.extend(fields_of([m.groups()], pos))
            pos = m.end()
            continue
        nl = find(b"\n", pos, end)
        eol = end if nl == -1 else nl
        content_end = eol - 1 if eol > pos and raw[eol - 1] == 0x0D else eol
        nxt = end if nl == -1 else nl + 1
        if content_end == pos:
            return Section(fields, nxt, problems)
        first = raw[pos]
        if first in (0x20, 0x09):
            if not fields:
                problems.append(("continuation-first", pos))
            else:
                f = fields[-1]
                f.pieces.append((len(f.value), pos - f.offset))
                f.value += raw[pos:content_end].decode("latin-1")
            pos = nxt
            continue
        colon = find(b":", pos, content_end)
        if colon == -1:
            if _more_fields_follow(raw, nxt, end):
                problems.append(("no-colon", pos))
                pos = nxt
                continue
            problems.append(("no-separator", pos))
            return Section(fields, pos, problems)
        name = raw[pos:colon]
        stripped = name.rstrip(b" \t")
        if len(fields) >= max_fields:
            problems.append(("too-many", pos))
            return Section(fields, _skip_to_body(raw, pos, end), problems)
        if not stripped or not _FIELD_START.match(raw, pos, colon + 1) or b" " in stripped \
                or b"\t" in stripped:
            problems.append(("bad-name", pos))
        text = stripped.decode("latin-1")
        f = Field(text, pos, raw[colon + 1:content_end].decode("latin-1"),
                  [(0, colon + 1 - pos)], len(stripped) != len(name), text.lower())
        fields.append(f)
        pos = nxt
    return Section(fields, end, problems)


def fields_of(found: list[tuple[Any, ...]], pos: int) -> list[Field]:
    """Fields from consecutive ``_FIELD`` matches (their four groups) that
    begin at ``pos``."""
    fields = []
    for name, blank, value, cont in found:
        at = pos + len(name) + len(blank) + 1
        text = (value[:-1] if value[-1:] == b"\r" else value).decode("latin-1")
        key = name.decode("latin-1")
        start = pos
        f = Field(key, pos, text, [(0, at - pos)], bool(blank), key.lower())
        pos = at + len(value) + 1
        if cont:
            # The value is joined once: adding to it line by line would copy
            # it again for every continuation line (quadratic).
            parts = [text]
            length = len(text)
            for line in cont.split(b"\n")[:-1]:
                piece = (line[:-1] if line[-1:] == b"\r" else line).decode("latin-1")
                f.pieces.append((length, pos - start))
                parts.append(piece)
                length += len(piece)
                pos += len(line) + 1
            f.value = "".join(parts)
        fields.append(f)
    return fields


def field_at(raw: bytes, pos: int) -> Field:
    """The well-formed field that starts at ``raw[pos]`` (the caller knows
    one does)."""
    m = _FIELD.match(raw, pos)
    if m is None:
        raise ValueError(f"no header field at offset {pos}")
    return fields_of([m.groups()], pos)[0]


def _more_fields_follow(raw: bytes, pos: int, end: int) -> bool:
    """Whether a field line follows before the next empty line (bounded scan)."""
    limit = min(end, pos + 64 * 1024)
    while pos < limit:
        nl = raw.find(b"\n", pos, limit)
        eol = limit if nl == -1 else nl
        line = raw[pos:eol].rstrip(b"\r")
        if not line:
            return False
        if _FIELD_START.match(line):
            return True
        if nl == -1:
            return False
        pos = nl + 1
    return False


def _skip_to_body(raw: bytes, pos: int, end: int) -> int:
    m = re.compile(rb"\r?\n\r?\n").search(raw, pos, end)
    return m.end() if m else end
