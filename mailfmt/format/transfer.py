"""Content-Transfer-Encoding: choosing 7bit / 8bit / quoted-printable / base64
by cost, and the codecs (the C ones in :mod:`binascii`).
"""

from __future__ import annotations

import binascii
import re
import sys
from collections.abc import Iterator
from typing import Literal

from .._limits import MAX_ENCODED_LINE
from .._lines import SPEEDUPS, crlf_lines

__all__ = [
    "B64_CHUNK",
    "DecodeError",
    "TransferEncoding",
    "b64_lines",
    "choose_text_encoding",
    "decode_base64",
    "decode_qp",
    "encode_qp",
    "max_line_length",
    "normalize_line_ends",
    "normalize_newlines",
    "qp_trailing_blank",
]

TransferEncoding = Literal["7bit", "8bit", "quoted-printable", "base64"]

_NEWLINES = re.compile(r"\r\n|\r|\n")

#: Bytes per base64 line: 57 octets encode to exactly 76 characters (RFC 2045 6.8).
_B64_LINE_IN = MAX_ENCODED_LINE // 4 * 3
#: Read size for streamed attachments: a whole number of base64 lines.
B64_CHUNK = _B64_LINE_IN * 1024


def normalize_newlines(text: str) -> str:
    """CRLF, CR and LF all become CRLF."""
    if "\r" not in text and "\n" not in text:
        return text
    return _NEWLINES.sub("\r\n", text)


_LINE_ENDS = re.compile(rb"\r\n|\r|\n")


def normalize_line_ends(data: bytes) -> bytes:
    """The bytes version of :func:`normalize_newlines`."""
    if b"\r" not in data and b"\n" not in data:
        return data
    return _LINE_ENDS.sub(b"\r\n", data)


def max_line_length(data: bytes) -> int:
    """Longest line in octets, CRLF excluded (``data`` has CRLF line ends only)."""
    if SPEEDUPS:
        return crlf_lines(data)[3]      # one pass in C
    # Without C, a split does less than the twin, which also counts CRs,
    # LFs and dot lines.
    if b"\r\n" not in data:
        return len(data)
    return max(map(len, data.split(b"\r\n")))


def encode_qp(data: bytes) -> bytes:
    """Quoted-printable with CRLF line ends and lines of at most 76 characters.

    ``binascii.b2a_qp`` copies the line ending it first sees into its soft
    breaks, and writes a bare ``=\\n`` when the data has none, so a CRLF is
    added for it and removed again.
    """
    if data.endswith(b"\r\n"):
        out = binascii.b2a_qp(data, istext=True)
    else:
        out = binascii.b2a_qp(data + b"\r\n", istext=True)[:-2]
    # b2a_qp writes the "=20"/"=09" that ends a line with whitespace past the
    # 76-character limit; re-wrap only those lines.
    if max_line_length(out) > MAX_ENCODED_LINE:
        out = b"\r\n".join(_rewrap(line) for line in out.split(b"\r\n"))
    return out


def _rewrap(line: bytes) -> bytes:
    """Split one quoted-printable line with soft breaks, never inside an =XX."""
    if len(line) <= MAX_ENCODED_LINE:
        return line
    pieces = []
    while len(line) > MAX_ENCODED_LINE:
        cut = MAX_ENCODED_LINE - 1  # room for the "=" of the soft break
        eq = line.rfind(b"=", cut - 2, cut)
        if eq != -1:
            cut = eq
        pieces.append(line[:cut] + b"=")
        line = line[cut:]
    pieces.append(line)
    return b"\r\n".join(pieces)


def b64_lines(data: bytes) -> bytes:
    """Base64 in lines of 76 characters joined by CRLF, no trailing CRLF."""
    enc = binascii.b2a_base64(data, newline=False)
    if len(enc) <= MAX_ENCODED_LINE:
        return enc
    return b"\r\n".join(enc[i:i + MAX_ENCODED_LINE] for i in range(0, len(enc), MAX_ENCODED_LINE))


