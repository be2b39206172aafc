"""send_many: each message's envelope pipelined behind the previous message's
end of data (RFC 2920 3.1), one outcome per message, for both drivers; and
the formatting that overlaps with the server's work."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mailfmt import Message
from mailfmt.errors import (
    ConnectionLost,
    DeliveryStatusUnknown,
    LocalProtocolError,
    MessageRefused,
    MessageTooLarge,
    RecipientsRefused,
    TransportError,
)
from mailfmt.transport import AsyncSMTPClient, SendResult, SMTPClient

from .conftest import Server
from .scripted import Peer


def msg(i: int, to: str = "r@example.org") -> Message:
    return Message(from_="alice@example.com", to=to, subject=f"n{i}", text=f"body {i}\n.\n")


def many(driver: str, port: int, msgs: list[Message],
         **kw: Any) -> list[SendResult | TransportError]:
    kw.setdefault("tls", "none")
    kw.setdefault("timeout", 3)
    if driver == "sync":
        with SMTPClient("127.0.0.1", port, **kw) as c:
            return c.send_many(msgs)

    async def main() -> list[SendResult | TransportError]:
        async with AsyncSMTPClient("127.0.0.1", port, **kw) as c:
            return await c.send_many(msgs)
    return asyncio.run(main())


def group(p: Peer) -> list[bytes]:
    return [p.line(), p.line(), p.line()]


def test_next_envelope_goes_out_before_the_final_reply(driver: str, scripted: Any) -> None:
    """Each MAIL, RCPT and DATA is read before the server answers the previous
    message's end of data: a client that waited would time out here."""
    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250-PIPELINING\r\n250 SIZE 100000\r\n")
        assert group(p)[2] == b"DATA"
        p.send(b"250 ok\r\n250 ok\r\n354 go\r\n")
        for i in range(1, 3):
            assert p.data().endswith(f"body {i - 1}\r\n..".encode())
            mail, rcpt, data = group(p)       # no reply sent yet for the message
            assert mail.startswith(b"MAIL FROM:<alice@example.com> SIZE=")
            assert (rcpt, data) == (b"RCPT TO:<r@example.org>", b"DATA")
            p.send(f"250 2.0.0 queued {i - 1}\r\n".encode() + b"250 ok\r\n250 ok\r\n354 go\r\n")
        p.data()
        p.send(b"250 2.0.0 queued 2\r\n")
        assert p.line() == b"QUIT"
        p.send(b"221 bye\r\n")
    s = scripted(script)
    results = many(driver, s.port, [msg(0), msg(1), msg(2)])
    assert all(isinstance(r, SendResult) and r.ok for r in results)
    assert [r.reply.text for r in results] == [f"queued {i}" for i in range(3)]  # type: ignore[union-attr]
    # Each transcript holds its own envelope and its own final reply.
    for i, r in enumerate(results):
        assert isinstance(r, SendResult)
        assert f"S: 250 2.0.0 queued {i}" in r.transcript
        assert r.transcript.count("C: DATA") == (2 if i < 2 else 1)


def test_refusals_stay_with_their_message(driver: str, scripted: Any) -> None:
    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250 PIPELINING\r\n")
        group(p)
        p.send(b"250 ok\r\n250 ok\r\n354 go\r\n")
        p.data()                                   # message 0
        group(p)
        p.send(b"250 queued\r\n250 ok\r\n250 ok\r\n354 go\r\n")
        p.data()                                   # message 1, refused at the end
        group(p)
        p.send(b"554 5.7.1 spam\r\n250 ok\r\n550 5.1.1 no such user\r\n554 no recipients\r\n")
        assert p.line() == b"RSET"                 # message 2: its recipient refused
        p.send(b"250 ok\r\n")
        group(p)                                   # message 3: a fresh group
        p.send(b"250 ok\r\n250 ok\r\n354 go\r\n")
        p.data()
        p.send(b"250 queued\r\n")
    s = scripted(script)
    r = many(driver, s.port, [msg(0), msg(1), msg(2, "nobody@example.org"), msg(3)])
    assert isinstance(r[0], SendResult) and r[0].ok
    assert isinstance(r[1], MessageRefused) and r[1].code == 554
    assert r[1].result.recipients[0].status == "rejected"
    assert isinstance(r[2], RecipientsRefused)
    assert [x.status for x in r[2].result.recipients] == ["rejected"]
    assert isinstance(r[3], SendResult) and r[3].ok
    assert s.received.count(b"Subject: n2") == 0


