"""RFC 2047 encoded words: encoding text into words of at most 75 characters,
and strict decoding.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator

from .._charset import codec_for
from .._grammar import ENCODED_WORD, FORBIDDEN_IN_VALUE, QP_SAFE_IN_PHRASE
from .._limits import MAX_ENCODED_WORD
from .transfer import decode_base64

__all__ = ["EncodedWordError", "decode_words", "encode_words"]

_PREFIX = "=?utf-8?"
_SUFFIX = "?="
# "=?utf-8?q?" + text + "?=" must stay within 75 characters (RFC 2047 section 2).
_ROOM = MAX_ENCODED_WORD - len(_PREFIX) - len("q?") - len(_SUFFIX)

# Q-encoded form of each character, precomputed for the 128 ASCII code points.
# RFC 2047 4.2: "_" stands for SPACE; "=", "?", "_" and every non-safe octet
# become =XX. Only the phrase-safe set of 5 (3) is left literal, which is also
# safe in unstructured text.
_Q_ASCII = [
    "_" if c == 0x20 else chr(c) if QP_SAFE_IN_PHRASE.fullmatch(chr(c)) else f"={c:02X}"
    for c in range(128)
]


def _q_char(ch: str) -> str:
    o = ord(ch)
    if o < 128:
        return _Q_ASCII[o]
    return "".join(f"={b:02X}" for b in ch.encode("utf-8"))


def _pieces(text: str, cost: list[int], rooms: Iterator[int]) -> list[str]:
    """Cut ``text`` into pieces whose summed ``cost`` fits each room in turn.

    A cut goes right after a space when the piece has one: CPython 3.11 keeps
    the whitespace between adjacent encoded words in a phrase (RFC 2047 6.2
    says to drop it), so cutting after a space makes both kinds of reader
    show the same words.
    """
    pieces: list[str] = []
    start = 0
    room = next(rooms)
    size = 0
    last_space = -1
    i = 0
    while i < len(text):
        if size + cost[i] > room and i > start:
            cut = last_space + 1 if last_space >= start else i
            pieces.append(text[start:cut])
            start, i, size, last_space = cut, cut, 0, -1
            room = next(rooms)
            continue
        if text[i] == " ":
            last_space = i
        size += cost[i]
        i += 1
    pieces.append(text[start:])
    return pieces


def _rooms(first: int, rest: int) -> Iterator[int]:
    yield first
    while True:
        yield rest


def _b_split(text: str, first: int) -> list[str]:
    """Base64 words: 45 octets of UTF-8 give 60 base64 chars (+ 12 = 72 <= 75)."""
    cost = [len(ch.encode("utf-8")) for ch in text]
    pieces = _pieces(text, cost, _rooms(min(45, (first - 12) // 4 * 3), 45))
    return [_PREFIX + "b?" + _b64(p) + _SUFFIX for p in pieces]


def _b64(text: str) -> str:
    return binascii.b2a_base64(text.encode("utf-8"), newline=False).decode("ascii")


def _q_split(text: str, first: int) -> list[str]:
    # A character's octets are never split across words (RFC 2047 section 5:
    # "each 'encoded-word' MUST represent an integral number of characters").
    encoded = [_q_char(ch) for ch in text]
    pieces = _pieces(text, [len(e) for e in encoded],
                     _rooms(min(_ROOM, first - (MAX_ENCODED_WORD - _ROOM)), _ROOM))
    return [_PREFIX + "q?" + "".join(_q_char(c) for c in p) + _SUFFIX for p in pieces]


def encode_words(text: str, first: int = MAX_ENCODED_WORD) -> list[str]:
    """Encode ``text`` (non-empty) as UTF-8 encoded words, each at most 75 chars
    and the first at most ``first`` (the room left on the line it starts), as
    far as one character allows.

    Q or B is chosen by the total encoded length, so mostly-ASCII text stays
    readable. Decoders drop the whitespace between adjacent encoded words
    (RFC 2047 section 6.2), so the words may be joined with single spaces.
    """
    q_len = sum(len(_q_char(c)) for c in text)
    b_len = (len(text.encode("utf-8")) + 2) // 3 * 4
    first = min(first, MAX_ENCODED_WORD)
    return _q_split(text, first) if q_len <= b_len else _b_split(text, first)


class EncodedWordError(ValueError):
    """An encoded word that cannot be decoded safely."""

    def __init__(self, word: str, reason: str) -> None:
        super().__init__(reason)
        self.word = word
        self.reason = reason


_Q_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


def _word_bytes(m: re.Match[str]) -> tuple[str, bytes]:
    """The codec and the octets of one encoded word."""
    word = m.group(0)
    charset = m.group("charset").lower()
    codec = codec_for(charset)
    if codec is None:
        raise EncodedWordError(word, f"unknown charset {charset!r}")
    text = m.group("text").encode("ascii")
    if m.group("encoding") in "Bb":
        try:
            return codec.name, decode_base64(text)
        except ValueError:
            raise EncodedWordError(word, "invalid base64 text") from None
    if re.search(rb"=(?![0-9A-Fa-f]{2})", text):
        raise EncodedWordError(word, "'=' not followed by two hex digits")
    return codec.name, _Q_HEX.sub(lambda h: bytes([int(h.group(1), 16)]),
                                  text.replace(b"_", b" "))


def _decoded(word: str, raw: bytes, codec: str, charset: str) -> str:
    try:
        decoded = raw.decode(codec)
    except UnicodeDecodeError:
        raise EncodedWordError(word, f"text is not valid {charset}") from None
    # CVE-2024-6923: a word that decodes to a line break or control character
    # would inject headers the moment the value is written out again.
    if FORBIDDEN_IN_VALUE.search(decoded):
        raise EncodedWordError(word, "decodes to a control character or line break")
    return decoded


def _decode_one(m: re.Match[str]) -> str:
    codec, raw = _word_bytes(m)
    return _decoded(m.group(0), raw, codec, m.group("charset").lower())


def _decode_joined(words: list[re.Match[str]]) -> str:
    """Adjacent words decoded as readers do (the stdlib among them): the
    octets of neighbours in one charset joined first, which mends a
    character split across two words, what RFC 2047 5 forbids writing."""
    out: list[str] = []
    group: list[re.Match[str]] = []
    octets = b""
    codec = ""

    def flush() -> None:
        if group:
            out.append(_decoded(" ".join(w.group(0) for w in group), octets, codec,
                                group[0].group("charset").lower()))
    for w in words:
        name, raw = _word_bytes(w)
        if name != codec:
            flush()
            group, octets, codec = [], b"", name
        group.append(w)
        octets += raw
    flush()
    return "".join(out)


_EW_ANON = re.sub(r"\?P<\w+>", "", ENCODED_WORD.pattern)
_EW_RUN = re.compile(rf"(?:{_EW_ANON})(?:[ \t]+(?:{_EW_ANON}))*")
_GAP = re.compile(r"(?<=\?=)[ \t]+(?==\?)")


def decode_words(value: str, *, join_split: bool = False) -> str:
    """Decode every encoded word in unstructured text (RFC 2047 section 6).

    Whitespace between adjacent encoded words is dropped; whitespace between
    an encoded word and plain text is kept. Raises :class:`EncodedWordError`.
    ``join_split``: decode adjacent words in one charset together, as
    readers do, so that a character split across two of them is read.

    >>> decode_words("=?utf-8?q?caf=C3?= =?utf-8?q?=A9?=", join_split=True)
    'café'
    """
    if "=?" not in value:
        return value

    def run(m: re.Match[str]) -> str:
        words = list(ENCODED_WORD.finditer(_GAP.sub("", m.group(0))))
        if join_split:
            return _decode_joined(words)
        return "".join(_decode_one(w) for w in words)

    return _EW_RUN.sub(run, value)
