"""Incremental dot-stuffing with a final check of the wire bytes (RFC 5321 4.5.2).

The stuffer keeps its state across chunks: a chunk may end in the middle of
a CRLF, or right after one with the next chunk starting with ".". It refuses,
rather than repairs, what must never reach a server: a CR or LF outside CRLF,
a NUL, or a line over 998 octets (SMTP smuggling, CVE-2023-51764/5/6; lettre
RUSTSEC-2021-0069 and RUSTSEC-2026-0561).
"""

from __future__ import annotations

from .._lines import crlf_lines
from ..errors import LocalProtocolError

__all__ = ["DotStuffer"]

MAX_LINE = 998


_BAD = {0x00: "message data contains a NUL octet",
        0x0D: "message data contains a CR that is not part of CRLF",
        0x0A: "message data contains a LF that is not part of CRLF"}


class DotStuffer:
    def __init__(self) -> None:
        self._at_line_start = True
        self._pending_cr = False
        self._line_len = 0
        self.octets_in = 0
        self._ended = False

    def feed(self, chunk: bytes) -> bytes:
        """Stuff one chunk of the message; raises LocalProtocolError on unsafe bytes."""
        if self._ended:
            raise LocalProtocolError("message data after the end of data")
        if not chunk:
            return b""
        self.octets_in += len(chunk)
        # A CR that ends a chunk is held back until we see whether LF follows.
        data = (b"\r" + chunk) if self._pending_cr else chunk
        self._pending_cr = data.endswith(b"\r")
        if self._pending_cr:
            data = data[:-1]
        if not data:
            return b""
        bad, first_len, last_len, longest, dots = crlf_lines(data)
        if bad >= 0:
            raise LocalProtocolError(_BAD[data[bad]])
        first = self._line_len + first_len
        longest = max(first, longest)
        if longest > MAX_LINE:
            raise LocalProtocolError(f"a message line is {longest} octets long (max {MAX_LINE})")
        # one line, with no CRLF in it, continues the line the last chunk left
        self._line_len = first if first_len == len(data) else last_len
        out = data.replace(b"\r\n.", b"\r\n..") if dots else data
        if self._at_line_start and out.startswith(b"."):
            out = b"." + out
        self._at_line_start = data.endswith(b"\r\n")
        return out

    def end(self) -> bytes:
        """The end-of-data bytes: a CRLF if the data did not end with one, then "."."""
        if self._ended:
            raise LocalProtocolError("end of data sent twice")
        self._ended = True
        if self._pending_cr:
            raise LocalProtocolError("message data ends in a CR that is not part of CRLF")
        if self.octets_in == 0 or self._at_line_start:
            return b".\r\n"
        return b"\r\n.\r\n"