def b64_stream(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Base64 lines for a stream of chunks of ``B64_CHUNK`` octets (the last may be short)."""
    first = True
    for chunk in chunks:
        if not chunk:
            continue
        yield (b"" if first else b"\r\n") + b64_lines(chunk)
        first = False


def choose_text_encoding(
    data: bytes, *, allow_8bit: bool, max_line: int
) -> tuple[TransferEncoding, bytes]:
    """Pick the cheapest transfer encoding that keeps every rule, and apply it.

    ``data`` is text with CRLF line ends. It goes as it is (7bit, or 8bit when
    allowed) when it has no NUL and no line over ``max_line`` octets;
    otherwise as quoted-printable or base64, whichever is shorter.
    """
    # Nothing a server could refuse (no NUL; CR and LF only as CRLF, which
    # the caller made them) and no line too long.
    bad, _, _, longest, _ = crlf_lines(data)
    if bad < 0 and longest <= max_line:
        if data.isascii():
            return "7bit", data
        if allow_8bit:
            return "8bit", data
    qp = encode_qp(data)
    b64_len = (len(data) + 2) // 3 * 4
    b64_len += 2 * (b64_len // MAX_ENCODED_LINE)
    if len(qp) <= b64_len:
        return "quoted-printable", qp
    return "base64", b64_lines(data)


_B64_STRICT = re.compile(rb"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_B64_WS = re.compile(rb"[\r\n]+")
_QP_BAD_ESCAPE = re.compile(rb"=(?![0-9A-Fa-f]{2}|\r\n|[ \t]*\r\n|[ \t]*$)")


def decode_base64(data: bytes) -> bytes:
    """Strict base64: only the alphabet, CRLF line breaks and correct padding."""
    joined = _B64_WS.sub(b"", data)
    if len(joined) % 4:
        # strict_mode lets surplus padding through ("YWJj=").
        raise ValueError(f"{len(joined)} base64 characters is not a multiple of 4")
    if sys.version_info >= (3, 11):
        try:
            return binascii.a2b_base64(joined, strict_mode=True)
        except binascii.Error as exc:
            raise ValueError(str(exc)) from None
    if not _B64_STRICT.fullmatch(joined):  # pragma: no cover - Python 3.10
        raise ValueError("not valid base64")
    return binascii.a2b_base64(joined)  # pragma: no cover


class DecodeError(ValueError):
    """Content that does not decode; ``offset`` is where, when known."""

    def __init__(self, reason: str, offset: int | None = None) -> None:
        super().__init__(reason)
        self.offset = offset


def qp_trailing_blank(data: bytes, start: int = 0, stop: int | None = None) -> int:
    """Where the first run of blanks that ends a line of ``data[start:stop]``
    starts, or -1. RFC 2045 6.7 (3): a blank on an encoded line must be
    followed by a printable character on that line. Found with C searches for
    a blank before a line break (text has a blank every few octets, at which
    a regex would stop)."""
    stop = len(data) if stop is None else stop
    hits = [i for i in (data.find(b" \n", start, stop), data.find(b"\t\n", start, stop),
                        data.find(b" \r\n", start, stop), data.find(b"\t\r\n", start, stop))
            if i != -1]
    if stop > start and data[stop - 1] in b" \t":
        hits.append(stop - 1)       # the last line, with no line break after it
    if not hits:
        return -1
    at = min(hits)
    while at > start and data[at - 1] in b" \t":
        at -= 1
    return at


def decode_qp(data: bytes) -> bytes:
    """Strict quoted-printable: every '=' starts a hex escape or a soft break,
    and no line ends in a blank (which a transport may have added or
    stripped, so readers delete it: RFC 2045 6.7 (3))."""
    m = _QP_BAD_ESCAPE.search(data)
    if m:
        raise DecodeError("'=' not followed by two hex digits or a line break", m.start())
    blank = qp_trailing_blank(data)
    if blank != -1:
        raise DecodeError("a line ends in a blank", blank)
    return binascii.a2b_qp(data)
