"""The blocking driver: a socket, ssl, and the shared session flow."""

from __future__ import annotations

import functools
import socket
import ssl
import struct
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any

from ..errors import ConnectError, ConnectionLost, SMTPTimeout, TLSError, TransportError
from ..models.message import Message
from ._batch import send_messages
from ._common import ClientBase, TLSMode, acknowledge, logger, message_job, raw_job
from ._connection import ClientConnection
from ._dial import dial
from ._dsn import DSN
from ._events import Reply
from ._message import Job, Progress, send_message
from ._results import SendResult
from ._retry import Attempts, Retry
from ._session import Flow, ReadReply, UpgradeTLS, Write, close_session, open_session

__all__ = ["SMTPClient", "send"]

#: A plain TCP socket waits with the kernel's SO_RCVTIMEO and SO_SNDTIMEO. A
#: Python socket timeout makes each recv and each send two system calls, a
#: poll() and then the call, and both are on the path from one reply to the
#: next command. TLS sockets keep Python's timeouts: the ssl module retries
#: a read or write that the kernel timed out, for ever. Windows takes these
#: options in another format; it keeps Python's timeouts too.
_KERNEL_TIMEOUTS = sys.platform != "win32"


def _timeval(seconds: float) -> bytes:
    """A struct timeval; 0 means no timeout, so a positive wait is at least 1 us."""
    sec = int(seconds)
    usec = int((seconds - sec) * 1e6)
    if seconds > 0 and sec == 0 and usec == 0:
        usec = 1
    return struct.pack("@ll", sec, usec)


