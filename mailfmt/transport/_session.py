"""The SMTP conversation, once, for both drivers: the I/O requests, the
session's options, its opening (greeting, EHLO, STARTTLS, AUTH) and QUIT.

Each step is a generator that yields I/O requests (Write, ReadReply,
UpgradeTLS) and gets replies back; the sync and async drivers only carry
them out, and throw I/O failures back in so that the flow decides what they
mean (a lost connection after the final "." is DeliveryStatusUnknown,
before it a plain ConnectionLost). One message is _message.py's flow, many
over one session _batch.py's.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeVar

from pydantic import SecretStr

from ..errors import AuthError, RemoteProtocolError, SMTPReplyError, TLSError, TransportError
from ._auth import make_mechanism
from ._connection import ClientConnection
from ._events import Auth, AuthResponse, Command, Ehlo, Helo, Lhlo, Quit, Reply, Rset, StartTLS
from ._state import State

__all__ = ["Flow", "ReadReply", "SessionOptions", "UpgradeTLS", "Write", "close_session",
           "open_session"]

T = TypeVar("T")

#: RFC 5321 4.5.3.2: the longest a client should wait in each phase (seconds).
RFC_TIMEOUTS = {"greeting": 300.0, "ehlo": 300.0, "starttls": 300.0, "auth": 300.0,
                "mail": 300.0, "rcpt": 300.0, "data": 120.0, "message": 180.0,
                "final": 600.0, "rset": 300.0, "quit": 300.0, "connect": 300.0}



# I/O requests are named tuples: several are made per message, and a tuple
# is made at a third of the cost of a frozen dataclass.
class Write(NamedTuple):
    data: bytes
    phase: str
    timeout: float
    #: more message data follows: an asyncio driver lets the event loop run
    #: (and a cancellation land) between the pieces of a large message
    more: bool = False


class ReadReply(NamedTuple):
    phase: str
    timeout: float


class UpgradeTLS(NamedTuple):
    timeout: float
    phase: str = "starttls"


Request = Write | ReadReply | UpgradeTLS
Flow = Generator[Request, Any, T]


@dataclass(frozen=True)
class SessionOptions:
    local_hostname: str
    tls: Literal["starttls", "implicit", "none"]
    timeout: float
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    oauth_token: SecretStr | None = field(default=None, repr=False)
    auth_mechanism: str | None = None
    allow_insecure_auth: bool = False
    loopback: bool = False
    #: LMTP (RFC 2033): LHLO in place of EHLO, one final reply per recipient
    lmtp: bool = False

    def t(self, phase: str) -> float:
        """The timeout for ``phase``: the caller's, never above RFC 5321's."""
        t = self._timeouts.get(phase)
        return min(self.timeout, 300.0) if t is None else t

    @functools.cached_property
    def _timeouts(self) -> dict[str, float]:
        # Asked for at every command and reply: worked out once.
        return {phase: min(self.timeout, limit) for phase, limit in RFC_TIMEOUTS.items()}

    @property
    def wants_auth(self) -> bool:
        return self.username is not None



def _command(conn: ClientConnection, cmd: Command, phase: str, opts: SessionOptions) -> Flow[Reply]:
    timeout = opts.t(phase)
    yield Write(conn.send(cmd), phase, timeout)
    reply: Reply = yield ReadReply(phase, timeout)
    return reply


# ---- opening a session ------------------------------------------------------------


def open_session(conn: ClientConnection, opts: SessionOptions, *,
                 tls_active: bool) -> Flow[None]:
    """Greeting, EHLO, STARTTLS (when required) and AUTH (when credentials are given)."""
    greeting: Reply = yield ReadReply("greeting", opts.t("greeting"))
    if greeting.code != 220:
        raise SMTPReplyError(f"the server refused the session: {greeting}", reply=greeting,
                             phase="greeting")
    yield from _hello(conn, opts)
    if opts.tls == "starttls" and not tls_active:
        # RFC 3207: TLS is required, so its absence stops everything here,
        # before any AUTH, MAIL or RCPT byte (CVE-2016-0772: STARTTLS stripping).
        if not conn.capabilities.has("STARTTLS"):
            raise TLSError("TLS is required but the server does not offer STARTTLS",
                           phase="starttls")
        reply = yield from _command(conn, StartTLS(), "starttls", opts)
        if reply.code != 220:
            raise TLSError(f"the server refused STARTTLS: {reply}", phase="starttls",
                           reply=reply)
        yield UpgradeTLS(opts.t("starttls"))
        tls_active = True
        yield from _hello(conn, opts)
    if opts.wants_auth:
        yield from _authenticate(conn, opts, secure=tls_active)


def _hello(conn: ClientConnection, opts: SessionOptions) -> Flow[None]:
    if opts.lmtp:
        # RFC 2033 4.1: LHLO, answered as EHLO is; there is no HELO to fall back on.
        reply = yield from _command(conn, Lhlo(opts.local_hostname), "ehlo", opts)
        if reply.code // 100 != 2:
            raise SMTPReplyError(f"the server refused LHLO: {reply}", reply=reply,
                                 phase="ehlo")
        return
    reply = yield from _command(conn, Ehlo(opts.local_hostname), "ehlo", opts)
    if reply.code // 100 == 2:
        return
    # HELO only for a plain session: TLS and AUTH need ESMTP.
    if reply.code in (500, 502) and opts.tls == "none" and not opts.wants_auth:
        reply = yield from _command(conn, Helo(opts.local_hostname), "ehlo", opts)
        if reply.code // 100 == 2:
            return
    raise SMTPReplyError(f"the server refused EHLO: {reply}", reply=reply, phase="ehlo")


def _authenticate(conn: ClientConnection, opts: SessionOptions, *, secure: bool) -> Flow[None]:
    if not secure and not (opts.allow_insecure_auth and opts.loopback):
        raise AuthError("refusing to send credentials without TLS (only a loopback server "
                        "with allow_insecure_auth=True may have them in plaintext)",
                        phase="auth")
    if not conn.capabilities.has("AUTH"):
        raise AuthError("credentials were given but the server offers no AUTH", phase="auth")
    assert opts.username is not None
    mech = make_mechanism(conn.capabilities.auth, opts.username, opts.password,
                          opts.oauth_token, opts.auth_mechanism)
    reply = yield from _command(conn, Auth(mech.name, mech.initial()), "auth", opts)
    step = 0
    while reply.code == 334:
        step += 1
        if step > 5:
            raise RemoteProtocolError("more than 5 AUTH challenges", phase="auth")
        try:
            challenge = base64.b64decode(reply.text.strip(), validate=True)
        except binascii.Error:
            yield from _command(conn, AuthResponse("*"), "auth", opts)
            raise RemoteProtocolError("an AUTH challenge is not base64", phase="auth") from None
        reply = yield from _command(conn, AuthResponse(mech.respond(step, challenge)), "auth",
                                    opts)
    if reply.code != 235:
        # One attempt: the same secret is never sent again with another mechanism.
        raise AuthError(f"authentication failed: {reply.code} "
                        f"{reply.enhanced_text or ''}".rstrip(), phase="auth", reply=reply)



def rset(conn: ClientConnection, opts: SessionOptions) -> Flow[None]:
    if conn.state in (State.READY, State.TRANSACTION):
        with contextlib.suppress(TransportError):
            yield from _command(conn, Rset(), "rset", opts)


def close_session(conn: ClientConnection, opts: SessionOptions) -> Flow[None]:
    """QUIT, if the session can still take it; failures here change nothing."""
    if conn.state in (State.HELLO, State.READY, State.TRANSACTION):
        yield from _command(conn, Quit(), "quit", opts)

