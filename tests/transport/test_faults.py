"""Fault injection against a scripted server on loopback, for both drivers.

Each case asserts the error type, the phase, what the client sent after the
fault, and the per-recipient outcome (research/security.md section 9).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from typing import Any

import pytest
import trustme

from mailfmt import Message
from mailfmt.errors import (
    AuthError,
    ConnectError,
    ConnectionLost,
    DataRefused,
    DeliveryStatusUnknown,
    LocalProtocolError,
    MessageRefused,
    MessageTooLarge,
    RecipientsRefused,
    RemoteProtocolError,
    SenderRefused,
    SMTPReplyError,
    SMTPTimeout,
    TLSError,
)
from mailfmt.transport import AsyncSMTPClient, SendResult, SMTPClient

from .scripted import Peer

MSG = Message(from_="alice@example.com", to=["r1@example.org", "r2@example.org",
                                             "r3@example.org"], subject="t", text="hi\n")
ONE = Message(from_="alice@example.com", to="r1@example.org", subject="t", text="hi\n")


def run(driver: str, port: int, message: Message = MSG, **kw: Any) -> SendResult:
    allow_partial = kw.pop("allow_partial", False)
    kw.setdefault("tls", "none")
    kw.setdefault("timeout", 2)
    if driver == "sync":
        with SMTPClient("127.0.0.1", port, **kw) as c:
            return c.send(message, allow_partial=allow_partial)

    async def main() -> SendResult:
        async with AsyncSMTPClient("127.0.0.1", port, **kw) as c:
            return await c.send(message, allow_partial=allow_partial)
    return asyncio.run(main())


def transaction(p: Peer, rcpt_replies: list[bytes], final: bytes = b"250 2.0.0 queued\r\n"
                ) -> None:
    assert p.line().startswith(b"MAIL")
    p.send(b"250 2.1.0 ok\r\n")
    for r in rcpt_replies:
        assert p.line().startswith(b"RCPT")
        p.send(r)


def test_t1_refused_connection(driver: str) -> None:
    from .conftest import free_port

    with pytest.raises(ConnectError) as exc:
        run(driver, free_port())
    assert exc.value.phase == "connect"


def test_t2_no_greeting(driver: str, scripted: Any) -> None:
    s = scripted(lambda p: time.sleep(2.5))
    start = time.monotonic()
    with pytest.raises(SMTPTimeout) as exc:
        run(driver, s.port, timeout=1)
    assert exc.value.phase == "greeting" and time.monotonic() - start < 2.4
    assert s.received == b""


@pytest.mark.parametrize(("code", "transient"), [(421, True), (554, False)])
def test_t3_t4_greeting_refused(driver: str, scripted: Any, code: int, transient: bool) -> None:
    s = scripted(lambda p: p.send(f"{code} 4.3.2 go away\r\n".encode()))
    with pytest.raises(SMTPReplyError) as exc:
        run(driver, s.port)
    assert exc.value.code == code and exc.value.is_transient is transient
    assert exc.value.phase == "greeting"
    assert s.commands() == []     # not even EHLO


def test_t5_ehlo_502_falls_back_to_helo_only_in_plain_mode(driver: str, scripted: Any) -> None:
    def script(p: Peer) -> None:
        p.send(b"220 old.example.com\r\n")
        assert p.line().startswith(b"EHLO")
        p.send(b"502 command not implemented\r\n")
        assert p.line().startswith(b"HELO")
        p.send(b"250 old.example.com\r\n")
        transaction(p, [b"250 ok\r\n"])
        assert p.line() == b"DATA"
        p.send(b"354 go\r\n")
        p.data()
        p.send(b"250 queued\r\n")
    s = scripted(script)
    assert run(driver, s.port, ONE).ok
    s2 = scripted(lambda p: (p.send(b"220 x\r\n"), p.line(), p.send(b"502 no\r\n")))
    with pytest.raises(SMTPReplyError) as exc:
        run(driver, s2.port, ONE, tls="starttls")
    assert exc.value.phase == "ehlo" and b"HELO" not in s2.received


def test_t6_starttls_not_offered(driver: str, scripted: Any) -> None:
    s = scripted(lambda p: p.hello())
    with pytest.raises(TLSError, match="does not offer STARTTLS") as exc:
        run(driver, s.port, tls="starttls", username="u", password="p")
    assert exc.value.phase == "starttls"
    assert s.commands() == [b"EHLO"]      # no AUTH, MAIL or RCPT


def test_t7_starttls_refused(driver: str, scripted: Any) -> None:
    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250 STARTTLS\r\n")
        assert p.line() == b"STARTTLS"
        p.send(b"454 4.7.0 TLS not available\r\n")
    s = scripted(script)
    with pytest.raises(TLSError) as exc:
        run(driver, s.port, tls="starttls")
    assert exc.value.reply.code == 454
    assert s.commands() == [b"EHLO", b"STARTTLS"]


@pytest.mark.parametrize("extra", [b"250 AUTH PLAIN\r\n", b"250-AUTH"])
def test_t8_data_injected_after_starttls_220(driver: str, scripted: Any, extra: bytes) -> None:
    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250 STARTTLS\r\n")
        assert p.line() == b"STARTTLS"
        p.send(b"220 go ahead\r\n" + extra)
    s = scripted(script)
    with pytest.raises(RemoteProtocolError, match="after the STARTTLS"):
        run(driver, s.port, tls="starttls")
    assert s.commands() == [b"EHLO", b"STARTTLS"]


def _serve_tls(p: Peer, server_ctx: ssl.SSLContext, *, starttls: bool,
               over_tls: list[bytes]) -> None:
    """TLS with ``server_ctx``: after a 220 to STARTTLS, or from the first
    byte (implicit TLS, then the greeting). If the handshake succeeds, the
    server keeps what the client sends in ``over_tls`` until it can tell a
    command, then hangs up."""
    if starttls:
        p.hello(b"250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n")
        assert p.line() == b"STARTTLS"
        p.send(b"220 go ahead\r\n")
    with contextlib.suppress(ssl.SSLError, OSError), \
            server_ctx.wrap_socket(p.conn, server_side=True) as tls:
        if not starttls:
            tls.sendall(b"220 mx.example.com ESMTP\r\n")
        over_tls.append(tls.recv(4))


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_t9_certificate_for_another_host(driver: str, scripted: Any, ca: trustme.CA,
                                         tls: str) -> None:
    # Signed by a CA the client trusts, but for another name than the one
    # dialled: host name checking must refuse it, with no fallback.
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("mail.example.net").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    starttls = tls == "starttls"
    over_tls: list[bytes] = []
    s = scripted(lambda p: _serve_tls(p, server_ctx, starttls=starttls, over_tls=over_tls))
    with pytest.raises(TLSError, match=r"certificate failed verification.*127\.0\.0\.1") as exc:
        run(driver, s.port, tls=tls, ssl_context=client_ctx, username="u", password="p")
    assert exc.value.phase == "starttls"
    # In the clear, EHLO and STARTTLS (or nothing); over TLS, nothing at all.
    s.close()
    assert s.commands() == ([b"EHLO", b"STARTTLS"] if starttls else [])
    assert over_tls == []
    # The same server passes the handshake once the name checked is the one
    # the certificate names, and gets the EHLO: the refusal above was the
    # host name's.
    good = scripted(lambda p: _serve_tls(p, server_ctx, starttls=starttls,
                                         over_tls=over_tls))
    with pytest.raises(ConnectionLost) as after:
        run(driver, good.port, tls=tls, ssl_context=client_ctx,
            tls_hostname="mail.example.net")
    assert after.value.phase == "ehlo"
    good.close()
    assert over_tls == [b"EHLO"]


def test_t9_server_stays_plaintext_after_220(driver: str, scripted: Any) -> None:
    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n")
        assert p.line() == b"STARTTLS"
        p.send(b"220 go ahead\r\n")
        assert p._fill()
        p.send(b"500 5.5.2 unrecognized command\r\n")
    s = scripted(script)
    with pytest.raises(TLSError, match="TLS handshake failed") as exc:
        run(driver, s.port, tls="starttls", ssl_context=ssl.create_default_context(),
            username="u", password="p")
    assert exc.value.phase == "starttls"
    # All that followed STARTTLS was TLS handshake records (RFC 8446 5.1:
    # content type 22), the ClientHello: nothing in the clear after the
    # server's plaintext answer, and no credentials.
    after = bytes(s.received).split(b"STARTTLS\r\n", 1)[1]
    assert after[:3] == b"\x16\x03\x01"
    assert b"AUTH" not in s.received and b"MAIL" not in s.received
    assert s.commands()[:2] == [b"EHLO", b"STARTTLS"]


def test_t12_endless_auth_challenges(driver: str, scripted: Any) -> None:
    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250 AUTH LOGIN\r\n")
        assert p.line().startswith(b"AUTH LOGIN")
        for _ in range(6):
            p.send(b"334 VXNlcm5hbWU6\r\n")
            if not p.line():
                return
    s = scripted(script)
    with pytest.raises(AuthError, match="LOGIN: more than two challenges") as exc:
        run(driver, s.port, username="u", password="p", allow_insecure_auth=True)
    assert exc.value.phase == "auth"
    # EHLO, AUTH LOGIN, the user and the password: no answer to a third prompt.
    assert bytes(s.received).count(b"\r\n") == 4


def test_t13_mail_refused(driver: str, scripted: Any) -> None:
    def script(p: Peer) -> None:
        p.hello()
        assert p.line().startswith(b"MAIL")
        p.send(b"550 5.7.1 sender rejected\r\n")
        assert p.line() == b"RSET"
        p.send(b"250 ok\r\n")
    s = scripted(script)
    with pytest.raises(SenderRefused) as exc:
        run(driver, s.port)
    assert exc.value.is_permanent and exc.value.enhanced == (5, 7, 1)
    assert b"RCPT" not in s.received
    assert [r.status for r in exc.value.result.recipients] == ["deferred"] * 3


def mixed_rcpts(p: Peer, *, partial: bool) -> None:
    p.hello()
    transaction(p, [b"250 ok\r\n", b"550 5.1.1 no such user\r\n", b"450 4.2.0 busy\r\n"])
    if not partial:
        assert p.line() == b"RSET"
        p.send(b"250 ok\r\n")
        return
    assert p.line() == b"DATA"
    p.send(b"354 go\r\n")
    p.data()
    p.send(b"250 2.0.0 queued\r\n")


def test_t14_mixed_recipients_refused_by_default(driver: str, scripted: Any) -> None:
    s = scripted(lambda p: mixed_rcpts(p, partial=False))
    with pytest.raises(RecipientsRefused) as exc:
        run(driver, s.port)
    assert b"DATA" not in s.received
    assert [r.status for r in exc.value.result.recipients] == ["deferred", "rejected",
                                                               "deferred"]


def test_t14_mixed_recipients_with_allow_partial(driver: str, scripted: Any) -> None:
    s2 = scripted(lambda p: mixed_rcpts(p, partial=True))
    result = run(driver, s2.port, allow_partial=True)
    assert [r.address for r in result.accepted] == ["r1@example.org"]
    assert [(r.address, r.code) for r in result.rejected] == [("r2@example.org", 550)]
    assert [(r.address, r.enhanced) for r in result.deferred] == [("r3@example.org", (4, 2, 0))]


def test_t15_all_refused_sends_no_data(driver: str, scripted: Any) -> None:
    def script(p: Peer) -> None:
        p.hello()
        transaction(p, [b"550 no\r\n"] * 3)
        assert p.line() == b"RSET"
        p.send(b"250 ok\r\n")
    s = scripted(script)
    with pytest.raises(RecipientsRefused) as exc:
        run(driver, s.port, allow_partial=True)
    assert b"DATA" not in s.received
    assert not exc.value.result.accepted


def test_t16_452_at_the_101st_recipient_continues_in_a_new_transaction(
        driver: str, scripted: Any) -> None:
    rcpts = [f"u{i}@example.org" for i in range(105)]

    def script(p: Peer) -> None:
        p.hello()
        transaction(p, [b"250 ok\r\n"] * 90 + [b"452 4.5.3 too many recipients\r\n"] * 10)
        assert p.line() == b"DATA"
        p.send(b"354 go\r\n")
        p.data()
        p.send(b"250 queued 1\r\n")
        transaction(p, [b"250 ok\r\n"] * 15)
        assert p.line() == b"DATA"
        p.send(b"354 go\r\n")
        p.data()
        p.send(b"250 queued 2\r\n")
    s = scripted(script)
    msg = Message(from_="alice@example.com", to=rcpts, text="x")
    result = run(driver, s.port, msg)
    assert len(result.accepted) == 105 and result.ok
    assert bytes(s.received).count(b"RCPT TO") == 115
    assert bytes(s.received).count(b"MAIL FROM") == 2


CLOSING = b"421 4.3.2 shutting down\r\n"


def closing_at(p: Peer, where: str, *, pipelining: bool = False) -> None:
    """A server that must shut down answers a command with 421 (RFC 5321
    3.8), then reads on (Peer.drain) to see whatever the client still sends."""
    if pipelining:
        p.hello(b"250-mx.example.com\r\n250 PIPELINING\r\n")
        while p.buf.count(b"\r\n") < 5:          # MAIL, three RCPTs, DATA
            assert p._fill()
        p.buf = b""
        p.send(b"250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n"
               + (b"250 ok\r\n" if where == "data" else b"") + CLOSING)
        return
    p.hello()
    if where == "mail":
        assert p.line().startswith(b"MAIL")
        p.send(CLOSING)
        return
    transaction(p, [b"250 ok\r\n", b"550 5.1.1 no such user\r\n"]
                + ([CLOSING] if where == "rcpt" else [b"250 ok\r\n"]))
    if where == "data":
        assert p.line() == b"DATA"
        p.send(CLOSING)


@pytest.mark.parametrize(("where", "pipelining"),
                         [("mail", False), ("rcpt", False), ("rcpt", True), ("data", True)])
def test_t17_421_mid_transaction_closes_the_session(
        driver: str, scripted: Any, where: str, pipelining: bool) -> None:
    """RFC 5321 3.8: a 421 may answer any command, and the server closes.
    The client sends nothing more (no further RCPT, no RSET, no QUIT); a
    refusal it got stands, every other recipient is deferred with the 421,
    and the error says the server closed the session."""
    s = scripted(lambda p: closing_at(p, where, pipelining=pipelining))
    with pytest.raises(SMTPReplyError) as exc:
        run(driver, s.port, allow_partial=True)
    err = exc.value
    assert type(err) is SMTPReplyError and err.code == 421 and err.is_transient
    assert err.phase == where
    assert "the server closed the session: 421 4.3.2 shutting down" in str(err)
    assert err.result is not None
    closed = ("deferred", 421, (4, 3, 2), "shutting down")
    refused = ("rejected", 550, (5, 1, 1), "no such user")
    expected = [closed, closed if where == "mail" else refused, closed]
    assert [(r.status, r.code, r.enhanced, r.text) for r in err.result.recipients] == expected
    last = {"mail": b"MAIL FROM:<alice@example.com>\r\n",
            "rcpt": b"DATA\r\n" if pipelining else b"RCPT TO:<r3@example.org>\r\n",
            "data": b"DATA\r\n"}[where]
    assert bytes(s.received).endswith(last)     # and nothing after it


@pytest.mark.parametrize("pipelining", [False, True])
def test_t17_a_4yz_before_the_421_keeps_its_own_reply(driver: str, scripted: Any,
                                                      pipelining: bool) -> None:
    """A recipient the server deferred before it shut down keeps that reply:
    its own code and text say why, not the 421 that came after it."""
    def script(p: Peer) -> None:
        replies = [b"250 ok\r\n", b"450 4.2.1 mailbox busy\r\n", CLOSING]
        if not pipelining:
            p.hello()
            transaction(p, replies)
            return
        p.hello(b"250-mx.example.com\r\n250 PIPELINING\r\n")
        while p.buf.count(b"\r\n") < 5:          # MAIL, three RCPTs, DATA
            assert p._fill()
        p.send(b"250 ok\r\n" + b"".join(replies))
    s = scripted(script)
    with pytest.raises(SMTPReplyError) as exc:
        run(driver, s.port, allow_partial=True)
    assert exc.value.code == 421 and exc.value.phase == "rcpt"
    assert exc.value.result is not None
    assert [(r.address, r.status, r.code, r.enhanced, r.text)
            for r in exc.value.result.recipients] == [
        ("r1@example.org", "deferred", 421, (4, 3, 2), "shutting down"),
        ("r2@example.org", "deferred", 450, (4, 2, 1), "mailbox busy"),
        ("r3@example.org", "deferred", 421, (4, 3, 2), "shutting down")]


def test_t17_421_to_data_refuses_the_data_and_sends_nothing_more(
        driver: str, scripted: Any) -> None:
    s = scripted(lambda p: closing_at(p, "data"))
    with pytest.raises(DataRefused) as exc:
        run(driver, s.port, allow_partial=True)
    assert exc.value.code == 421 and exc.value.phase == "data"
    assert exc.value.result is not None
    assert [(r.status, r.code) for r in exc.value.result.recipients] == [
        ("deferred", 421), ("rejected", 550), ("deferred", 421)]
    assert bytes(s.received).endswith(b"\r\nDATA\r\n")


def test_t17_a_client_closed_by_421_says_so_when_used_again(driver: str,
                                                           scripted: Any) -> None:
    s = scripted(lambda p: closing_at(p, "mail"))

    async def twice_async() -> None:
        async with AsyncSMTPClient("127.0.0.1", s.port, tls="none", timeout=2) as c:
            with pytest.raises(SMTPReplyError):
                await c.send(ONE)
            with pytest.raises(ConnectionLost, match="cannot be used after the failure"):
                await c.send(ONE)
    if driver == "sync":
        with SMTPClient("127.0.0.1", s.port, tls="none", timeout=2) as c:
            with pytest.raises(SMTPReplyError):
                c.send(ONE)
            with pytest.raises(ConnectionLost, match="cannot be used after the failure"):
                c.send(ONE)
    else:
        asyncio.run(twice_async())
    assert bytes(s.received).endswith(b"MAIL FROM:<alice@example.com>\r\n")


def test_t17_send_many_stops_at_a_421(driver: str, scripted: Any) -> None:
    """The messages after the one a 421 stopped are not sent, each saying so."""
    s = scripted(lambda p: closing_at(p, "mail"))
    msgs = [ONE, MSG]
    if driver == "sync":
        with SMTPClient("127.0.0.1", s.port, tls="none", timeout=2) as c:
            out = c.send_many(msgs)
    else:
        async def main() -> list[Any]:
            async with AsyncSMTPClient("127.0.0.1", s.port, tls="none", timeout=2) as c:
                return await c.send_many(msgs)
        out = asyncio.run(main())
    assert type(out[0]) is SMTPReplyError and out[0].code == 421
    assert isinstance(out[1], ConnectionLost) and "was not sent" in str(out[1])
    assert bytes(s.received).count(b"MAIL FROM") == 1


@pytest.mark.parametrize("where", ["rcpt", "data"])
def test_a_connection_lost_before_the_data_defers_every_recipient(
        driver: str, scripted: Any, where: str) -> None:
    """Reset while the envelope is answered, or while DATA's 354 is awaited:
    the message went to nobody, and the error's result says so for each
    recipient (the same map a result would have; research 9's invariant)."""
    def script(p: Peer) -> None:
        p.hello()
        transaction(p, [b"250 ok\r\n"] * (1 if where == "rcpt" else 3))
        if where == "data":
            assert p.line() == b"DATA"
        p.reset()
    s = scripted(script)
    with pytest.raises(ConnectionLost) as exc:
        run(driver, s.port, allow_partial=True)
    assert exc.value.phase == where
    assert exc.value.result is not None
    assert [(r.address, r.status, r.text) for r in exc.value.result.recipients] == [
        (a, "deferred", "not sent: the connection failed before the data")
        for a in ("r1@example.org", "r2@example.org", "r3@example.org")]


def test_t18_data_not_354(driver: str, scripted: Any) -> None:
    def script(p: Peer) -> None:
        p.hello()
        transaction(p, [b"250 ok\r\n"])
        assert p.line() == b"DATA"
        p.send(b"554 5.5.1 no valid recipients\r\n")
        assert p.line() == b"RSET"
        p.send(b"250 ok\r\n")
    s = scripted(script)
    with pytest.raises(DataRefused) as exc:
        run(driver, s.port, ONE)
    assert exc.value.phase == "data"
    after_data = bytes(s.received).split(b"DATA\r\n", 1)[1]
    assert after_data.startswith(b"RSET") and b"Subject" not in after_data


def big_message(size: int) -> Message:
    return Message(from_="alice@example.com", to="r1@example.org",
                   attachments=[{"filename": "big.bin", "content": b"x" * size}])


def up_to_354(p: Peer) -> None:
    p.hello()
    transaction(p, [b"250 ok\r\n"])
    assert p.line() == b"DATA"
    p.send(b"354 go\r\n")


def test_t19_reset_while_streaming(driver: str, scripted: Any) -> None:
    big = big_message(8_000_000)

    def script(p: Peer) -> None:
        up_to_354(p)
        p._fill()
        p.reset()
    s = scripted(script)
    with pytest.raises(ConnectionLost) as exc:
        run(driver, s.port, big)
    assert not isinstance(exc.value, DeliveryStatusUnknown)
    assert exc.value.phase in ("message", "final")
    assert [r.status for r in exc.value.result.recipients] in (["deferred"], ["unknown"])


def test_server_that_stops_reading_hits_the_message_deadline(driver: str,
                                                             scripted: Any) -> None:
    big = big_message(30_000_000)

    def script(p: Peer) -> None:
        up_to_354(p)
        time.sleep(3)       # reads nothing: the client's buffers fill up
    s = scripted(script)
    start = time.monotonic()
    with pytest.raises(SMTPTimeout) as exc:
        run(driver, s.port, big, timeout=1)
    assert exc.value.phase == "message" and time.monotonic() - start < 2.5
    assert [r.status for r in exc.value.result.recipients] == ["deferred"]


def test_t20_silence_after_the_final_dot(driver: str, scripted: Any) -> None:
    def script(p: Peer) -> None:
        up_to_354(p)
        p.data()
        time.sleep(2)
    s = scripted(script)
    with pytest.raises(DeliveryStatusUnknown) as exc:
        run(driver, s.port, ONE, timeout=1)
    assert exc.value.phase == "final"
    assert [r.status for r in exc.value.result.recipients] == ["unknown"]


@pytest.mark.parametrize(("final", "status"), [(b"552 5.3.4 too big\r\n", "rejected"),
                                                (b"452 4.3.1 full\r\n", "deferred")])
def test_t21_final_reply_refuses(driver: str, scripted: Any, final: bytes, status: str) -> None:
    def script(p: Peer) -> None:
        up_to_354(p)
        p.data()
        p.send(final)
    s = scripted(script)
    with pytest.raises(MessageRefused) as exc:
        run(driver, s.port, ONE)
    assert [r.status for r in exc.value.result.recipients] == [status]


def test_t22_reset_after_final_250_is_still_success(driver: str, scripted: Any) -> None:
    def script(p: Peer) -> None:
        up_to_354(p)
        p.data()
        p.send(b"250 2.0.0 queued\r\n")
        p.reset()
    s = scripted(script)
    assert run(driver, s.port, ONE).ok


def _two_sends(driver: str, port: int, many: bool) -> list[object]:
    """Two messages over one connection: one send() each, or one send_many()."""
    def outcome(fn: Any) -> object:
        try:
            return fn()
        except SMTPReplyError as exc:
            return exc
        except ConnectionLost as exc:
            return exc
    if driver == "sync":
        with SMTPClient("127.0.0.1", port, tls="none", timeout=1) as c:
            if many:
                return list(c.send_many([ONE, ONE]))
            return [outcome(lambda: c.send(ONE)), outcome(lambda: c.send(ONE))]

    async def main() -> list[object]:
        async with AsyncSMTPClient("127.0.0.1", port, tls="none", timeout=1) as c:
            if many:
                return list(await c.send_many([ONE, ONE]))
            out: list[object] = []
            for _ in range(2):
                try:
                    out.append(await c.send(ONE))
                except (SMTPReplyError, ConnectionLost) as exc:
                    out.append(exc)
            return out
    return asyncio.run(main())


@pytest.mark.parametrize("many", [False, True], ids=["send", "send_many"])
def test_a_timed_out_rset_ends_the_session(driver: str, scripted: Any, many: bool) -> None:
    # The refusal stands for its message; but the RSET after it went
    # unanswered, so the next reply could be that RSET's: nothing more may be
    # sent, or a late "250" would be read as the next MAIL's reply.
    def script(p: Peer) -> None:
        p.hello()
        assert p.line().startswith(b"MAIL")
        p.send(b"550 5.7.1 sender rejected\r\n")
        assert p.line() == b"RSET"
        time.sleep(1.5)
        p.send(b"250 2.0.0 reset, late\r\n")
        p.drain(1.0)
    s = scripted(script)
    first, second = _two_sends(driver, s.port, many)
    assert isinstance(first, SenderRefused)
    assert isinstance(second, ConnectionLost) and not isinstance(second, DeliveryStatusUnknown)
    assert "rset" in str(second)
    assert bytes(s.received).endswith(b"RSET\r\n"), "nothing may follow the unanswered RSET"


@pytest.mark.parametrize(("garbage", "why"), [
    (b"HTTP/1.1 400 Bad Request\r\n", "malformed"), (b"2500 ok\r\n", "malformed"),
    (b"25O ok\r\n", "malformed"), (b"600 x\r\n", "malformed"), (b"250ok\r\n", "malformed"),
    (b"250 a\x00b\r\n", "malformed"), (b"250-a\r\n550 b\r\n", "changed code"),
    (b"250 ok\n", "not ended by CRLF"),
    # A hostile server cannot make the client buffer without bound: a 1 MB
    # line and 10,000 continuation lines both stop at the caps.
    (b"250 " + b"a" * 1_000_000 + b"\r\n", "longer than 4096 octets"),
    (b"250-a\r\n" * 10_000 + b"250 b\r\n", "longer than 256 lines")],
    ids=["http", "4-digits", "letter-O", "600", "no-space", "nul", "code-change", "bare-lf",
         "1mb-line", "10k-lines"])
def test_t24_garbage_replies(driver: str, scripted: Any, garbage: bytes, why: str) -> None:
    def script(p: Peer) -> None:
        p.send(b"220 mx\r\n")
        p.line()
        with contextlib.suppress(OSError):     # the client hangs up mid-way
            p.send(garbage)
    s = scripted(script)
    with pytest.raises(RemoteProtocolError, match=why) as exc:
        run(driver, s.port)
    assert exc.value.phase == "ehlo"
    assert s.commands() == [b"EHLO"]


def test_t25_unsolicited_reply_in_the_same_segment(driver: str, scripted: Any) -> None:
    s = scripted(lambda p: p.send(b"220 mx\r\n250 injected\r\n"))
    with pytest.raises(RemoteProtocolError, match="unsolicited"):
        run(driver, s.port)
    assert s.commands() == []


def test_t26_trickling_server_hits_the_phase_deadline(driver: str, scripted: Any) -> None:
    def script(p: Peer) -> None:
        for b in b"220 slow server greeting\r\n":
            p.send(bytes([b]))
            time.sleep(0.2)
    s = scripted(script)
    start = time.monotonic()
    with pytest.raises(SMTPTimeout) as exc:
        run(driver, s.port, timeout=1)
    assert exc.value.phase == "greeting" and time.monotonic() - start < 3


def test_t27_size_exceeded_before_mail(driver: str, scripted: Any) -> None:
    s = scripted(lambda p: p.hello(b"250-mx\r\n250 SIZE 100\r\n"))
    with pytest.raises(MessageTooLarge):
        run(driver, s.port, ONE)
    assert b"MAIL" not in s.received


def test_t28_no_supported_mechanism(driver: str, scripted: Any) -> None:
    s = scripted(lambda p: p.hello(b"250-mx\r\n250 AUTH GSSAPI\r\n"))
    with pytest.raises(AuthError, match="no usable AUTH mechanism"):
        run(driver, s.port, username="u", password="p", allow_insecure_auth=True)
    assert b"AUTH" not in s.received


def test_pipelining_sends_envelope_in_one_write(driver: str, scripted: Any) -> None:
    chunks: list[bytes] = []

    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250 PIPELINING\r\n")
        p._fill()
        chunks.append(p.buf)
        p.send(b"250 ok\r\n" * 4)
        p.buf = b""
        assert p.line() == b"DATA"
        p.send(b"354 go\r\n")
        p.data()
        p.send(b"250 queued\r\n")
    s = scripted(script)
    assert run(driver, s.port).ok
    assert chunks[0].count(b"RCPT TO") == 3 and chunks[0].startswith(b"MAIL FROM")


def test_single_recipient_pipelines_data_too(driver: str, scripted: Any) -> None:
    groups: list[bytes] = []

    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250 PIPELINING\r\n")
        p._fill()
        groups.append(p.buf)
        p.buf = b""
        p.send(b"250 ok\r\n250 ok\r\n354 go\r\n")
        p.data()
        p.send(b"250 queued\r\n")
    s = scripted(script)
    assert run(driver, s.port, ONE).ok
    assert groups[0].startswith(b"MAIL FROM:<alice@example.com>")
    assert groups[0].endswith(b"RCPT TO:<r1@example.org>\r\nDATA\r\n")


def test_pipelined_data_with_the_only_recipient_refused(driver: str, scripted: Any) -> None:
    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250 PIPELINING\r\n")
        for _ in range(3):
            p.line()
        p.send(b"250 ok\r\n550 5.1.1 no such user\r\n554 5.5.1 no valid recipients\r\n")
        assert p.line() == b"RSET"
        p.send(b"250 ok\r\n")
    s = scripted(script)
    with pytest.raises(RecipientsRefused) as exc:
        run(driver, s.port, ONE)
    assert [r.status for r in exc.value.result.recipients] == ["rejected"]
    assert b"Subject" not in s.received


def test_broken_server_354_without_recipients_gets_no_message(driver: str,
                                                              scripted: Any) -> None:
    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250 PIPELINING\r\n")
        for _ in range(3):
            p.line()
        p.send(b"250 ok\r\n550 5.1.1 no such user\r\n354 go anyway\r\n")
        p.data()
        p.send(b"554 5.5.1 nothing to deliver\r\n")
    s = scripted(script)
    with pytest.raises(RecipientsRefused):
        run(driver, s.port, ONE)
    after = bytes(s.received).split(b"DATA\r\n", 1)[1]
    assert after.startswith(b".\r\n") and b"Subject" not in after


@pytest.mark.parametrize("ehlo", [b"250-mx\r\n250 8BITMIME\r\n", b"250-mx\r\n250 PIPELINING\r\n"])
def test_a_recipient_that_cannot_be_sent_stops_before_mail(driver: str, scripted: Any,
                                                           ehlo: bytes) -> None:
    """Every command is checked before the first is written: nothing of the
    refused envelope reaches the server, and the session goes on."""
    def script(p: Peer) -> None:
        p.hello(ehlo)
        if b"PIPELINING" in ehlo:
            assert [p.line(), p.line(), p.line()][2] == b"DATA"
            p.send(b"250 ok\r\n250 ok\r\n354 go\r\n")
            p.data()
            p.send(b"250 queued\r\n")
        else:
            p.lockstep()
    s = scripted(script)
    bad = ["r1@example.org", "r2@example.org>\r\nRSET"]

    def go(send: Any) -> tuple[Exception, SendResult]:
        with pytest.raises(LocalProtocolError) as exc:
            send(ONE, rcpt_to=bad)
        return exc.value, send(ONE)
    if driver == "sync":
        with SMTPClient("127.0.0.1", s.port, tls="none", timeout=2) as c:
            err, ok = go(c.send)
    else:
        async def main() -> tuple[Exception, SendResult]:
            async with AsyncSMTPClient("127.0.0.1", s.port, tls="none", timeout=2) as c:
                with pytest.raises(LocalProtocolError) as exc:
                    await c.send(ONE, rcpt_to=bad)
                return exc.value, await c.send(ONE)
        err, ok = asyncio.run(main())
    assert "forward-path" in str(err) and ok.ok
    assert s.commands().count(b"MAIL") == 1 and b"RSET" not in s.received
