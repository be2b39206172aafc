"""A whole client session over the sans-IO core, with no socket, against a
server that answers as a good one would but for the replies a test or a
fuzzer changes: the harness of test_session_bytes.py and
fuzz/fuzz_transport.py.

Whatever the server says, the session must end in a result or a typed
error (a TransportError; a MailfmtError for what the client itself refused),
every command line it writes must be one line of printable ASCII of at most
512 octets (RFC 5321 4.1.1, 4.5.3.1.4), the message data must end with one
end-of-data and unstuff to the message, no message may be called accepted
whose data did not go out whole, and the secret must never show, not even
in base64, in the transcript or an error.
"""

from __future__ import annotations

import base64
import contextlib
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pydantic import SecretStr

from mailfmt import Message
from mailfmt.errors import ConnectionLost, MailfmtError, TransportError
from mailfmt.transport._batch import send_messages
from mailfmt.transport._common import message_job, raw_job
from mailfmt.transport._connection import ClientConnection
from mailfmt.transport._dsn import DSN
from mailfmt.transport._events import Reply
from mailfmt.transport._message import Job, Progress, send_message
from mailfmt.transport._results import SendResult
from mailfmt.transport._session import (
    Flow,
    ReadReply,
    SessionOptions,
    UpgradeTLS,
    Write,
    close_session,
    open_session,
)

__all__ = ["PASSWORD", "Outcome", "Server", "open_only", "run_session"]

PASSWORD = "s3cret-Pa55"
_SECRETS = (PASSWORD.encode(), base64.b64encode(PASSWORD.encode()),
            base64.b64encode(b"\x00user\x00" + PASSWORD.encode()))
_COMMAND = re.compile(rb"[\x20-\x7e]{1,510}\r\n")


@dataclass
class Outcome:
    """What the session did: its results, the error it ended with, and the
    bytes it wrote."""

    results: list[Any] = field(default_factory=list)
    error: BaseException | None = None
    written: list[tuple[str, bytes]] = field(default_factory=list)
    #: the phase of each reply the session read
    reads: list[str] = field(default_factory=list)
    #: (phase, timeout) of every write and read, in order
    waits: list[tuple[str, float]] = field(default_factory=list)
    #: Write.more of every write, in order (message data still to follow)
    more: list[bool] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)


