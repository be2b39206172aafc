"""Header folding (RFC 5322 section 2.2.3).

A header value is handed over as a list of :class:`Chunk`: unbreakable text,
each with the whitespace that precedes it. A fold inserts CRLF *before* that
whitespace, so unfolding (removing the CRLF) gives back exactly the original
value. Folding never happens anywhere else: not inside a quoted string, an
addr-spec, a msg-id or an encoded word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .._limits import MAX_LINE
from ..errors import FormatError, RuleError
from .encoded_word import encode_words

__all__ = ["Chunk", "field_line", "fold", "octets", "unstructured_chunks"]


@dataclass(frozen=True, slots=True)
class Chunk:
    """Unbreakable ``text``, preceded by ``ws`` (empty: no fold point before it)."""

    ws: str
    text: str


def octets(s: str) -> int:
    """Length in octets once written (UTF-8 when non-ASCII is allowed at all)."""
    return len(s) if s.isascii() else len(s.encode("utf-8"))


def fold(name: str, chunks: Sequence[Chunk], *, limit: int = 78, lead: bool = True) -> str:
    """Write ``Name: value`` folded at chunk boundaries to at most ``limit`` octets.

    A chunk longer than the line is written on a line of its own; a line over
    998 octets raises rule S101 (the models check their inputs so that this
    cannot happen for a valid model). ``lead``: the value may open with a
    fold, as a structured one may (its leading CFWS means nothing);
    unstructured text keeps a leading blank, so its first chunk stays on the
    field's own line.
    """
    if chunks:
        # Fast path: most fields fit on one line as they are.
        flat = chunks[0].text + "".join([c.ws + c.text for c in chunks[1:]])
        if len(name) + 2 + len(flat) <= limit and flat.isascii():
            return field_line(name, flat)
    out: list[str] = []
    line = name + ":"
    width = len(line)
    first = True
    for chunk in chunks:
        n = octets(chunk.text)
        if first:
            first = False
            if lead and width + 1 + n > limit and n < MAX_LINE:
                # Rare: a long field name and an unbreakable first token. FWS
                # may open the value (RFC 5322 3.2.2), so it goes on line two.
                out.append(line)
                line, width = " " + chunk.text, 1 + n
            else:
                line += " " + chunk.text
                width += 1 + n
            continue
        w = octets(chunk.ws) if chunk.ws else 0
        if chunk.ws and chunk.text and width + w + n > limit:
            out.append(line)
            _check(name, line, width)
            line = chunk.ws + chunk.text
            width = w + n
        else:
            line += chunk.ws + chunk.text
            width += w + n
    if first:
        line += " "
        width += 1
    _check(name, line, width)
    out.append(line)
    folded = "\r\n".join(out) + "\r\n"
    if folded.count("\n") != len(out) or folded.count("\r") != len(out):
        _refuse_break(name, folded[:-2])
    return folded


def field_line(name: str, value: str) -> str:
    """``name: value`` as one line. The models refuse line breaks in values;
    this is the last check that none reaches the wire, where it would start
    a field of its own (header injection)."""
    if "\r" in value or "\n" in value:
        _refuse_break(name, value)
    return f"{name}: {value}\r\n"


def _refuse_break(name: str, text: str) -> None:
    # Only a fold (CRLF then a blank) may break a field's line.
    m = re.search(r"\r\n(?![ \t])|\r(?!\n)|(?<!\r)\n", text)
    if m is not None:
        raise FormatError("line-break-in-value", field=name, index=m.start(),
                          char=f"U+{ord(m.group()[-1]):04X}")


def _check(name: str, line: str, width: int) -> None:
    if width > MAX_LINE:
        raise RuleError("line-too-long", field=name, where=f"a {name} header",
                        length=width, limit=MAX_LINE)


_WORDS = re.compile(r"([ \t]*)([^ \t]+)")
# Longest word written as it is; longer ones are carried in encoded words so
# that the field can still be folded below 998 octets.
_LONGEST_PLAIN_WORD = 900
# The least room an encoded word holding a character needs: "=?utf-8?b?",
# four base64 characters, "?=".
_LEAST_WORD_ROOM = 16


def _needs_encoding(word: str, utf8: bool, literal: bool = True) -> bool:
    if not word.isascii() and not utf8:
        return True
    # Literal text that a lenient decoder could read as an encoded word is
    # encoded itself (CPython decodes "=?...?=" even across spaces). Text read
    # from a message (literal=False) already means what its words decode to.
    if literal and ("=?" in word or "?=" in word):
        return True
    return literal and octets(word) > _LONGEST_PLAIN_WORD


def unstructured_chunks(value: str, *, utf8: bool, room: int = 75,
                        literal: bool = True) -> list[Chunk]:
    """Chunks for RFC 5322 ``unstructured`` text (Subject, Comments, X-*).

    Runs of words that need encoding are encoded together, whitespace
    included, so that decoding gives back exactly ``value``. ``room`` is the
    width left on the first line, for an encoded word that starts there.
    ``literal=False`` is for text taken from a message: existing encoded
    words and long words are left as they are, only non-ASCII is encoded.
    """
    words = _WORDS.findall(value)
    chunks: list[Chunk] = []
    i = 0
    while i < len(words):
        ws, word = words[i]
        # A first word too long for the field's line cannot go on the next
        # line: the fold would open the text with a blank that unstructured
        # text keeps (CPython reads " word"). Encoded words can be cut to fit
        # the line; with SMTPUTF8 text stays raw, and the word stays on the
        # field's line, longer than 78 (fold(lead=False)).
        too_long_first = (literal and not utf8 and not chunks and not ws
                          and room >= _LEAST_WORD_ROOM and octets(word) > room)
        if not too_long_first and not _needs_encoding(word, utf8, literal):
            chunks.append(Chunk(ws, word))
            i += 1
            continue
        run = [word]
        j = i + 1
        while j < len(words) and _needs_encoding(words[j][1], utf8, literal):
            run.append(words[j][0] + words[j][1])
            j += 1
        encoded = encode_words("".join(run), room if not chunks else 75)
        chunks.append(Chunk(ws, encoded[0]))
        chunks.extend(Chunk(" ", w) for w in encoded[1:])
        i = j
    trailing = value[len(value.rstrip(" \t")):] if value.strip(" \t") else value
    if trailing:
        chunks.append(Chunk(trailing, ""))
    return chunks