def test_connection_lost_after_the_dot_and_the_rest_not_sent(driver: str,
                                                             scripted: Any) -> None:
    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250 PIPELINING\r\n")
        group(p)
        p.send(b"250 ok\r\n250 ok\r\n354 go\r\n")
        p.data()
        group(p)
        p.reset()
    s = scripted(script)
    r = many(driver, s.port, [msg(0), msg(1), msg(2)])
    assert isinstance(r[0], DeliveryStatusUnknown)
    assert [x.status for x in r[0].result.recipients] == ["unknown"]
    for later in r[1:]:
        assert isinstance(later, ConnectionLost)
        assert not isinstance(later, DeliveryStatusUnknown)
        assert "was not sent" in str(later) and "at message 1" in str(later)


def test_a_message_over_size_is_refused_alone(driver: str, scripted: Any) -> None:
    big = Message(from_="alice@example.com", to="r@example.org", text="x" * 900 + "\n")

    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250-PIPELINING\r\n250 SIZE 800\r\n")
        group(p)
        p.send(b"250 ok\r\n250 ok\r\n354 go\r\n")
        p.data()
        p.send(b"250 queued\r\n")       # nothing was written ahead for the big one
        group(p)
        p.send(b"250 ok\r\n250 ok\r\n354 go\r\n")
        p.data()
        p.send(b"250 queued\r\n")
    s = scripted(script)
    r = many(driver, s.port, [msg(0), big, msg(2)])
    assert isinstance(r[1], MessageTooLarge)
    assert isinstance(r[0], SendResult) and isinstance(r[2], SendResult)
    assert b"x" * 900 not in s.received


def test_without_pipelining_every_message_still_arrives(driver: str, smtpd: Server) -> None:
    msgs = [msg(i, f"user{i}@example.org") for i in range(6)]
    results = many(driver, smtpd.port, msgs)
    assert all(isinstance(r, SendResult) and r.ok for r in results)
    assert [e.original_content for e in smtpd.sink.envelopes] == [m.to_bytes() for m in msgs]
    assert [e.rcpt_tos for e in smtpd.sink.envelopes] == [[f"user{i}@example.org"]
                                                           for i in range(6)]


def with_file(tmp_path: Any, i: int) -> tuple[Message, Any]:
    from mailfmt import Attachment

    f = tmp_path / f"a{i}.bin"
    f.write_bytes(b"attached" * 100)
    return Message(from_="alice@example.com", to=f"user{i}@example.org", subject=f"f{i}",
                   text="see attached\n", attachments=[Attachment.from_path(f)]), f


def test_a_file_gone_before_its_turn_fails_that_message_only(driver: str, smtpd: Server,
                                                              tmp_path: Any) -> None:
    """The file is opened when the message is made, before its MAIL: nothing
    was in flight, and the session goes on."""
    gone, f = with_file(tmp_path, 1)
    f.unlink()
    results = many(driver, smtpd.port, [msg(0, "user0@example.org"), gone,
                                        msg(2, "user2@example.org")])
    assert isinstance(results[0], SendResult) and isinstance(results[2], SendResult)
    assert isinstance(results[1], TransportError)
    assert results[1].args[0].startswith(
        "not sent: the message could not be made: an attached file cannot be opened: ")
    assert "a1.bin" in str(results[1]) and results[1].phase == "mail"
    assert any(line.startswith("S: 250") for line in results[1].transcript)
    assert [e.rcpt_tos for e in smtpd.sink.envelopes] == [["user0@example.org"],
                                                          ["user2@example.org"]]