class Server:
    """A server that answers each command as a good one would, unless the
    script says otherwise: ``script[i]`` is what it says instead as its
    i-th reply (None: the good reply), and ``cuts[i]`` where that reply is
    cut in two reads. It reads the client's bytes as a server does:
    commands, and after a 354 to DATA, message data up to its end. With
    ``lose_at``, the first write of that phase fails as a reset does. With
    ``lmtp``, it answers LHLO, and the end of data once for each recipient
    its replies accepted (RFC 2033 4.2).
    """

    def __init__(self, script: Sequence[bytes | None] = (), cuts: Sequence[int] = (), *,
                 ehlo: bytes = b"250 mx.example.org\r\n", lose_at: str | None = None,
                 lmtp: bool = False) -> None:
        self.script, self.cuts, self.ehlo = list(script), list(cuts), ehlo
        #: the phase of the first write that fails, as a reset connection fails it
        self.lose_at = lose_at
        self.owed: deque[bytes] = deque([b"GREETING"])
        self.unread = b""
        self.in_data = False
        self.waiting_on_data = False    # a DATA is owed its reply: what follows depends on it
        self.challenge = b""     # what an AUTH response after a 334 gets
        self.sent = 0
        self.pieces: deque[bytes] = deque()
        self.lmtp = lmtp
        self.accepted = 0       # LMTP: recipients accepted in this transaction

    def wrote(self, data: bytes) -> None:
        self.unread += data

    def _read_client(self) -> None:
        while self.unread and not self.waiting_on_data:
            if self.in_data:
                if self.unread.startswith(b".\r\n"):
                    end = 0
                else:
                    end = self.unread.find(b"\r\n.\r\n")
                    if end == -1:
                        return
                    end += 2
                self.unread = self.unread[end + 3:]
                self.in_data = False
                self.owed.extend([b"END"] * (max(self.accepted, 1) if self.lmtp else 1))
                continue
            nl = self.unread.find(b"\r\n")
            if nl == -1:
                return
            line, self.unread = self.unread[:nl], self.unread[nl + 2:]
            self.owed.append(line)
            if line.upper() == b"DATA":
                self.waiting_on_data = True

    def _good(self, command: bytes) -> bytes:
        verb = command.split(b" ", 1)[0].upper()
        if command == b"GREETING":
            return b"220 mx.example.org ESMTP\r\n"
        if command == b"END":
            return b"250 2.0.0 queued\r\n"
        if verb in (b"EHLO", b"LHLO"):
            return self.ehlo
        if verb == b"STARTTLS":
            return b"220 2.0.0 go ahead\r\n"
        if verb == b"DATA":
            return b"354 go\r\n"
        if verb == b"QUIT":
            return b"221 2.0.0 bye\r\n"
        if verb == b"AUTH":
            mech = command.upper().split(b" ")
            if mech[1:] == [b"LOGIN"]:
                self.challenge = b"login"
                return b"334 VXNlcm5hbWU6\r\n"
            if mech[1:2] == [b"CRAM-MD5"] or len(mech) == 2:
                self.challenge = b"last"
                return (b"334 PDEyMzQ1QGV4YW1wbGUub3JnPg==\r\n" if mech[1] == b"CRAM-MD5"
                        else b"334 \r\n")
            return b"235 2.7.0 ok\r\n"
        if self.challenge == b"login":
            self.challenge = b"last"
            return b"334 UGFzc3dvcmQ6\r\n"
        if self.challenge == b"last":
            self.challenge = b""
            return b"235 2.7.0 ok\r\n"
        return b"250 2.0.0 ok\r\n"

    def recv(self) -> bytes:
        """What the next read gets; b"" (the end) when no reply is owed."""
        if self.pieces:
            return self.pieces.popleft()
        self._read_client()
        if not self.owed:
            return b""
        command = self.owed.popleft()
        good = self._good(command)
        i = self.sent
        self.sent += 1
        reply = self.script[i] if i < len(self.script) and self.script[i] is not None else good
        if self.lmtp:
            verb = command[:4].upper()
            if verb == b"MAIL":
                self.accepted = 0
            elif verb == b"RCPT" and reply.startswith(b"2"):
                self.accepted += 1
        if command.upper() == b"DATA":
            self.waiting_on_data = False
            self.in_data = reply.startswith(b"354 ")
        if not reply.startswith(b"334"):
            self.challenge = b""     # no response follows
        n = self.cuts[i] if i < len(self.cuts) else 0
        self.pieces.extend([reply[:n], reply[n:]] if 0 < n < len(reply) else [reply])
        return self.pieces.popleft()


def _drive(conn: ClientConnection, server: Server, flow: Flow[Any], out: Outcome) -> Any:
    """What a driver does (_sync.SMTPClient._run), with bytes from ``server``."""
    try:
        req = next(flow)
    except StopIteration as stop:
        return stop.value
    while True:
        out.waits.append((req.phase, req.timeout))
        try:
            if isinstance(req, Write):
                if req.phase == server.lose_at:
                    server.lose_at = None
                    raise ConnectionLost("the connection failed while sending: reset",
                                         phase=req.phase)
                out.written.append((req.phase, req.data))
                out.more.append(req.more)
                server.wrote(req.data)
                result = None
            elif isinstance(req, ReadReply):
                out.reads.append(req.phase)
                while not isinstance(ev := conn.next_event(), Reply):
                    conn.receive_data(server.recv())
                result = ev
            else:
                assert isinstance(req, UpgradeTLS)
                conn.tls_started()      # a handshake that succeeds at once
                result = None
        except TransportError as exc:
            try:
                req = flow.throw(exc)
            except StopIteration as stop:
                return stop.value
            continue
        try:
            req = flow.send(result)
        except StopIteration as stop:
            return stop.value


def open_only(server: Server, opts: SessionOptions) -> Outcome:
    """Greeting, EHLO, STARTTLS and AUTH as ``opts`` ask, against ``server``:
    what the session wrote, and the error it ended with."""
    out = Outcome()
    conn = ClientConnection()
    try:
        _drive(conn, server, open_session(conn, opts, tls_active=False), out)
    except MailfmtError as exc:
        out.error = exc
    out.transcript = list(conn.transcript)
    return out


