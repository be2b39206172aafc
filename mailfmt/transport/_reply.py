"""Incremental reply parser (RFC 5321 4.2, RFC 3463 enhanced codes).

    Reply-line = *( Reply-code "-" [ textstring ] CRLF )
                    Reply-code [ SP textstring ] CRLF
    Reply-code = %x32-35 %x30-35 %x30-39

Strict: lines end in CRLF, every line of a reply has the same code, and a
line or a reply over the size caps is an error, so garbage or a hostile
server can never make the client buffer without bound.
"""

from __future__ import annotations

import re

from ..errors import RemoteProtocolError
from ._events import Reply

__all__ = ["MAX_REPLY_LINE", "MAX_REPLY_LINES", "ReplyParser"]

#: RFC 5321 4.5.3.1.5 says 512 octets; real servers write longer text, so
#: mailfmt allows 8 times that (aiosmtplib and smtplib allow 8192).
MAX_REPLY_LINE = 4096
#: EHLO replies are the longest; 100 extensions is far beyond any server.
MAX_REPLY_LINES = 256

_LINE = re.compile(rb"([2-5][0-5][0-9])(?:([ -])([\x09\x20-\x7e\x80-\xff]*))?")
_ENHANCED = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})(?: |$)")
# A whole single-line reply, ended by its CRLF: the grammar of _LINE, with the
# enhanced code of _ENHANCED read by the same match. Most replies are one line.
_ONE_LINE = re.compile(rb"([2-5][0-5][0-9])(?: (?:([245])\.([0-9]{1,3})\.([0-9]{1,3})"
                       rb"(?: |(?=\r\n)))?([\x09\x20-\x7e\x80-\xff]{0,%d}))?\r\n"
                       % (MAX_REPLY_LINE - 4))


class ReplyParser:
    """Feed bytes; take complete replies out, one at a time."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._lines: list[str] = []
        self._code: int | None = None

    @property
    def has_data(self) -> bool:
        """Whether any octet received is not yet part of a returned reply."""
        return bool(self._buf) or bool(self._lines)

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next_reply(self) -> Reply | None:
        """A complete reply, or None if more bytes are needed."""
        if not self._buf:
            return None     # the usual case before each read: nothing to parse
        if self._code is None:
            # The usual reply is one line: matched whole, with its CRLF.
            m = _ONE_LINE.match(self._buf)
            if m is not None and m.end() - 2 <= MAX_REPLY_LINE:
                code_b, cls, sub, detail, text = m.groups()
                code = int(code_b)
                enhanced = None
                if cls is not None:
                    # RFC 3463 2: the class digit matches the reply code's first digit.
                    if int(cls) == code // 100:
                        enhanced = (int(cls), int(sub), int(detail))
                    else:
                        text = m.group(0)[4:-2]
                line = (text or b"").decode("utf-8", "replace")
                del self._buf[:m.end()]     # after reading the groups: they view the buffer
                return Reply(code, (line,), enhanced)
        while True:
            nl = self._buf.find(b"\n")
            if nl == -1:
                # A line at the cap may have its CR here and its LF in the next read.
                if len(self._buf) > MAX_REPLY_LINE + 1:
                    raise RemoteProtocolError(
                        f"reply line longer than {MAX_REPLY_LINE} octets")
                return None
            if nl == 0 or self._buf[nl - 1] != 0x0D:
                raise RemoteProtocolError("reply line not ended by CRLF")
            if nl - 1 > MAX_REPLY_LINE:
                raise RemoteProtocolError(f"reply line longer than {MAX_REPLY_LINE} octets")
            raw = bytes(self._buf[:nl - 1])
            del self._buf[:nl + 1]
            m = _LINE.fullmatch(raw)
            if not m:
                raise RemoteProtocolError(f"malformed reply line {raw[:80]!r}")
            code = int(m.group(1))
            if self._code is not None and code != self._code:
                # RFC 5321 4.2.1: "the reply code on each of the lines MUST be the same"
                raise RemoteProtocolError(
                    f"multi-line reply changed code from {self._code} to {code}")
            self._code = code
            self._lines.append((m.group(3) or b"").decode("utf-8", "replace"))
            if len(self._lines) > MAX_REPLY_LINES:
                raise RemoteProtocolError(f"reply longer than {MAX_REPLY_LINES} lines")
            if m.group(2) != b"-":
                lines, self._lines, self._code = self._lines, [], None
                return _reply(code, lines)


def _reply(code: int, lines: list[str]) -> Reply:
    """The reply whose ``lines`` (at least one) were read."""
    enhanced = None
    m = _ENHANCED.match(lines[0])
    # RFC 3463 2: the class digit matches the reply code's first digit.
    if m and int(m.group(1)) == code // 100:
        enhanced = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
        strip = len(m.group(0))
        lines = [ln[strip:] if _ENHANCED.match(ln) else ln for ln in lines]
    return Reply(code, tuple(lines), enhanced)
