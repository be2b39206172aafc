"""A scripted SMTP server on loopback: real sockets, one misbehaviour per test."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable


class Peer:
    def __init__(self, conn: socket.socket, log: bytearray) -> None:
        self.conn = conn
        self.log = log
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.conn.sendall(data)

    def _fill(self) -> bool:
        try:
            chunk = self.conn.recv(65536)
        except OSError:
            return False
        if not chunk:
            return False
        self.log.extend(chunk)
        self.buf += chunk
        return True

    def line(self) -> bytes:
        """One command line (without CRLF); b"" when the client went away."""
        while b"\r\n" not in self.buf:
            if not self._fill():
                return b""
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def data(self) -> bytes:
        """Message data up to and including the final CRLF.CRLF."""
        while b"\r\n.\r\n" not in self.buf and not self.buf.startswith(b".\r\n"):
            if not self._fill():
                return b""
        head, _, self.buf = self.buf.partition(b"\r\n.\r\n")
        return head

    def reset(self) -> None:
        """Close with RST (SO_LINGER 0)."""
        self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.conn.close()

    def drain(self, seconds: float = 0.3) -> None:
        """Read whatever the client still sends for a moment (QUIT, RSET...);
        a QUIT gets its 221 and ends the wait."""
        self.conn.settimeout(seconds)
        end = time.monotonic() + seconds
        while time.monotonic() < end and self._fill():
            if (b"\r\n" + self.buf).endswith(b"\r\nQUIT\r\n"):
                self.send(b"221 bye\r\n")
                return

    def to_data(self) -> None:
        """MAIL, RCPT of one recipient and DATA, without PIPELINING, to the 354."""
        assert self.line().startswith(b"MAIL")
        self.send(b"250 ok\r\n")
        assert self.line().startswith(b"RCPT")
        self.send(b"250 ok\r\n")
        assert self.line() == b"DATA"
        self.send(b"354 go\r\n")

    def lockstep(self, final: bytes = b"250 queued\r\n") -> None:
        """One transaction of one recipient, without PIPELINING."""
        self.to_data()
        self.data()
        self.send(final)

    def hello(self, ehlo: bytes = b"250-mx.example.com\r\n250 8BITMIME\r\n") -> None:
        self.send(b"220 mx.example.com ESMTP\r\n")
        assert self.line().startswith(b"EHLO")
        self.send(ehlo)


class ScriptedServer:
    """Serves one connection with ``script`` (or, given a list, one
    connection with each in turn): on loopback TCP (``host``, IPv4 or IPv6),
    or on a Unix socket at ``path``."""

    def __init__(self, script: Callable[[Peer], None] | list[Callable[[Peer], None]],
                 path: str | None = None, host: str = "127.0.0.1") -> None:
        #: what the client sent on each connection
        self.sessions: list[bytearray] = []
        self.error: BaseException | None = None
        if path is None:
            self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
            self.sock.bind((host, 0))
            self.port = self.sock.getsockname()[1]
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(path)
            self.port = 0
        self.sock.listen(4)
        #: connections served so far
        self.served = 0
        self.thread = threading.Thread(target=self._serve, args=(script,), daemon=True)
        self.thread.start()

    def _serve(self, script: Callable[[Peer], None] | list[Callable[[Peer], None]]) -> None:
        for one in script if isinstance(script, list) else [script]:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.served += 1
            self.sessions.append(bytearray())
            peer = Peer(conn, self.sessions[-1])
            try:
                one(peer)
                peer.drain()
            except BaseException as exc:  # surfaced by close()
                self.error = exc
                return
            finally:
                with contextlib.suppress(OSError):
                    peer.conn.close()   # a script may have wrapped it in TLS
                    conn.close()

    @property
    def received(self) -> bytes:
        """What the client sent, on every connection."""
        return b"".join(self.sessions)

    def close(self) -> None:
        """Stop; an assertion that failed in the script fails the test here
        (socket errors are the client hanging up, which fault cases expect)."""
        # shutdown() wakes a thread blocked in accept(); close() alone does not.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(10)
        if isinstance(self.error, AssertionError):
            raise self.error

    def commands(self) -> list[bytes]:
        return [line.split(b" ")[0].split(b":")[0].upper()
                for line in bytes(self.received).split(b"\r\n") if line]