class SMTPClient(ClientBase):
    """A blocking SMTP client over the sans-IO core.

    >>> with SMTPClient("smtp.example.com", 587, username="u", password="p") as c:  # doctest: +SKIP
    ...     result = c.send(message)

    ``tls``: "starttls" (required, the default), "implicit" (port 465) or
    "none". Certificates and host names are verified with
    ``ssl.create_default_context()`` unless ``ssl_context`` is given; the
    name checked is ``host``, or ``tls_hostname`` when the server is dialled
    by another name than its certificate's (an address, a tunnel).
    Credentials are dropped once AUTH has used them: to connect again, make a
    new client.

    ``local_hostname``: the name given in EHLO; by default this host's domain
    name, or, when it has none (a bare host name, as in most containers), the
    address literal of this end of the connection, "[192.0.2.7]" or
    "[IPv6:2001:db8::7]" (RFC 5321 4.1.1.1, 4.1.3). When ``host`` has several
    addresses, they are tried as RFC 8305 says, the next one 250 ms after the
    last while it goes on, and ``timeout`` bounds the connect phase as a whole.

    ``lmtp=True`` speaks LMTP (RFC 2033) to a delivery agent such as Dovecot
    or Cyrus (port 24 unless given): LHLO in place of EHLO, and a final reply
    for each recipient, so that each gets its own outcome in the result.
    """

    _sock: socket.socket | None = None
    #: the timeout last given to the socket: setting one costs system calls,
    #: so it is set only when the value changes
    _sock_timeout: float | None = None
    #: whether the socket's timeouts are the kernel's (see _KERNEL_TIMEOUTS)
    _kernel_timeouts = False

    # ---- lifecycle ------------------------------------------------------------------

    def connect(self) -> None:
        """Connect, read the greeting, EHLO, STARTTLS and AUTH as configured."""
        try:
            sock = self._open_socket()
        except TimeoutError:
            raise SMTPTimeout(f"connecting to {self.address} timed out",
                              phase="connect") from None
        except OSError as exc:
            raise ConnectError(f"cannot connect to {self.address}: "
                               f"{exc.strerror or exc}", phase="connect") from None
        self._sock = sock
        self._sock_timeout = self._opts.t("connect")
        if _KERNEL_TIMEOUTS and self._opts.tls != "implicit":
            sock.settimeout(None)
            self._kernel_timeouts, self._sock_timeout = True, None
        self._conn = ClientConnection()
        self._unacked = False
        self._failed = None
        try:
            if self._opts.tls == "implicit":
                self._upgrade(self._opts.t("starttls"), implicit=True)
            self._run(open_session(self._conn, self._session_options(self._sock.getsockname()),
                                   tls_active=self._opts.tls == "implicit"))
        except BaseException:
            self.close()
            raise
        self._forget_credentials()

    def _open_socket(self) -> socket.socket:
        if not self.unix:
            assert self.port is not None
            sock = dial(self.host, self.port, self._opts.t("connect"))
            # Commands are small and each waits for its reply: no Nagle delay.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self._opts.t("connect"))
            sock.connect(self.host)
        except BaseException:
            sock.close()
            raise
        return sock

    def __enter__(self) -> SMTPClient:
        self.connect()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if et is None:
                self.quit()
        finally:
            self.close()

    def quit(self) -> None:
        """Say QUIT; a failure here is logged, never raised (RFC 5321 4.1.1.10)."""
        if self._conn is None:
            return
        try:
            self._run(close_session(self._conn, self._opts))
        except TransportError as exc:
            logger.debug("QUIT failed after the session: %s", exc)
        self.close()

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    # ---- sending --------------------------------------------------------------------

    def send(self, message: Message, *, mail_from: str | None = None,
             rcpt_to: Sequence[str] | None = None, allow_partial: bool = False,
             dsn: DSN | None = None, progress: Progress | None = None,
             require_tls: bool = False) -> SendResult:
        """Send a validated message; the envelope comes from it unless given.
        ``dsn`` asks for delivery status notifications (RFC 3461); a server
        that does not offer them gets nothing (ExtensionMissing).

        ``require_tls`` asks every server on the way to relay the message
        over TLS with a verified certificate, or bounce it (REQUIRETLS, RFC
        8689). It needs TLS with verification on this connection (TLSError)
        and a server that offers REQUIRETLS (ExtensionMissing), both checked
        before MAIL.

        ``progress(sent, total)`` is called as the message data goes out,
        after each write of about 64 KB and once with all of it written,
        before the end of data: octets of the message written to the
        connection and its whole size. An exception it raises stops the
        send before the end of data, so nothing is delivered; the
        connection is closed and the exception raised as it is.
        """
        self._check_require_tls(require_tls)
        return self._send(message_job(message, mail_from, rcpt_to, dsn, progress,
                                      require_tls=require_tls), allow_partial)

    def send_many(self, messages: Iterable[Message], *, allow_partial: bool = False,
                  dsn: DSN | None = None,
                  require_tls: bool = False) -> list[SendResult | TransportError]:
        """Send messages over this connection, in order; one outcome each.

        With PIPELINING, each message's envelope goes out behind the previous
        message's end of data (RFC 2920 3.1): one round trip per message.
        Without it, each MAIL goes out as soon as the previous message's
        final reply is in, before that message's result is made.
        A refused message gets its error (an SMTPReplyError, or
        ExtensionMissing) in its place and the others still go; if the
        connection fails, that error is in its place and every later message
        has a ConnectionLost saying it was not sent. ``dsn`` and
        ``require_tls`` apply to every message, as in :meth:`send`.

        >>> results = client.send_many(messages)  # doctest: +SKIP
        >>> [r for r in results if not isinstance(r, SendResult)]  # doctest: +SKIP
        []
        """
        self._check_require_tls(require_tls)
        msgs = list(messages)
        return self._send_jobs((functools.partial(message_job, m, None, None, dsn,
                                                  require_tls=require_tls) for m in msgs),
                               len(msgs), allow_partial)

    def _send_jobs(self, makers: Iterable[Callable[[], Job]], n: int,
                   allow_partial: bool) -> list[SendResult | TransportError]:
        if self._conn is None:
            raise ConnectionLost("not connected", phase="mail")
        self._refuse("mail")    # before the core is asked for anything
        out: list[SendResult | TransportError] = []
        try:
            self._run(send_messages(self._conn, self._opts, makers,
                                    allow_partial=allow_partial, out=out))
        except BaseException as exc:
            self._note_batch(exc, out, n)
            raise
        return self._account(out, n)

    def send_raw(self, data: bytes, *, mail_from: str, rcpt_to: Sequence[str],
                 allow_partial: bool = False, dsn: DSN | None = None,
                 progress: Progress | None = None, require_tls: bool = False) -> SendResult:
        """Send an existing .eml: it is linted first and refused if it has
        errors. ``dsn``, ``progress`` and ``require_tls`` as in :meth:`send`."""
        self._check_require_tls(require_tls)
        return self._send(raw_job(data, mail_from, rcpt_to, dsn, progress,
                                  require_tls=require_tls), allow_partial)

    def _send(self, job: Job, allow_partial: bool) -> SendResult:
        if self._conn is None:
            raise ConnectionLost("not connected", phase="mail")
        self._refuse("mail")    # before the core is asked for anything
        result: SendResult = self._run(send_message(self._conn, self._opts, job,
                                                       allow_partial=allow_partial))
        return result

    # ---- moving bytes ---------------------------------------------------------------

    def _run(self, flow: Flow[Any]) -> Any:
        assert self._conn is not None
        try:
            req = next(flow)
            while True:
                try:
                    result = self._do(req)
                except TransportError as exc:
                    self._failure(exc)
                    req = flow.throw(exc)
                    continue
                req = flow.send(result)
        except StopIteration as stop:
            self._log()
            if self._stranded(None):
                self.close()
            return stop.value
        except TransportError as exc:
            if not exc.transcript:
                exc.transcript = list(self._conn.transcript)
            self._log()
            if self._stranded(exc):
                self.close()
            raise
        except BaseException as exc:
            if self._interrupted(exc):
                self.close()
            raise

    def _do(self, req: Any) -> Reply | None:
        self._refuse(req.phase)
        if isinstance(req, Write):
            self._write(req)
            return None
        if isinstance(req, ReadReply):
            return self._read(req)
        assert isinstance(req, UpgradeTLS)
        self._upgrade(req.timeout, implicit=False)
        assert self._conn is not None
        self._conn.tls_started()
        return None

    def _write(self, req: Write) -> None:
        self._unacked = False       # the write carries the acknowledgement
        try:
            self._send_all(req.data, req.timeout)
        except (TimeoutError, BlockingIOError):
            raise SMTPTimeout(f"sending timed out ({req.phase})", phase=req.phase) from None
        except OSError as exc:
            raise ConnectionLost(f"the connection failed while sending: {exc}",
                                 phase=req.phase) from None

    def _read(self, req: ReadReply) -> Reply:
        assert self._sock is not None
        assert self._conn is not None
        if (reply := self._poll(req)) is not None:
            return reply        # it came with an earlier read (pipelining)
        self._log()             # what was sent is in the log before the wait
        deadline = time.monotonic() + req.timeout
        # The first read waits the phase's whole timeout (the usual value, set
        # once); a reply that comes in pieces gets what is left of it.
        wait = req.timeout
        while True:
            if wait <= 0:
                raise self._timed_out(req)
            try:
                if wait != self._sock_timeout:
                    self._set_timeout(wait)
                if self._unacked:
                    acknowledge(self._sock)
                data = self._sock.recv(65536)
            except (TimeoutError, BlockingIOError):     # the latter: SO_RCVTIMEO
                raise self._timed_out(req) from None
            except OSError as exc:
                raise ConnectionLost(f"the connection failed: {exc}", phase=req.phase) from None
            self._unacked = True
            self._conn.receive_data(data)
            if (reply := self._poll(req)) is not None:
                return reply
            wait = deadline - time.monotonic()

    def _send_all(self, data: bytes, timeout: float) -> None:
        """sendall() with one deadline for the whole write; a timed-out send
        raises TimeoutError or (SO_SNDTIMEO) BlockingIOError."""
        assert self._sock is not None
        if timeout != self._sock_timeout:
            self._set_timeout(timeout)
        if not self._kernel_timeouts:
            self._sock.sendall(data)    # Python's timeout covers the whole call
            return
        # SO_SNDTIMEO bounds each send(): a server that reads a little now
        # and then must not stretch the write past its deadline.
        deadline = time.monotonic() + timeout
        sent = self._sock.send(data)
        if sent == len(data):
            return
        view = memoryview(data)
        while sent < len(data):
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise TimeoutError
            self._set_timeout(wait)
            sent += self._sock.send(view[sent:])

    def _set_timeout(self, timeout: float) -> None:
        assert self._sock is not None
        if timeout == self._sock_timeout:
            return
        if self._kernel_timeouts:
            self._kernel_wait(timeout)
        else:
            self._sock.settimeout(timeout)
        self._sock_timeout = timeout

    def _kernel_wait(self, timeout: float) -> None:
        assert self._sock is not None
        tv = _timeval(timeout)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)

    def _upgrade(self, timeout: float, *, implicit: bool) -> None:
        assert self._sock is not None
        ctx = self._ssl or ssl.create_default_context()
        if self._kernel_timeouts:
            # back to Python's timeouts, which the ssl module honours
            self._kernel_wait(0.0)
            self._kernel_timeouts, self._sock_timeout = False, None
        try:
            self._set_timeout(timeout)
            # the TLS socket starts with the plain one's timeout
            self._sock = ctx.wrap_socket(self._sock, server_hostname=self._tls_hostname)
        except ssl.SSLCertVerificationError as exc:
            raise TLSError(f"the server's certificate failed verification: "
                           f"{exc.verify_message or exc}", phase="starttls") from None
        except (ssl.SSLError, OSError) as exc:
            raise TLSError(f"the TLS handshake failed: {exc}", phase="starttls") from None


