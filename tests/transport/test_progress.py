"""Progress as the message data goes out, and sends stopped part way: by the
progress callback, by a cancelled task, by an interrupt. A send stopped
before its end of data delivers nothing, the connection goes, and the
client says so for any later use; both drivers, against aiosmtpd and a
scripted server on loopback."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import threading
import time
from typing import Any

import pytest

from mailfmt import Attachment, Message
from mailfmt.errors import ConnectionLost
from mailfmt.transport import AsyncSMTPClient, SendResult, SMTPClient
from mailfmt.transport._message import WRITE_SIZE

from .conftest import Server
from .scripted import Peer

BIG = Message(from_="alice@example.com", to="bob@example.org", subject="big",
              text="see the file\n",
              attachments=[Attachment(filename="data.bin", content=bytes(range(256)) * 1200)])
SMALL = Message(from_="alice@example.com", to="bob@example.org", subject="small", text="hi\n")


class Stop(Exception):
    """The caller's own exception, raised from the callback."""


def _send(driver: str, port: int, message: Message, progress: Any, *,
          then: Message | None = None) -> tuple[SendResult | None, BaseException | None,
                                                 BaseException | None]:
    """Send ``message``, then (if given) ``then`` over the same client:
    (the first result, the first send's exception, the second send's)."""
    first: BaseException | None = None
    second: BaseException | None = None
    result: SendResult | None = None
    if driver == "sync":
        c = SMTPClient("127.0.0.1", port, tls="none", timeout=5)
        c.connect()
        try:
            try:
                result = c.send(message, progress=progress)
            except BaseException as exc:
                first = exc
            if then is not None:
                try:
                    c.send(then)
                except BaseException as exc:
                    second = exc
        finally:
            c.close()
        return result, first, second

    async def main() -> None:
        nonlocal result, first, second
        c = AsyncSMTPClient("127.0.0.1", port, tls="none", timeout=5)
        await c.connect()
        try:
            try:
                result = await c.send(message, progress=progress)
            except BaseException as exc:
                first = exc
            if then is not None:
                try:
                    await c.send(then)
                except BaseException as exc:
                    second = exc
        finally:
            await c.aclose(abort=True)
    asyncio.run(main())
    return result, first, second


def test_progress_counts_the_message_octets_up_to_the_whole(driver: str, smtpd: Server) -> None:
    calls: list[tuple[int, int]] = []
    delivered_at_last_call: list[int] = []

    def progress(sent: int, total: int) -> None:
        calls.append((sent, total))
        if sent == total:
            delivered_at_last_call.append(len(smtpd.sink.envelopes))
    result, exc, _ = _send(driver, smtpd.port, BIG, progress)
    assert exc is None and result is not None and result.ok
    data = BIG.to_bytes()
    assert {t for _, t in calls} == {len(data)}
    sent = [s for s, _ in calls]
    assert sent == sorted(set(sent)) and sent[-1] == len(data)
    # About one call per WRITE_SIZE octets written, and one with it all.
    assert len(data) // WRITE_SIZE <= len(calls) <= len(data) // WRITE_SIZE + 2
    # The last call comes before the end of data: the server has nothing yet.
    assert delivered_at_last_call == [0]
    assert smtpd.sink.envelopes[0].original_content == data


def test_a_small_message_is_reported_once(driver: str, smtpd: Server) -> None:
    calls: list[tuple[int, int]] = []
    result, exc, _ = _send(driver, smtpd.port, SMALL, lambda s, t: calls.append((s, t)))
    assert exc is None and result is not None and result.ok
    assert calls == [(len(SMALL.to_bytes()), len(SMALL.to_bytes()))]


def test_send_raw_reports_the_raw_octets(driver: str, smtpd: Server) -> None:
    data = BIG.to_bytes()
    calls: list[tuple[int, int]] = []

    def progress(sent: int, total: int) -> None:
        calls.append((sent, total))
    if driver == "sync":
        with SMTPClient("127.0.0.1", smtpd.port, tls="none", timeout=5) as c:
            c.send_raw(data, mail_from="alice@example.com", rcpt_to=["bob@example.org"],
                       progress=progress)
    else:
        async def main() -> None:
            async with AsyncSMTPClient("127.0.0.1", smtpd.port, tls="none", timeout=5) as c:
                await c.send_raw(data, mail_from="alice@example.com",
                                 rcpt_to=["bob@example.org"], progress=progress)
        asyncio.run(main())
    assert calls[-1] == (len(data), len(data))
    assert smtpd.sink.envelopes[0].original_content == data


def _holding(p: Peer) -> None:
    """One transaction without PIPELINING; the data is read until the client
    stops sending (an end of data is answered, though none should come)."""
    p.hello()
    p.lockstep()


