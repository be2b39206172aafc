"""The sans-IO SMTP client connection: events in, bytes out; bytes in, replies out.

It never touches a socket or a clock (the h11 style). A driver moves bytes::

    conn = ClientConnection()
    conn.receive_data(sock.recv(65536))        # b"" for end of file
    reply = conn.next_event()                  # a Reply, or NEED_DATA
    sock.sendall(conn.send(Ehlo("client.example.com")))

Every transition is looked up in :mod:`._state`; anything else is a
LocalProtocolError (what we tried to send) or a RemoteProtocolError (what
the server sent). After either, the connection is in State.ERROR.
"""

from __future__ import annotations

from collections import deque

from ..errors import ConnectionLost, LocalProtocolError, RemoteProtocolError
from ._capabilities import Capabilities
from ._dotstuff import DotStuffer
from ._dsn import mail_room, rcpt_room
from ._events import (
    NEED_DATA,
    Auth,
    AuthResponse,
    Command,
    Data,
    Ehlo,
    EndOfMessage,
    Greeting,
    Helo,
    Lhlo,
    Mail,
    MessageData,
    Rcpt,
    Reply,
    Rset,
    StartTLS,
    _Hello,
    _NeedData,
)
from ._reply import ReplyParser
from ._state import CLOSING, NO_CHANGE, ON_REPLY, SEND, State, reply_class

__all__ = ["ClientConnection"]

#: RFC 5321 4.5.3.1.4: a command line is at most 512 octets with its CRLF.
MAX_COMMAND = 512
#: RFC 4954 4: AUTH lines may be up to 12288 octets.
MAX_AUTH_LINE = 12288
#: transcript lines kept after the session's opening (see begin_transaction)
TRANSCRIPT_TAIL = 512


