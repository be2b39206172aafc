"""The asyncio driver: the same session flow as the blocking one.

Its protocol only queues bytes (no parsing in socket callbacks); the core
parses them when the flow asks for a reply.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any

from ..errors import ConnectError, ConnectionLost, SMTPTimeout, TLSError, TransportError
from ..models.message import Message
from ._batch import send_messages
from ._common import ClientBase, TLSMode, acknowledge, logger, message_job, raw_job
from ._connection import ClientConnection
from ._dial import ATTEMPT_DELAY
from ._dsn import DSN
from ._events import Reply
from ._message import Job, Progress, send_message
from ._results import SendResult
from ._retry import Attempts, Retry
from ._session import Flow, ReadReply, UpgradeTLS, Write, close_session, open_session

__all__ = ["AsyncSMTPClient", "send_async"]


class _Stream(asyncio.Protocol):
    """Bytes in a queue, EOF and errors recorded, write flow control.

    Waiting uses one future and one timer handle: no task per read or write
    (asyncio.wait_for would create one each time).
    """

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.closed = False
        self.lost = asyncio.Event()
        self.error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self._wake()

    def eof_received(self) -> bool | None:
        self.closed = True
        self._wake()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.error = exc
        self._paused = False
        self._wake()
        self.lost.set()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake()

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def _wait(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        timer = loop.call_later(timeout, self._wake)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    async def drain(self, timeout: float) -> bool:
        """Wait while the transport's buffer is full; False if ``timeout`` passed."""
        if self._paused and not self.closed:
            await self._wait(timeout)
        if self.closed:
            raise ConnectionResetError("connection lost")
        return not self._paused

    async def read(self, timeout: float) -> bytes | None:
        """The next chunk; b"" at end of file; None if ``timeout`` passed first."""
        if not self.chunks and not self.closed:
            await self._wait(timeout)
        if self.chunks:
            return self.chunks.popleft()
        return b"" if self.closed else None