def test_a_file_that_fails_during_data_stops_the_batch(driver: str, scripted: Any,
                                                        tmp_path: Any) -> None:
    """A file gone between the making of its message and its DATA: the
    message is cut short, never ended with its dot, and the connection is
    dropped at once, so that the server throws away what it has."""
    gone, f = with_file(tmp_path, 1)

    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250 PIPELINING\r\n")
        group(p)
        p.send(b"250 ok\r\n250 ok\r\n354 go\r\n")
        p.data()
        group(p)                                    # message 1's envelope, written ahead
        f.unlink()
        p.send(b"250 queued\r\n250 ok\r\n250 ok\r\n354 go\r\n")
        p.drain(1)
    s = scripted(script)
    results = many(driver, s.port, [msg(0), gone, msg(2)])
    assert isinstance(results[0], SendResult) and results[0].ok
    failed = results[1]
    assert isinstance(failed, LocalProtocolError) and failed.phase == "message"
    assert failed.args[0].startswith("not sent: the message could not be read: ")
    assert [(r.status, r.text) for r in failed.result.recipients] == [
        ("deferred", "not sent: the message data failed")]
    assert isinstance(results[2], ConnectionLost)
    assert "was not sent: sending stopped at message 2" in str(results[2])
    assert s.received.count(b"\r\n.\r\n") == 1     # only message 0 was ended
    assert not s.received.endswith(b"QUIT\r\n")    # dropped, not quit


def test_one_send_whose_file_is_gone_fails_before_mail(driver: str, scripted: Any,
                                                       tmp_path: Any) -> None:
    gone, f = with_file(tmp_path, 1)
    f.unlink()

    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250 8BITMIME\r\n")
        p.lockstep()
    s = scripted(script)

    if driver == "sync":
        with SMTPClient("127.0.0.1", s.port, tls="none", timeout=3) as c:
            with pytest.raises(LocalProtocolError) as first:
                c.send(gone)
            error, second = first.value, c.send(msg(2))
    else:
        async def main() -> tuple[BaseException, SendResult]:
            async with AsyncSMTPClient("127.0.0.1", s.port, tls="none", timeout=3) as c:
                with pytest.raises(LocalProtocolError) as first:
                    await c.send(gone)
                return first.value, await c.send(msg(2))
        error, second = asyncio.run(main())
    assert error.args[0].startswith("an attached file cannot be opened: ")
    assert isinstance(error, LocalProtocolError) and error.phase == "mail"
    assert second.ok and s.received.count(b"MAIL FROM") == 1


def test_one_send_whose_file_goes_during_data_drops_the_connection(
        driver: str, scripted: Any, tmp_path: Any) -> None:
    """The same for one send: a typed error, not the OSError, and a
    connection that carries nothing more (the server still waits for data)."""
    gone, f = with_file(tmp_path, 1)

    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250 8BITMIME\r\n")
        for reply in (b"250 ok\r\n", b"250 ok\r\n"):
            assert p.line()[:4] in (b"MAIL", b"RCPT")
            p.send(reply)
        assert p.line() == b"DATA"
        f.unlink()
        p.send(b"354 go\r\n")
        p.drain(1)
    s = scripted(script)

    def check(first: BaseException, second: BaseException) -> None:
        assert isinstance(first, LocalProtocolError) and first.phase == "message"
        assert first.args[0].startswith("not sent: the message could not be read: ")
        assert [r.status for r in first.result.recipients] == ["deferred"]
        assert isinstance(second, ConnectionLost)
        assert "cannot be used after the failure in phase message" in str(second)

    if driver == "sync":
        with SMTPClient("127.0.0.1", s.port, tls="none", timeout=3) as c:
            with pytest.raises(LocalProtocolError) as first:
                c.send(gone)
            with pytest.raises(ConnectionLost) as second:
                c.send(msg(2))
        check(first.value, second.value)
    else:
        async def main() -> tuple[BaseException, BaseException]:
            async with AsyncSMTPClient("127.0.0.1", s.port, tls="none", timeout=3) as c:
                with pytest.raises(LocalProtocolError) as first:
                    await c.send(gone)
                with pytest.raises(ConnectionLost) as second:
                    await c.send(msg(2))
            return first.value, second.value
        check(*asyncio.run(main()))
    assert b"\r\n.\r\n" not in s.received and not s.received.endswith(b"QUIT\r\n")


