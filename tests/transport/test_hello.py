"""The name the client gives in EHLO (RFC 5321 4.1.1.1): the caller's, or
this host's domain name, or, when the host has none (a bare host name, as in
most containers), the address literal of its end of the connection (4.1.3)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from mailfmt.transport import AsyncSMTPClient, SMTPClient
from mailfmt.transport._common import address_literal

from .scripted import Peer, ScriptedServer


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def greet_and_quit(p: Peer) -> None:
    p.send(b"220 mx.example.com ESMTP\r\n")
    assert p.line().startswith(b"EHLO ")
    p.send(b"250 mx.example.com\r\n")


def ehlo_name(driver: str, host: str, **kw: Any) -> bytes:
    server = ScriptedServer(greet_and_quit, host=host)
    try:
        if driver == "sync":
            with SMTPClient(host, server.port, tls="none", timeout=10, **kw):
                pass
        else:
            async def main() -> None:
                async with AsyncSMTPClient(host, server.port, tls="none", timeout=10, **kw):
                    pass
            asyncio.run(main())
    finally:
        server.close()
    first = bytes(server.received).split(b"\r\n")[0]
    assert first.startswith(b"EHLO ")
    return first[5:]


@pytest.mark.parametrize(("host", "literal"), [
    ("127.0.0.1", b"[127.0.0.1]"),
    pytest.param("::1", b"[IPv6:::1]", marks=pytest.mark.skipif(
        not _has_ipv6_loopback(), reason="no IPv6 loopback on this machine")),
])
def test_a_host_without_a_domain_name_gives_its_address_literal(
        driver: str, monkeypatch: pytest.MonkeyPatch, host: str, literal: bytes) -> None:
    monkeypatch.setattr(socket, "getfqdn", lambda name="": "buildbox")
    assert ehlo_name(driver, host) == literal


def test_a_host_with_a_domain_name_gives_it(driver: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getfqdn", lambda name="": "client.example.com")
    assert ehlo_name(driver, "127.0.0.1") == b"client.example.com"


def test_the_callers_name_comes_first(driver: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getfqdn", lambda name="": "buildbox")
    assert ehlo_name(driver, "127.0.0.1", local_hostname="relay.example.net") == \
        b"relay.example.net"


@pytest.mark.parametrize(("sockname", "literal"), [
    (("192.0.2.7", 50000), "[192.0.2.7]"),
    (("2001:db8::7", 50000, 0, 0), "[IPv6:2001:db8::7]"),
    (("fe80::1%eth0", 50000, 0, 2), "[IPv6:fe80::1]"),          # no zone id on the wire
    (("::ffff:192.0.2.7", 50000, 0, 0), "[192.0.2.7]"),          # IPv4 on a dual-stack socket
    ("", "[127.0.0.1]"),                                          # a Unix socket
    (None, "[127.0.0.1]"),
])
def test_address_literal(sockname: object, literal: str) -> None:
    assert address_literal(sockname) == literal
