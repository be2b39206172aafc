"""Each step of a session over the sans-IO core: the timeout it waits
(RFC 5321 4.5.3.2's for its phase, or the caller's if shorter), and what a
refusal at the greeting, EHLO or STARTTLS says, and in which phase."""

from __future__ import annotations

import pytest

from mailfmt.errors import SMTPReplyError, TLSError
from mailfmt.transport._session import RFC_TIMEOUTS, SessionOptions

from .wire import Outcome, Server, open_only, run_session

PLAIN_EHLO = b"250-mx.example.org\r\n250-STARTTLS\r\n250-AUTH LOGIN\r\n250 SIZE 100000\r\n"
PIPELINING_EHLO = b"250-mx.example.org\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n"


@pytest.mark.parametrize("ehlo", [PLAIN_EHLO, PIPELINING_EHLO], ids=["lockstep", "pipelining"])
@pytest.mark.parametrize("many", [False, True])
@pytest.mark.parametrize("timeout", [1000.0, 30.0])
def test_every_step_waits_its_phase_timeout(ehlo: bytes, many: bool, timeout: float) -> None:
    out = run_session(Server(ehlo=ehlo), auth="LOGIN" if b"LOGIN" in ehlo else "PLAIN",
                      tls=True, many=many, rcpts=2, timeout=timeout)
    assert out.error is None
    phases = {phase for phase, _ in out.waits}
    assert phases == {"greeting", "ehlo", "starttls", "auth", "mail", "rcpt", "data",
                      "message", "final", "quit"}
    # RFC 5321 4.5.3.2: DATA 2 minutes, a data block 3, the final reply 10.
    assert RFC_TIMEOUTS["data"] == 120 and RFC_TIMEOUTS["message"] == 180
    assert RFC_TIMEOUTS["final"] == 600 and RFC_TIMEOUTS["mail"] == 300
    assert out.waits == [(phase, min(timeout, RFC_TIMEOUTS[phase])) for phase, _ in out.waits]


def _open(server: Server, **kw: object) -> Outcome:
    base: dict[str, object] = {"local_hostname": "client.example.com", "tls": "none",
                               "timeout": 5.0}
    return open_only(server, SessionOptions(**{**base, **kw}))  # type: ignore[arg-type]


def commands(out: Outcome) -> list[bytes]:
    return [line for _, data in out.written for line in data.split(b"\r\n")[:-1]]


def test_a_refused_greeting_ends_the_session() -> None:
    out = _open(Server([b"554 5.3.2 no service\r\n"]))
    assert isinstance(out.error, SMTPReplyError) and out.error.phase == "greeting"
    assert out.error.args[0] == "the server refused the session: 554 5.3.2 no service"
    assert out.written == []


@pytest.mark.parametrize("code", [b"500", b"502"])
def test_ehlo_not_understood_falls_back_to_helo_in_a_plain_session(code: bytes) -> None:
    out = _open(Server([None, code + b" 5.5.1 what\r\n"]))
    assert out.error is None
    assert commands(out) == [b"EHLO client.example.com", b"HELO client.example.com"]
    assert [phase for phase, _ in out.written] == ["ehlo", "ehlo"]


@pytest.mark.parametrize(("replies", "sent", "message"), [
    # 501 is a syntax complaint, not "EHLO unknown": no fallback.
    ([None, b"501 5.5.4 bad name\r\n"], [b"EHLO"], "the server refused EHLO: 501 5.5.4 bad name"),
    ([None, b"502 no\r\n", b"554 no HELO either\r\n"], [b"EHLO", b"HELO"],
     "the server refused EHLO: 554 no HELO either"),
])
def test_a_refused_hello_says_so_in_phase_ehlo(replies: list[bytes | None], sent: list[bytes],
                                                message: str) -> None:
    out = _open(Server(replies))
    assert isinstance(out.error, SMTPReplyError) and out.error.phase == "ehlo"
    assert out.error.args[0] == message
    assert [c.split(b" ")[0] for c in commands(out)] == sent


def test_no_helo_when_tls_is_required() -> None:
    out = _open(Server([None, b"502 no\r\n"]), tls="starttls")
    assert isinstance(out.error, SMTPReplyError) and commands(out) == [
        b"EHLO client.example.com"]


def test_starttls_missing_or_refused() -> None:
    out = _open(Server(ehlo=b"250 mx.example.org\r\n"), tls="starttls")
    assert isinstance(out.error, TLSError) and out.error.phase == "starttls"
    assert out.error.args[0] == "TLS is required but the server does not offer STARTTLS"
    out = _open(Server([None, None, b"454 4.7.0 not now\r\n"],
                       ehlo=b"250-mx.example.org\r\n250 STARTTLS\r\n"), tls="starttls")
    assert isinstance(out.error, TLSError) and out.error.phase == "starttls"
    assert out.error.args[0] == "the server refused STARTTLS: 454 4.7.0 not now"
    assert out.error.reply is not None and out.error.reply.code == 454
    assert [phase for phase, _ in out.written] == ["ehlo", "starttls"]