def run_session(server: Server, *, auth: str | None, tls: bool, many: bool,
                rcpts: int, messages: list[Message | bytes | Job] | None = None,
                allow_partial: bool | None = None, timeout: float = 5.0,
                dsn: DSN | None = None, require_tls: bool = False,
                progress: Progress | None = None, lmtp: bool = False) -> Outcome:
    """Greeting, EHLO (STARTTLS, AUTH with the mechanism ``auth``), one or
    two messages to ``rcpts`` recipients (or ``messages``: bytes go as
    send_raw sends them, from alice@example.com; a Job as it is), QUIT, against
    ``server``. ``allow_partial``: by default, what send_many and send are
    asked for most (True for many messages, False for one); ``timeout``:
    the caller's; ``dsn``: the delivery status notifications the messages
    and bytes ask for; ``require_tls``: whether they ask for REQUIRETLS;
    ``progress``: the callback of a single message or bytes; ``lmtp``: the
    session is an LMTP one (the server must be one too)."""
    out = Outcome()
    conn = ClientConnection()
    opts = SessionOptions(local_hostname="client.example.com",
                          tls="starttls" if tls else "none", timeout=timeout,
                          username="user" if auth else None,
                          password=SecretStr(PASSWORD) if auth else None,
                          auth_mechanism=auth,
                          allow_insecure_auth=True, loopback=True, lmtp=lmtp)
    to = [f"user{i}@example.org" for i in range(rcpts)]
    msgs: list[Message | bytes | Job] = messages or [
        Message(from_="alice@example.com", to=to, subject=f"m{i}", text="one\n.\n..two\n",
                date=datetime(1997, 11, 21, tzinfo=timezone.utc), message_id=f"<m{i}@example.com>")
        for i in range(2 if many else 1)]
    partial = many if allow_partial is None else allow_partial

    def job(m: Message | bytes | Job) -> Job:
        if isinstance(m, Job):
            return m
        if isinstance(m, bytes):
            return raw_job(m, "alice@example.com", to, dsn, progress, require_tls=require_tls)
        return message_job(m, None, None, dsn, progress, require_tls=require_tls)
    try:
        _drive(conn, server, open_session(conn, opts, tls_active=False), out)
        if many:
            out.results = _drive(conn, server, send_messages(
                conn, opts, [lambda m=m: job(m) for m in msgs],
                allow_partial=partial), out)
        else:
            out.results = [_drive(conn, server, send_message(
                conn, opts, job(msgs[0]), allow_partial=partial), out)]
        _drive(conn, server, close_session(conn, opts), out)
    except MailfmtError as exc:
        out.error = exc
    out.transcript = list(conn.transcript)
    _check(out, msgs)
    return out


def _check(out: Outcome, msgs: list[Message | bytes | Job]) -> None:
    """The promises that hold whatever the server sent."""
    data: list[bytes] = []
    for m in msgs:
        # An attached file gone: that message cannot go out whole.
        with contextlib.suppress(OSError):
            data.append(m if isinstance(m, bytes) else b"".join(m.source())
                        if isinstance(m, Job) else m.to_bytes())
    # The byte stream as a server reads it: commands, and message data
    # after each DATA's 354 up to its end of data (RFC 5321 4.5.2), which a
    # pipelined group of the next message's commands may follow in the
    # same write. An empty end of data is the one sent at once after a 354
    # that followed no accepted recipient.
    commands = b""
    current: bytes | None = None
    delivered = 0
    for phase, chunk in out.written:
        if phase != "message":
            commands += chunk
            continue
        buf = (current or b"") + chunk
        if current is None and buf.startswith(b".\r\n"):
            current, commands = None, commands + buf[3:]
            continue
        end = buf.find(b"\r\n.\r\n")
        if end == -1:
            current = buf       # more to come, or cut off by a failure
            continue
        body = buf[:end + 2]
        body = body[1:] if body.startswith(b".") else body
        assert body.replace(b"\r\n.", b"\r\n") in data, "message data changed on the wire"
        delivered += 1
        current, commands = None, commands + buf[end + 5:]
    for line in re.findall(rb"[^\n]*\n", commands):
        assert _COMMAND.fullmatch(line), f"bad command line {line!r}"
    sent = sum(1 for r in out.results if isinstance(r, SendResult) and r.accepted)
    assert sent <= delivered, "a message called accepted whose data did not go out whole"
    text = "\n".join(out.transcript) + "\n" + repr(out.error) + str(out.error)
    for r in out.results:
        if isinstance(r, SendResult):
            text += "\n".join(r.transcript)
            assert all(x.status in ("accepted", "rejected", "deferred", "unknown")
                       for x in r.recipients)
        elif isinstance(r, BaseException):
            assert isinstance(r, MailfmtError), repr(r)
            text += str(r) + "\n".join(getattr(r, "transcript", []) or [])
    for secret in _SECRETS:
        assert secret.decode() not in text, "the secret shows"