def test_send_formats_while_the_server_answers_mail(driver: str, scripted: Any,
                                                     monkeypatch: Any) -> None:
    """Without SIZE nothing needs the bytes before MAIL: the message is
    formatted after MAIL is written and before its reply is read, so that a
    server answering one command at a time does not wait for it."""
    import threading

    mail_seen, formatted = threading.Event(), threading.Event()
    order: list[str] = []
    real = Message.to_bytes

    def to_bytes(self: Message) -> bytes:
        # Formatting before MAIL would wait here in vain: MAIL is not out yet.
        order.append("formatted after MAIL" if mail_seen.wait(2) else "formatted first")
        formatted.set()
        return real(self)
    monkeypatch.setattr(Message, "to_bytes", to_bytes)

    def script(p: Peer) -> None:
        p.hello()
        if not p.line().startswith(b"MAIL FROM:"):
            return
        mail_seen.set()
        if formatted.wait(5):           # before the reply, not after it
            order.append("then the MAIL reply")
        p.send(b"250 ok\r\n")
        assert p.line() == b"RCPT TO:<r@example.org>"
        p.send(b"250 ok\r\n")
        assert p.line() == b"DATA"
        p.send(b"354 go\r\n")
        p.data()
        p.send(b"250 2.0.0 queued\r\n")
        assert p.line() == b"QUIT"
        p.send(b"221 bye\r\n")
    s = scripted(script)
    kw: dict[str, Any] = {"tls": "none", "timeout": 10}
    if driver == "sync":
        with SMTPClient("127.0.0.1", s.port, **kw) as c:
            result = c.send(msg(0))
    else:
        async def main() -> SendResult:
            async with AsyncSMTPClient("127.0.0.1", s.port, **kw) as c:
                return await c.send(msg(0))
        result = asyncio.run(main())
    assert result.ok
    assert order == ["formatted after MAIL", "then the MAIL reply"]


def test_a_message_that_cannot_be_made_after_mail_is_reset(driver: str, scripted: Any,
                                                           monkeypatch: Any) -> None:
    """Made while the server answers MAIL, a message that fails to format is
    answered with RSET before any RCPT, and the session goes on."""
    from mailfmt.errors import LocalProtocolError, MailfmtError

    real = Message.to_bytes
    calls: list[str] = []

    def to_bytes(self: Message) -> bytes:
        calls.append(self.subject or "")
        if self.subject == "n0":
            raise MailfmtError("cannot format this one")
        return real(self)
    monkeypatch.setattr(Message, "to_bytes", to_bytes)

    def script(p: Peer) -> None:
        p.hello()
        assert p.line().startswith(b"MAIL FROM:")
        p.send(b"250 ok\r\n")
        assert p.line() == b"RSET"                   # no RCPT for the failed message
        p.send(b"250 ok\r\n")
        assert p.line().startswith(b"MAIL FROM:")
        p.send(b"250 ok\r\n")
        assert p.line() == b"RCPT TO:<r@example.org>"
        p.send(b"250 ok\r\n")
        assert p.line() == b"DATA"
        p.send(b"354 go\r\n")
        assert b"body 1" in p.data()
        p.send(b"250 2.0.0 queued\r\n")
        assert p.line() == b"QUIT"
        p.send(b"221 bye\r\n")
    s = scripted(script)
    kw: dict[str, Any] = {"tls": "none", "timeout": 10}
    outcomes: list[object] = []
    if driver == "sync":
        with SMTPClient("127.0.0.1", s.port, **kw) as c:
            for m in (msg(0), msg(1)):
                try:
                    outcomes.append(c.send(m))
                except LocalProtocolError as exc:
                    outcomes.append(exc)
    else:
        async def main() -> None:
            async with AsyncSMTPClient("127.0.0.1", s.port, **kw) as c:
                for m in (msg(0), msg(1)):
                    try:
                        outcomes.append(await c.send(m))
                    except LocalProtocolError as exc:
                        outcomes.append(exc)
        asyncio.run(main())
    first, second = outcomes
    assert isinstance(first, LocalProtocolError) and first.phase == "mail"
    assert "cannot format this one" in str(first)
    assert isinstance(second, SendResult) and second.ok
    assert calls == ["n0", "n1"]


def test_a_file_gone_behind_a_pipelined_message_fails_alone(driver: str, scripted: Any,
                                                            tmp_path: Any) -> None:
    """The file is read for SIZE when the envelope would be written ahead:
    that message is left to fail in its turn, the one before is not touched."""
    gone, f = with_file(tmp_path, 1)
    f.unlink()

    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250-PIPELINING\r\n250 SIZE 1000000\r\n")
        for i in (0, 2):
            assert group(p)[1] == b"RCPT TO:<r@example.org>"
            p.send(b"250 ok\r\n250 ok\r\n354 go\r\n")
            assert p.data().endswith(f"body {i}\r\n..".encode())
            p.send(f"250 queued {i}\r\n".encode())
    s = scripted(script)
    r = many(driver, s.port, [msg(0), gone, msg(2)])
    assert isinstance(r[0], SendResult) and isinstance(r[2], SendResult)
    assert isinstance(r[1], TransportError) and "could not be made" in str(r[1])