class ClientConnection:
    """One SMTP client session (RFC 5321), without I/O.

    >>> conn = ClientConnection()
    >>> conn.receive_data(b"220 mx.example.com ESMTP\\r\\n")
    >>> conn.next_event()
    Reply(code=220, lines=('mx.example.com ESMTP',), enhanced=None, command=Greeting())
    >>> conn.send(Ehlo("client.example.com"))
    b'EHLO client.example.com\\r\\n'
    >>> conn.next_event()
    NEED_DATA
    """

    def __init__(self) -> None:
        self.state = State.GREETING
        self.capabilities = Capabilities()
        #: the session, one line per command or reply, secrets redacted: its
        #: opening (up to the first transaction) and the most recent lines
        self.transcript: list[str] = []
        #: lines dropped from the middle so far (long sessions stay bounded)
        self.transcript_dropped = 0
        self._opening: int | None = None
        self._parser = ReplyParser()
        self._pending: deque[Command] = deque([Greeting()])
        self._stuffer: DotStuffer | None = None
        #: (chunk, its stuffer, its wire bytes), stuffed ahead by prepare()
        self._prepared: tuple[bytes, DotStuffer, bytes] | None = None
        self._eof = False
        #: opened with LHLO: an LMTP session (RFC 2033)
        self.lmtp = False
        #: the hello the session was opened with (Ehlo or Helo, or Lhlo)
        self._hello: type[Command] | None = None
        #: LMTP: the current transaction's accepted recipients, in order,
        #: each of which gets its own reply to the end of data
        self._lmtp_rcpts: list[str] = []

    # ---- sending --------------------------------------------------------------

    def send(self, command: Command) -> bytes:
        """The bytes for ``command``; raises LocalProtocolError if not allowed now."""
        if self.state is State.ERROR:
            raise LocalProtocolError("the connection is in an error state")
        nxt = SEND.get(self.state, {}).get(type(command))
        if nxt is None:
            raise LocalProtocolError(
                f"cannot send {type(command).__name__} in state {self.state.value}")
        try:
            data = self._bytes_for(command)
        except LocalProtocolError:
            self.state = State.ERROR
            raise
        self.state = nxt
        return data

    def prepare(self, chunk: bytes) -> None:
        """Dot-stuff and check ``chunk``, the first piece of a message's data,
        ahead of its turn: while a reply is awaited, say. Nothing changes
        state; when that same chunk opens the data, its bytes are ready. A
        chunk that fails the checks is left to fail when it is sent.
        """
        stuffer = DotStuffer()
        try:
            out = stuffer.feed(chunk)
        except LocalProtocolError:
            self._prepared = None
            return
        self._prepared = (chunk, stuffer, out)

    def _bytes_for(self, command: Command) -> bytes:
        if isinstance(command, MessageData):
            assert self._stuffer is not None
            prepared, self._prepared = self._prepared, None
            # Only as the first data of this message: a fresh stuffer has
            # taken nothing in (an empty chunk changes nothing either).
            if prepared is not None and prepared[0] is command.data \
                    and self._stuffer.octets_in == 0:
                self._stuffer = prepared[1]
                return prepared[2]
            return self._stuffer.feed(command.data)
        if isinstance(command, EndOfMessage):
            assert self._stuffer is not None
            data = self._stuffer.end()
            self.transcript.append(f"C: <{self._stuffer.octets_in} octets of message data>")
            self.transcript.append("C: .")
            self._stuffer = None
            if self.lmtp and self._lmtp_rcpts:
                # RFC 2033 4.2: one reply per recipient RCPT accepted, in order.
                self._pending.extend(EndOfMessage(a) for a in self._lmtp_rcpts)
                self._lmtp_rcpts = []
            else:
                self._pending.append(command)
            return data
        line = command.line()
        data = line.encode("utf-8") + b"\r\n"
        limit = MAX_AUTH_LINE if isinstance(command, (Auth, AuthResponse)) else MAX_COMMAND
        if len(data) > limit:
            # RFC 3461 4: the DSN parameters make MAIL and RCPT lines longer.
            if isinstance(command, Mail):
                limit += mail_room(command.params)
            elif isinstance(command, Rcpt):
                limit += rcpt_room(command.params)
        if len(data) > limit:
            raise LocalProtocolError(
                f"{type(command).__name__} line is {len(data)} octets (max {limit})")
        if isinstance(command, Data):
            self._stuffer = DotStuffer()
        elif isinstance(command, _Hello):
            self._check_hello(command)
        elif self.lmtp and isinstance(command, (Mail, Rset)):
            self._lmtp_rcpts = []
        self._pending.append(command)
        # Only commands with secrets redact; the others' line is already built.
        redacts = type(command).redacted is not Command.redacted
        self.transcript.append("C: " + (command.redacted() if redacts else line))
        return data

    def _check_hello(self, command: Command) -> None:
        # RFC 2033 4.1: an LMTP session knows no HELO or EHLO, and an SMTP
        # one no LHLO; the first hello decides which the session is.
        kind = Lhlo if isinstance(command, Lhlo) else Ehlo
        if self._hello is not None and self._hello is not kind:
            raise LocalProtocolError(
                f"cannot send {type(command).__name__} in an "
                f"{'LMTP' if self.lmtp else 'SMTP'} session")
        self._hello = kind
        self.lmtp = kind is Lhlo

    # ---- receiving ------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Bytes from the server; ``b""`` means the server closed the connection."""
        if not data:
            self._eof = True
            return
        self._parser.feed(data)

    def next_event(self) -> Reply | _NeedData:
        """The next complete reply, matched to the command it answers, or NEED_DATA."""
        try:
            reply = self._parser.next_reply()
        except RemoteProtocolError:
            self.state = State.ERROR
            raise
        if reply is None:
            if self._eof:
                self.state = State.ERROR
                raise ConnectionLost("the server closed the connection")
            return NEED_DATA
        if not self._pending:
            # Unsolicited: a desync, possibly an injection (aiosmtplib 320180e).
            self.state = State.ERROR
            raise RemoteProtocolError(f"unsolicited reply: {reply}")
        command = self._pending.popleft()
        # The reply is new and not yet shared: attach what it answers in place
        # (dataclasses.replace would copy it for every reply).
        object.__setattr__(reply, "command", command)
        self.transcript.append(f"S: {reply}")
        if reply.code == CLOSING:
            # RFC 5321 3.8: a server that must shut down may answer any
            # command with 421 and close the channel; no other reply follows,
            # and nothing more may be sent.
            self.state = State.CLOSED
            self._pending.clear()
            self._lmtp_rcpts = []
            return reply
        if self.lmtp and isinstance(command, Rcpt) and reply.code // 100 == 2:
            self._lmtp_rcpts.append(command.forward_path)
        if type(command) not in NO_CHANGE:
            nxt = ON_REPLY.get((type(command), reply_class(reply.code)))
            if nxt is None:
                self.state = State.ERROR
                raise RemoteProtocolError(
                    f"unexpected reply {reply.code} to {command.redacted() or 'the greeting'}")
            if isinstance(command, (Ehlo, Lhlo)) and reply.code // 100 == 2:
                self.capabilities = Capabilities.from_ehlo(reply)
            elif isinstance(command, Helo):
                self.capabilities = Capabilities()
            elif isinstance(command, StartTLS) and nxt is State.TLS_HANDSHAKE:
                # RFC 3207 4.2 / CVE-2011-0411 / CVE-2020-14954: nothing may
                # follow the 220 in plaintext; whatever did is an injection.
                if self._parser.has_data:
                    self.state = State.ERROR
                    raise RemoteProtocolError("data after the STARTTLS reply")
            elif isinstance(command, Greeting) and nxt is State.CLOSED:
                self._pending.clear()
            if not (isinstance(command, EndOfMessage) and self._pending):
                # With the next MAIL pipelined behind the end of data, the
                # state belongs to that transaction already (RFC 2920 3.1).
                self.state = nxt
        if not self._pending and self._parser.has_data and self.state is not State.CLOSED:
            # More bytes than the replies owed: a desync, possibly an injection
            # (aiosmtplib 320180e); the next command would read them as its reply.
            self.state = State.ERROR
            raise RemoteProtocolError("unsolicited data after a reply")
        return reply

    def tls_started(self) -> None:
        """Call after the TLS handshake: the session starts over (RFC 3207 4.2)."""
        if self.state is not State.TLS_HANDSHAKE:
            raise LocalProtocolError(f"no STARTTLS to complete in state {self.state.value}")
        if self._parser.has_data:
            self.state = State.ERROR
            raise RemoteProtocolError("data after the STARTTLS reply")
        # Forget everything learned before TLS: capabilities come again from EHLO.
        self.capabilities = Capabilities()
        self.state = State.HELLO

    def begin_transaction(self) -> int:
        """Mark the start of a transaction; returns the mark (see ``mark``).

        The first call fixes the session's opening (greeting, EHLO, STARTTLS,
        AUTH), which is always kept; lines between it and the last
        TRANSCRIPT_TAIL are dropped, so a connection that sends a million
        messages does not keep a million transcripts.
        """
        if self._opening is None:
            self._opening = len(self.transcript)
        self.trim()
        return self.mark

    def trim(self, *, keep_from: int | None = None) -> None:
        """Drop lines between the opening and the last TRANSCRIPT_TAIL, but
        none from ``keep_from`` (a mark still in use) on."""
        if self._opening is None:
            return
        keep = len(self.transcript) - TRANSCRIPT_TAIL
        if keep_from is not None:
            keep = min(keep, keep_from - self.transcript_dropped)
        excess = keep - self._opening
        if excess > TRANSCRIPT_TAIL:   # trim in batches: amortized O(1) per line
            del self.transcript[self._opening:self._opening + excess]
            self.transcript_dropped += excess

    @property
    def mark(self) -> int:
        """Where the transcript ends now, counting dropped lines: trimming
        never moves a mark."""
        return self.transcript_dropped + len(self.transcript)

    def transcript_since(self, mark: int, end: int | None = None) -> tuple[str, ...]:
        """The session's opening and the lines from ``mark`` on (to ``end``, a later mark)."""
        opening = self._opening or 0
        start = max(mark - self.transcript_dropped, opening)
        stop = None if end is None else max(end - self.transcript_dropped, start)
        return tuple(self.transcript[:opening] + self.transcript[start:stop])

    @property
    def awaiting_replies(self) -> int:
        """Commands sent whose replies have not arrived yet."""
        return len(self._pending)

    @property
    def awaiting_final_reply(self) -> bool:
        """Whether an end of data was sent and its reply has not arrived: the
        message may have been taken by now (RFC 5321 4.5.3.2.6)."""
        return any(isinstance(c, EndOfMessage) for c in self._pending)

