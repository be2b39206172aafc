"""Real servers on loopback for the transport tests, and one way to drive both
clients (blocking and asyncio) from the same test."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from mailfmt import Message
from mailfmt.transport import AsyncSMTPClient, SendResult, SMTPClient

from .scripted import Peer, ScriptedServer

USER, PASSWORD = "alice", "s3cret-Pa55word"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Sink:
    envelopes: list[Envelope] = field(default_factory=list)
    auth_seen: list[str] = field(default_factory=list)
    #: the client's address and port for each message: one connection, one peer
    peers: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        self.peers.append(session.peer)
        return "250 2.0.0 OK queued"


@dataclass
class Server:
    host: str
    port: int
    sink: Sink
    client_ssl: ssl.SSLContext | None = None


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def smtpd() -> Iterator[Server]:
    sink = Sink()
    port = free_port()
    ctl = Controller(sink, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield Server("127.0.0.1", port, sink)
    finally:
        ctl.stop()


def _authenticator(sink: Sink) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        sink.auth_seen.append(mechanism)
        ok = isinstance(data, LoginPassword) and data.login == USER.encode() \
            and data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)
    return check


@pytest.fixture
def smtpd_tls(ca: trustme.CA) -> Iterator[Server]:
    """STARTTLS with a certificate for 127.0.0.1, AUTH required after TLS."""
    sink = Sink()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    port = free_port()
    ctl = Controller(sink, hostname="127.0.0.1", port=port, tls_context=server_ctx,
                     require_starttls=True, authenticator=_authenticator(sink),
                     auth_required=True)
    ctl.start()
    try:
        yield Server("127.0.0.1", port, sink, client_ctx)
    finally:
        ctl.stop()


@pytest.fixture(params=["sync", "async"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def deliver(kind: str, server: Server, messages: list[Message], **kw: Any) -> list[SendResult]:
    """Send messages over one connection with the chosen driver."""
    allow_partial = kw.pop("allow_partial", False)
    kw.setdefault("tls", "none")
    if server.client_ssl is not None:
        kw.setdefault("ssl_context", server.client_ssl)
    kw.setdefault("timeout", 10)
    if kind == "sync":
        with SMTPClient(server.host, server.port, **kw) as c:
            return [c.send(m, allow_partial=allow_partial) for m in messages]

    async def main() -> list[SendResult]:
        async with AsyncSMTPClient(server.host, server.port, **kw) as c:
            return [await c.send(m, allow_partial=allow_partial) for m in messages]
    return asyncio.run(main())


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[Peer], None]], ScriptedServer]]:
    """Start scripted servers; each is closed (and its script's failures
    raised) when the test ends."""
    servers: list[ScriptedServer] = []

    def start(script: Callable[[Peer], None]) -> ScriptedServer:
        servers.append(ScriptedServer(script))
        return servers[-1]
    yield start
    for s in servers:
        s.close()