@pytest.mark.parametrize("at", ["first", "last"])
def test_an_exception_from_progress_stops_the_send_undelivered(driver: str, scripted: Any,
                                                                at: str) -> None:
    srv = scripted(_holding)

    def progress(sent: int, total: int) -> None:
        if at == "first" or sent == total:
            raise Stop("the user cancelled")
    result, exc, later = _send(driver, srv.port, BIG, progress, then=SMALL)
    assert result is None
    assert isinstance(exc, Stop) and str(exc) == "the user cancelled"    # as it was raised
    assert any("nothing was delivered" in n for n in getattr(exc, "__notes__", ["nothing "
                                                                                "was delivered"]))
    # The session is out of step: the client refuses to go on, and says why.
    assert isinstance(later, ConnectionLost)
    assert "interrupted by Stop" in str(later)
    srv.close()
    sent = bytes(srv.received)
    assert b"DATA\r\n" in sent
    assert not sent.endswith(b"\r\n.\r\n") and b"\r\n.\r\n" not in sent.split(b"DATA\r\n")[1]
    if at == "last":
        # Everything but the end of data went out before the callback raised.
        assert len(sent.split(b"DATA\r\n", 1)[1]) >= len(BIG.to_bytes())


def test_a_cancelled_task_stops_the_send_undelivered(scripted: Any) -> None:
    def script(p: Peer) -> None:
        p.hello()
        p.to_data()
        time.sleep(0.5)     # reads nothing for a while: the client's writes wait
        p.drain(1.0)
    srv = scripted(script)
    calls: list[int] = []

    async def main() -> tuple[BaseException | None, BaseException | None]:
        async with AsyncSMTPClient("127.0.0.1", srv.port, tls="none", timeout=5) as c:
            inner = asyncio.ensure_future(c.send(BIG, progress=lambda s, t: (
                calls.append(s), inner.cancel())))
            try:
                await inner
            except asyncio.CancelledError as exc:
                cancelled: BaseException | None = exc
            else:
                cancelled = None
            try:
                await c.send(SMALL)
            except ConnectionLost as exc:
                return cancelled, exc
            return cancelled, None
    cancelled, later = asyncio.run(main())
    assert isinstance(cancelled, asyncio.CancelledError)
    assert isinstance(later, ConnectionLost) and "CancelledError" in str(later)
    assert "nothing was delivered" in str(later)
    assert calls and calls[-1] < len(BIG.to_bytes())
    srv.close()
    assert b"\r\n.\r\n" not in bytes(srv.received).split(b"DATA\r\n", 1)[1]


def test_cancelled_after_the_end_of_data_says_it_may_have_been_delivered(
        scripted: Any) -> None:
    got_data = threading.Event()

    def script(p: Peer) -> None:
        p.hello()
        p.to_data()
        p.data()
        got_data.set()      # and no reply: the client is cancelled waiting for it
        p.drain(1.0)
    srv = scripted(script)

    async def main() -> tuple[BaseException, BaseException]:
        c = AsyncSMTPClient("127.0.0.1", srv.port, tls="none", timeout=5)
        await c.connect()
        task = asyncio.ensure_future(c.send(SMALL))
        while not got_data.is_set():
            await asyncio.sleep(0.01)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError as exc:
            cancelled = exc
        try:
            await c.send(SMALL)
        except ConnectionLost as exc:
            return cancelled, exc
        raise AssertionError("the client went on after an interrupted session")
    cancelled, later = asyncio.run(main())
    assert "may or may not have been delivered" in str(later)
    if hasattr(cancelled, "__notes__"):
        assert any("may or may not have been delivered" in n for n in cancelled.__notes__)


def test_an_interrupt_between_messages_leaves_the_connection_usable(smtpd: Server) -> None:
    """Nothing owed, nothing begun: the session is in step and goes on."""
    with SMTPClient("127.0.0.1", smtpd.port, tls="none", timeout=5) as c:
        c.send(SMALL)

        def progress(sent: int, total: int) -> None:
            raise Stop
        with pytest.raises(Stop):
            c.send(SMALL, progress=progress)
        # That one stopped in its data: the connection went.
        with pytest.raises(ConnectionLost):
            c.send(SMALL)
    with SMTPClient("127.0.0.1", smtpd.port, tls="none", timeout=5) as c:
        with pytest.raises(ValueError):
            c.send(SMALL, rcpt_to=[])   # refused before any command: still in step
        assert c.send(SMALL).ok


def _batch(n: int) -> list[Message]:
    return [Message(from_="alice@example.com", to="bob@example.org", subject=f"n{i}",
                    text="hi\n") for i in range(n)]


def _stopped_at(note: str) -> tuple[int, int]:
    """(message number, delivered before it) from send_many's note, whose
    counts must add up."""
    m = re.search(r"stopped at message (\d+) of (\d+): of the (\d+) before it, (\d+) were "
                  r"delivered and (\d+) were not; the (\d+) after it were not sent", note)
    assert m is not None, note
    at, n, before, sent, not_sent, after = map(int, m.groups())
    assert before == at - 1 and sent + not_sent == before and at + after == n
    return at, sent