def send(message: Message, *, host: str, port: int | None = None, tls: TLSMode = "starttls",
         allow_partial: bool = False, dsn: DSN | None = None,
         progress: Progress | None = None, require_tls: bool = False,
         retry: Retry | None = None, **kwargs: Any) -> SendResult:
    """Connect, send one message, QUIT.

    ``retry``: try again, on a new connection, for the recipients a try
    failed to reach for a reason that may pass and that cannot have reached
    them (see :class:`~mailfmt.transport.Retry`); the result has every
    recipient's latest outcome.

    >>> result = send(message, host="smtp.example.com", port=465,  # doctest: +SKIP
    ...               tls="implicit", username="alice", password="...")
    """
    if retry is None:
        with SMTPClient(host, port, tls=tls, **kwargs) as client:
            return client.send(message, allow_partial=allow_partial, dsn=dsn,
                               progress=progress, require_tls=require_tls)
    attempts = Attempts(retry, list(message.envelope.rcpt_to), allow_partial=allow_partial)
    rcpt_to: list[str] | None = None      # the first try: the message's own
    while True:
        outcome: SendResult | TransportError
        try:
            with SMTPClient(host, port, tls=tls, **kwargs) as client:
                outcome = client.send(message, rcpt_to=rcpt_to, allow_partial=allow_partial,
                                      dsn=dsn, progress=progress, require_tls=require_tls)
        except TransportError as exc:
            outcome = exc
        wait = attempts.after(outcome)
        if wait is None:
            return attempts.finish(outcome)
        time.sleep(wait)
        rcpt_to = attempts.pending
