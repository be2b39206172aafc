"""Implicit TLS, the other SASL mechanisms on the wire, and extensions."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ssl
import time
from collections.abc import Iterator
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller

from mailfmt import Message, Policy
from mailfmt.errors import AuthError, ExtensionMissing, SMTPTimeout
from mailfmt.transport import AsyncSMTPClient, SendResult, SMTPClient

from .conftest import Server, Sink, deliver, free_port
from .scripted import Peer, ScriptedServer

ONE = Message(from_="alice@example.com", to="r1@example.org", subject="t", text="hi\n")


@pytest.fixture
def smtps(ca: trustme.CA) -> Iterator[Server]:
    """Implicit TLS from the first byte (port 465 style, RFC 8314)."""
    sink = Sink()
    cert = ca.issue_cert("127.0.0.1")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    port = free_port()
    ctl = Controller(sink, hostname="127.0.0.1", port=port, ssl_context=server_ctx)
    ctl.start()
    try:
        yield Server("127.0.0.1", port, sink, client_ctx)
    finally:
        ctl.stop()


def test_implicit_tls(driver: str, smtps: Server) -> None:
    [result] = deliver(driver, smtps, [ONE], tls="implicit")
    assert result.ok and smtps.sink.envelopes[0].original_content == ONE.to_bytes()
    assert "C: STARTTLS" not in result.transcript


def run(driver: str, port: int, **kw: Any) -> SendResult:
    kw.setdefault("tls", "none")
    kw.setdefault("timeout", 3)
    if driver == "sync":
        with SMTPClient("127.0.0.1", port, **kw) as c:
            return c.send(ONE)

    async def main() -> SendResult:
        async with AsyncSMTPClient("127.0.0.1", port, **kw) as c:
            return await c.send(ONE)
    return asyncio.run(main())


def test_cram_md5_on_the_wire(driver: str) -> None:
    challenge = b"<1896.697170952@postoffice.reston.mci.net>"   # RFC 2195 section 2
    seen: list[bytes] = []

    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250 AUTH CRAM-MD5\r\n")
        assert p.line() == b"AUTH CRAM-MD5"
        p.send(b"334 " + base64.b64encode(challenge) + b"\r\n")
        seen.append(base64.b64decode(p.line()))
        p.send(b"235 2.7.0 ok\r\n")
        p.lockstep()
    s = ScriptedServer(script)
    try:
        assert run(driver, s.port, username="tim", password="tanstaaftanstaaf",
                   allow_insecure_auth=True).ok
    finally:
        s.close()
    digest = hmac.new(b"tanstaaftanstaaf", challenge, hashlib.md5).hexdigest()
    assert seen == [f"tim {digest}".encode()]
    assert digest == "b913a602c7eda7a495b4e6e7334d3890"   # the RFC's own answer


def test_xoauth2_on_the_wire(driver: str) -> None:
    seen: list[bytes] = []

    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250 AUTH XOAUTH2 PLAIN\r\n")
        line = p.line()
        seen.append(base64.b64decode(line.split(b" ")[2]))
        p.send(b"235 2.7.0 Accepted\r\n")
        p.lockstep()
    s = ScriptedServer(script)
    try:
        result = run(driver, s.port, username="alice@example.com", oauth_token="ya29.token",
                     allow_insecure_auth=True)
    finally:
        s.close()
    assert result.ok
    assert seen == [b"user=alice@example.com\x01auth=Bearer ya29.token\x01\x01"]
    assert "ya29" not in "\n".join(result.transcript)


def test_t10_no_auth_offered_after_tls(driver: str) -> None:
    s = ScriptedServer(lambda p: p.hello(b"250-mx\r\n250 8BITMIME\r\n"))
    try:
        with pytest.raises(AuthError, match="offers no AUTH"):
            run(driver, s.port, username="u", password="p", allow_insecure_auth=True)
    finally:
        s.close()
    assert b"AUTH" not in s.received and b"MAIL" not in s.received


def test_smtputf8_used_only_when_needed(driver: str, smtpd: Server) -> None:
    ascii_msg = ONE
    utf8_msg = Message(from_="zoë@example.org", to="bob@example.org", subject="Grüße",
                       text="héllo\n", policy=Policy(utf8=True))
    results = deliver(driver, smtpd, [ascii_msg, utf8_msg])
    assert all(r.ok for r in results)
    mails = [line for r in results[-1:] for line in r.transcript if line.startswith("C: MAIL")]
    assert {"SMTPUTF8", "BODY=8BITMIME"} <= set(mails[-1].split())
    first = next(line for line in results[0].transcript if line.startswith("C: MAIL"))
    assert "SMTPUTF8" not in first and "8BITMIME" not in first
    assert smtpd.sink.envelopes[1].original_content == utf8_msg.to_bytes()


def test_utf8_message_refused_before_anything_is_sent(driver: str) -> None:
    utf8_msg = Message(from_="zoë@example.org", to="bob@example.org", text="x",
                       policy=Policy(utf8=True))
    s = ScriptedServer(lambda p: p.hello(b"250-mx\r\n250 8BITMIME\r\n"))
    try:
        with pytest.raises(ExtensionMissing, match="SMTPUTF8"), \
                SMTPClient("127.0.0.1", s.port, tls="none", timeout=3) as c:
            c.send(utf8_msg)
    finally:
        s.close()
    assert b"MAIL" not in s.received


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_silence_over_tls_hits_the_deadline(driver: str, ca: trustme.CA, tls: str) -> None:
    # The sync driver waits on plain sockets with kernel timeouts and on TLS
    # ones with Python's: a silent TLS server must time out all the same.
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)

    def script(p: Peer) -> None:
        if tls == "starttls":
            p.hello(b"250-mx\r\n250 STARTTLS\r\n")
            assert p.line() == b"STARTTLS"
            p.send(b"220 go ahead\r\n")
        with server_ctx.wrap_socket(p.conn, server_side=True):
            time.sleep(2.5)     # no greeting, or no reply to the EHLO after TLS
    s = ScriptedServer(script)
    try:
        start = time.monotonic()
        with pytest.raises(SMTPTimeout) as exc:
            run(driver, s.port, tls=tls, ssl_context=client_ctx, timeout=1)
        elapsed = time.monotonic() - start
    finally:
        s.close()
    assert exc.value.phase == ("ehlo" if tls == "starttls" else "greeting")
    assert elapsed < 2.4