def test_without_pipelining_a_refusal_stays_with_its_message(driver: str,
                                                             scripted: Any) -> None:
    """The next MAIL goes out as soon as a final reply is in, refusal or not;
    each result and error keeps its own transaction."""
    def script(p: Peer) -> None:
        p.hello()
        p.lockstep(b"554 5.7.1 rejected\r\n")
        p.lockstep(b"250 2.0.0 queued 1\r\n")
    s = scripted(script)
    r = many(driver, s.port, [msg(0), msg(1)])
    assert isinstance(r[0], MessageRefused) and r[0].code == 554
    assert isinstance(r[1], SendResult) and r[1].ok
    assert r[0].result.transcript.count("C: MAIL FROM:<alice@example.com>") == 1
    assert r[1].transcript.count("C: MAIL FROM:<alice@example.com>") == 1
    assert r[1].transcript[-1] == "S: 250 2.0.0 queued 1"


def test_without_pipelining_a_reset_after_a_final_250_keeps_that_message(
        driver: str, scripted: Any) -> None:
    def script(p: Peer) -> None:
        p.hello()
        p.lockstep(b"250 2.0.0 queued 0\r\n")
        p.reset()
    s = scripted(script)
    r = many(driver, s.port, [msg(0), msg(1), msg(2)])
    assert isinstance(r[0], SendResult) and r[0].ok
    assert all(isinstance(x, ConnectionLost) and not isinstance(x, DeliveryStatusUnknown)
               for x in r[1:])


def test_long_batches_keep_a_bounded_transcript(scripted: Any, smtpd: Server) -> None:
    """With and without PIPELINING, send_many trims the session's transcript
    as send does, and each result still holds its own transaction."""
    from mailfmt.transport._connection import TRANSCRIPT_TAIL

    n = 300

    def pipelined(p: Peer) -> None:
        p.hello(b"250-mx\r\n250 PIPELINING\r\n")
        group(p)
        p.send(b"250 ok\r\n250 ok\r\n354 go\r\n")
        for i in range(n):
            p.data()
            if i < n - 1:
                group(p)
                p.send(f"250 queued {i}\r\n".encode() + b"250 ok\r\n250 ok\r\n354 go\r\n")
            else:
                p.send(f"250 queued {i}\r\n".encode())
    for port in (scripted(pipelined).port, smtpd.port):
        with SMTPClient("127.0.0.1", port, tls="none", timeout=5) as c:
            results = c.send_many([msg(i) for i in range(n)])
            assert c._conn is not None
            assert len(c._conn.transcript) <= 4 * TRANSCRIPT_TAIL
            assert c._conn.transcript_dropped > 0
        assert all(isinstance(r, SendResult) and r.ok for r in results)
        last = results[-1]
        assert isinstance(last, SendResult)
        assert last.transcript[0].startswith("S: 220")
        assert last.transcript[-1].startswith("S: 250")


def test_attached_files_are_read_once_for_size_and_once_for_data(
        driver: str, scripted: Any, tmp_path: Any, monkeypatch: Any) -> None:
    from mailfmt import Attachment

    reads: dict[str, int] = {}
    real = Attachment.iter_content

    def counting(self: Attachment) -> Any:
        reads[str(self.path)] = reads.get(str(self.path), 0) + 1
        return real(self)
    monkeypatch.setattr(Attachment, "iter_content", counting)
    msgs = [with_file(tmp_path, i)[0] for i in range(3)]

    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250-PIPELINING\r\n250 SIZE 1000000\r\n")
        group(p)
        p.send(b"250 ok\r\n250 ok\r\n354 go\r\n")
        for i in range(3):
            p.data()
            if i < 2:
                group(p)
                p.send(b"250 queued\r\n250 ok\r\n250 ok\r\n354 go\r\n")
            else:
                p.send(b"250 queued\r\n")
    s = scripted(script)
    assert all(isinstance(r, SendResult) and r.ok for r in many(driver, s.port, msgs))
    assert sorted(reads.values()) == [2, 2, 2]