def test_an_interrupted_send_many_says_how_far_it_went(smtpd: Server) -> None:
    """A signal handler's exception stops the blocking client in its loop."""
    def stop(signum: int, frame: Any) -> None:
        raise Stop("a signal")
    old = signal.signal(signal.SIGUSR1, stop)

    def fire() -> None:
        while len(smtpd.sink.envelopes) < 5:
            time.sleep(0.005)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)
    try:
        with SMTPClient("127.0.0.1", smtpd.port, tls="none", timeout=5) as c:
            threading.Thread(target=fire, daemon=True).start()
            with pytest.raises(Stop) as info:
                c.send_many(_batch(3000))
            with pytest.raises(ConnectionLost):
                c.send(SMALL)
    finally:
        signal.signal(signal.SIGUSR1, old)
    if not hasattr(info.value, "__notes__"):
        pytest.skip("exception notes need Python 3.11")
    at, delivered = _stopped_at(" ".join(info.value.__notes__))
    # The sink counted 5; the client may not have read the 5th final reply yet.
    assert at == delivered + 1 and 4 <= delivered < 3000
    # The one in progress may have arrived (its reply was not read), no other.
    time.sleep(0.2)
    assert delivered <= len(smtpd.sink.envelopes) <= delivered + 1


def test_a_cancelled_send_many_says_how_far_it_went(smtpd: Server) -> None:
    async def main() -> BaseException:
        async with AsyncSMTPClient("127.0.0.1", smtpd.port, tls="none", timeout=5) as c:
            task = asyncio.ensure_future(c.send_many(_batch(3000)))
            while len(smtpd.sink.envelopes) < 5:
                await asyncio.sleep(0.005)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError as exc:
                return exc
            raise AssertionError("send_many was not cancelled")
    exc = asyncio.run(main())
    if not hasattr(exc, "__notes__"):
        pytest.skip("exception notes need Python 3.11")
    at, delivered = _stopped_at(" ".join(exc.__notes__))
    assert at == delivered + 1 and delivered >= 4
    time.sleep(0.2)
    assert delivered <= len(smtpd.sink.envelopes) <= delivered + 1


def _client_in(state: str) -> SMTPClient:
    """A client whose core is where ``state`` says (no socket: the core is
    driven by hand, as a session would drive it)."""
    from mailfmt.transport._connection import ClientConnection
    from mailfmt.transport._events import Data, Ehlo, EndOfMessage, Mail, MessageData, Rcpt

    c = SMTPClient("127.0.0.1", 25, tls="none")
    conn = c._conn = ClientConnection()
    conn.receive_data(b"220 mx.example.com ESMTP\r\n")
    conn.next_event()
    conn.send(Ehlo("client.example.com"))
    conn.receive_data(b"250 mx.example.com\r\n")
    conn.next_event()
    if state == "ready":
        return c
    conn.send(Mail("alice@example.com"))
    if state == "mail owed":
        return c
    conn.receive_data(b"250 ok\r\n")
    conn.next_event()
    conn.send(Rcpt("bob@example.org"))
    conn.receive_data(b"250 ok\r\n")
    conn.next_event()
    conn.send(Data())
    conn.receive_data(b"354 go\r\n")
    conn.next_event()
    conn.send(MessageData(b"Subject: x\r\n\r\nhi\r\n"))
    if state == "in data":
        return c
    conn.send(EndOfMessage())
    assert state == "final owed"
    return c


@pytest.mark.parametrize(("state", "fate"), [
    ("mail owed", "the message in progress had no end of data sent, so it was not delivered; "
                  "the connection was closed"),
    ("in data", "the message data was not ended, and the connection was closed: the server "
                "discards what it had; nothing was delivered"),
    ("final owed", "the end of data was sent and its reply not read: the message may or may "
                   "not have been delivered (RFC 5321 4.5.3.2.6)"),
])
def test_an_interruption_says_what_became_of_the_message(state: str, fate: str) -> None:
    c = _client_in(state)
    exc = Stop()
    assert c._interrupted(exc) is True      # the connection must go
    if sys.version_info >= (3, 11):     # exception notes
        assert exc.__notes__ == [f"mailfmt: the SMTP session was interrupted: {fate}"]
    with pytest.raises(ConnectionLost) as info:
        c._refuse("mail")
    assert "failure in phase interrupted" in str(info.value) and fate in str(info.value)
    assert "interrupted by Stop" in str(info.value)


def test_an_interruption_between_transactions_leaves_the_session_as_it_was() -> None:
    c = _client_in("ready")
    exc = Stop()
    assert c._interrupted(exc) is False
    assert getattr(exc, "__notes__", []) == []
    c._refuse("mail")       # nothing noted: the client goes on
    c._conn = None
    assert c._interrupted(exc) is False