class AsyncSMTPClient(ClientBase):
    """The asyncio twin of :class:`~mailfmt.transport.SMTPClient`.

    >>> async with AsyncSMTPClient("smtp.example.com", 587) as c:  # doctest: +SKIP
    ...     result = await c.send(message)
    """

    _stream: _Stream | None = None

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        implicit = self._opts.tls == "implicit"
        try:
            if self.unix:
                opening = loop.create_unix_connection(_Stream, self.host)
            else:
                assert self.port is not None
                opening = loop.create_connection(
                    _Stream, self.host, self.port,
                    ssl=(self._ssl or ssl.create_default_context()) if implicit else None,
                    server_hostname=self._tls_hostname if implicit else None,
                    # RFC 8305, as the blocking driver does it (_dial.py)
                    happy_eyeballs_delay=ATTEMPT_DELAY)
            _, stream = await asyncio.wait_for(opening, self._opts.t("connect"))
        except asyncio.TimeoutError:
            raise SMTPTimeout(f"connecting to {self.address} timed out",
                              phase="connect") from None
        except ssl.SSLCertVerificationError as exc:
            raise TLSError(f"the server's certificate failed verification: "
                           f"{exc.verify_message or exc}", phase="starttls") from None
        except ssl.SSLError as exc:
            raise TLSError(f"the TLS handshake failed: {exc}", phase="starttls") from None
        except OSError as exc:
            raise ConnectError(f"cannot connect to {self.address}: "
                               f"{exc.strerror or exc}", phase="connect") from None
        sock = stream.transport.get_extra_info("socket") if stream.transport else None
        if sock is not None and not self.unix:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._stream = stream
        self._conn = ClientConnection()
        self._unacked = False
        self._failed = None
        try:
            opts = self._session_options(stream.transport.get_extra_info("sockname")
                                         if stream.transport else None)
            await self._run(open_session(self._conn, opts, tls_active=implicit))
        except BaseException:
            await self.aclose(abort=True)
            raise
        self._forget_credentials()

    async def __aenter__(self) -> AsyncSMTPClient:
        await self.connect()
        return self

    async def __aexit__(self, et: type[BaseException] | None, ev: BaseException | None,
                        tb: TracebackType | None) -> None:
        try:
            if et is None:
                await self.quit()
        finally:
            # After a failure nothing queued needs to reach the server.
            await self.aclose(abort=et is not None)

    async def quit(self) -> None:
        if self._conn is None:
            return
        try:
            await self._run(close_session(self._conn, self._opts))
        except TransportError as exc:
            logger.debug("QUIT failed after the session: %s", exc)
        await self.aclose()

    async def aclose(self, *, abort: bool = False) -> None:
        """Close the connection and wait until it is closed.

        ``abort``: drop what is still queued for the server instead of
        waiting for it to be read (a server that stopped reading never would).
        """
        stream, self._stream = self._stream, None
        if stream is not None and stream.transport is not None:
            if abort:
                stream.transport.abort()
            else:
                stream.transport.close()
            try:
                await asyncio.wait_for(stream.lost.wait(), 5)
            except asyncio.TimeoutError:  # pragma: no cover - a stuck peer
                stream.transport.abort()

    async def send(self, message: Message, *, mail_from: str | None = None,
                   rcpt_to: Sequence[str] | None = None, allow_partial: bool = False,
                   dsn: DSN | None = None, progress: Progress | None = None,
                   require_tls: bool = False) -> SendResult:
        """The asyncio twin of :meth:`SMTPClient.send`. ``progress`` is called
        in the event loop; cancelling the task stops the send as an
        exception from ``progress`` does, before the end of data if it has
        not gone out yet."""
        self._check_require_tls(require_tls)
        return await self._send(message_job(message, mail_from, rcpt_to, dsn, progress,
                                            require_tls=require_tls), allow_partial)

    async def send_many(self, messages: Iterable[Message], *, allow_partial: bool = False,
                        dsn: DSN | None = None,
                        require_tls: bool = False) -> list[SendResult | TransportError]:
        """The asyncio twin of :meth:`SMTPClient.send_many`."""
        self._check_require_tls(require_tls)
        msgs = list(messages)
        makers = (functools.partial(message_job, m, None, None, dsn, require_tls=require_tls)
                  for m in msgs)
        return await self._send_jobs(makers, len(msgs), allow_partial)

    async def _send_jobs(self, makers: Iterable[Callable[[], Job]], n: int,
                         allow_partial: bool) -> list[SendResult | TransportError]:
        if self._conn is None:
            raise ConnectionLost("not connected", phase="mail")
        self._refuse("mail")    # before the core is asked for anything
        out: list[SendResult | TransportError] = []
        try:
            await self._run(send_messages(self._conn, self._opts, makers,
                                          allow_partial=allow_partial, out=out))
        except BaseException as exc:
            self._note_batch(exc, out, n)
            raise
        return self._account(out, n)

    async def send_raw(self, data: bytes, *, mail_from: str, rcpt_to: Sequence[str],
                       allow_partial: bool = False, dsn: DSN | None = None,
                       progress: Progress | None = None,
                       require_tls: bool = False) -> SendResult:
        """The asyncio twin of :meth:`SMTPClient.send_raw`."""
        self._check_require_tls(require_tls)
        return await self._send(raw_job(data, mail_from, rcpt_to, dsn, progress,
                                        require_tls=require_tls), allow_partial)

    async def _send(self, job: Job, allow_partial: bool) -> SendResult:
        if self._conn is None:
            raise ConnectionLost("not connected", phase="mail")
        self._refuse("mail")    # before the core is asked for anything
        result: SendResult = await self._run(send_message(self._conn, self._opts, job,
                                                       allow_partial=allow_partial))
        return result

    async def _run(self, flow: Flow[Any]) -> Any:
        assert self._conn is not None
        try:
            req = next(flow)
            while True:
                try:
                    result = await self._do(req)
                except TransportError as exc:
                    self._failure(exc)
                    req = flow.throw(exc)
                    continue
                req = flow.send(result)
        except StopIteration as stop:
            self._log()
            if self._stranded(None):
                await self.aclose(abort=True)
            return stop.value
        except TransportError as exc:
            if not exc.transcript:
                exc.transcript = list(self._conn.transcript)
            self._log()
            if self._stranded(exc):
                await self.aclose(abort=True)
            raise
        except BaseException as exc:
            if self._interrupted(exc):
                # No await here: the task may be being cancelled.
                stream, self._stream = self._stream, None
                if stream is not None and stream.transport is not None:
                    stream.transport.abort()
            raise

    async def _do(self, req: Any) -> Reply | None:
        self._refuse(req.phase)
        if isinstance(req, Write):
            await self._write(req)
            return None
        if isinstance(req, ReadReply):
            return await self._read(req)
        assert isinstance(req, UpgradeTLS)
        await self._upgrade(req.timeout)
        assert self._conn is not None
        self._conn.tls_started()
        return None

    async def _write(self, req: Write) -> None:
        stream = self._stream
        if stream is None or stream.transport is None or stream.closed:
            raise ConnectionLost("the connection is closed", phase=req.phase)
        self._unacked = False       # the write carries the acknowledgement
        try:
            stream.transport.write(req.data)
            drained = await stream.drain(req.timeout)
        except OSError as exc:
            raise ConnectionLost(f"the connection failed while sending: {exc}",
                                 phase=req.phase) from None
        if not drained:
            raise SMTPTimeout(f"sending timed out ({req.phase})", phase=req.phase)
        if req.more:
            # A large message whose writes the kernel takes at once would
            # otherwise hold the event loop, and a cancellation, until the end.
            await asyncio.sleep(0)

    async def _read(self, req: ReadReply) -> Reply:
        assert self._stream is not None
        assert self._conn is not None
        if (reply := self._poll(req)) is not None:
            return reply        # it came with an earlier read (pipelining)
        self._log()             # what was sent is in the log before the wait
        loop = asyncio.get_running_loop()
        deadline = loop.time() + req.timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise self._timed_out(req)
            stream = self._stream
            if self._unacked and not stream.chunks and stream.transport is not None:
                # the event loop read it from the TCP socket, which TLS leaves in place
                acknowledge(stream.transport.get_extra_info("socket"))
            data = await stream.read(remaining)
            if data is None:
                raise self._timed_out(req)
            self._unacked = True
            self._conn.receive_data(data)
            if (reply := self._poll(req)) is not None:
                return reply

    async def _upgrade(self, timeout: float) -> None:
        assert self._stream is not None
        assert self._stream.transport is not None
        loop = asyncio.get_running_loop()
        ctx = self._ssl or ssl.create_default_context()
        try:
            transport = await asyncio.wait_for(loop.start_tls(
                self._stream.transport, self._stream, ctx,
                server_hostname=self._tls_hostname), timeout)
        except asyncio.TimeoutError:
            raise TLSError("the TLS handshake timed out", phase="starttls") from None
        except ssl.SSLCertVerificationError as exc:
            raise TLSError(f"the server's certificate failed verification: "
                           f"{exc.verify_message or exc}", phase="starttls") from None
        except (ssl.SSLError, OSError) as exc:
            raise TLSError(f"the TLS handshake failed: {exc}", phase="starttls") from None
        if transport is None:  # pragma: no cover - only when the loop is closing
            raise TLSError("the TLS handshake did not complete", phase="starttls")
        assert isinstance(transport, asyncio.Transport)
        self._stream.transport = transport


async def send_async(message: Message, *, host: str, port: int | None = None,
                     tls: TLSMode = "starttls", allow_partial: bool = False,
                     dsn: DSN | None = None, progress: Progress | None = None,
                     require_tls: bool = False, retry: Retry | None = None,
                     **kwargs: Any) -> SendResult:
    """Connect, send one message, QUIT (asyncio). ``retry`` as in
    :func:`~mailfmt.transport.send`.

    >>> result = await send_async(message, host="smtp.example.com")  # doctest: +SKIP
    """
    if retry is None:
        async with AsyncSMTPClient(host, port, tls=tls, **kwargs) as client:
            return await client.send(message, allow_partial=allow_partial, dsn=dsn,
                                     progress=progress, require_tls=require_tls)
    attempts = Attempts(retry, list(message.envelope.rcpt_to), allow_partial=allow_partial)
    rcpt_to: list[str] | None = None      # the first try: the message's own
    while True:
        outcome: SendResult | TransportError
        try:
            async with AsyncSMTPClient(host, port, tls=tls, **kwargs) as client:
                outcome = await client.send(message, rcpt_to=rcpt_to,
                                            allow_partial=allow_partial, dsn=dsn,
                                            progress=progress, require_tls=require_tls)
        except TransportError as exc:
            outcome = exc
        wait = attempts.after(outcome)
        if wait is None:
            return attempts.finish(outcome)
        await asyncio.sleep(wait)
        rcpt_to = attempts.pending
