"""send(..., retry=Retry(...)) and send_async: another try, on a new
connection, only for the recipients a try could not reach for a reason that
may pass, and never for one that may have the message already; both drivers
against a scripted server that serves one connection per try."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mailfmt import Message
from mailfmt.errors import (
    ConnectError,
    DeliveryStatusUnknown,
    RecipientsRefused,
    SenderRefused,
    SMTPReplyError,
    TransportError,
)
from mailfmt.transport import Retry, SendResult, send, send_async

from .conftest import free_port
from .scripted import Peer, ScriptedServer
from .test_faults import MSG, transaction

FAST = Retry(attempts=3, first_delay=0.01, jitter=0.0)
Script = Callable[[Peer], None]


@pytest.fixture
def serve() -> Iterator[Callable[[list[Script]], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(scripts: list[Script]) -> ScriptedServer:
        servers.append(ScriptedServer(scripts))
        return servers[-1]
    yield start
    for s in servers:
        s.close()


def assert_note(exc: BaseException, start: str) -> None:
    """The error's note on its tries starts with ``start`` (Python 3.11 and
    later; 3.10 has no notes)."""
    if sys.version_info >= (3, 11):
        assert [n for n in getattr(exc, "__notes__", []) if n.startswith(start)]


def run(driver: str, port: int, retry: Retry = FAST, message: Message = MSG,
        **kw: Any) -> SendResult:
    kw.update(host="127.0.0.1", port=port, tls="none", timeout=2, retry=retry)
    if driver == "sync":
        return send(message, **kw)
    return asyncio.run(send_async(message, **kw))


def greeting(reply: bytes) -> Script:
    def script(p: Peer) -> None:
        p.send(reply)
    return script


def delivers(rcpt_replies: list[bytes], final: bytes = b"250 2.0.0 queued\r\n") -> Script:
    """A session whose RCPTs get ``rcpt_replies``; the data goes when one is accepted."""
    def script(p: Peer) -> None:
        p.hello()
        transaction(p, rcpt_replies)
        if not any(r.startswith(b"2") for r in rcpt_replies):
            assert p.line() == b"RSET"
            p.send(b"250 ok\r\n")
            return
        line = p.line()
        if line == b"RSET":
            p.send(b"250 ok\r\n")
            return
        assert line == b"DATA"
        p.send(b"354 go\r\n")
        p.data()
        p.send(final)
    return script


def rcpts_of(session: bytes) -> list[str]:
    return [line[9:-1].decode() for line in session.split(b"\r\n") if line.startswith(b"RCPT")]


OK3 = [b"250 ok\r\n"] * 3


def test_a_busy_server_is_tried_again(driver: str, serve: Any) -> None:
    s = serve([greeting(b"421 4.3.2 busy, try later\r\n"), delivers(OK3)])
    result = run(driver, s.port)
    assert result.ok and s.served == 2
    # The reply and the transcript are the last try's.
    assert result.reply is not None and result.reply.text == "queued"
    assert result.transcript[0] == "S: 220 mx.example.com ESMTP"
    assert not any("421" in line for line in result.transcript)
    assert rcpts_of(s.sessions[1]) == ["r1@example.org", "r2@example.org", "r3@example.org"]


def test_only_the_deferred_recipients_are_tried_again(
        driver: str, serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mailfmt.transport")
    first = delivers([b"250 ok\r\n", b"450 4.2.0 mailbox busy\r\n", b"550 5.1.1 no user\r\n"])
    s = serve([first, delivers([b"250 ok\r\n"])])
    result = run(driver, s.port, allow_partial=True)
    assert "try 1 of 3 failed (recipients deferred); again in 0.0 s for 1 recipient(s)" in [
        r.getMessage() for r in caplog.records]
    assert rcpts_of(s.sessions[1]) == ["r2@example.org"]
    assert [(r.address, r.status) for r in result.recipients] == [
        ("r1@example.org", "accepted"), ("r2@example.org", "accepted"),
        ("r3@example.org", "rejected")]


def test_without_allow_partial_a_deferral_means_all_again(driver: str, serve: Any) -> None:
    first = delivers([b"250 ok\r\n", b"450 4.2.0 mailbox busy\r\n", b"250 ok\r\n"])
    s = serve([first, delivers(OK3)])
    result = run(driver, s.port)
    assert result.ok
    assert b"DATA" not in s.sessions[0]
    assert rcpts_of(s.sessions[1]) == ["r1@example.org", "r2@example.org", "r3@example.org"]


def test_without_allow_partial_a_rejection_is_final(driver: str, serve: Any) -> None:
    s = serve([delivers([b"250 ok\r\n", b"450 4.2.0 busy\r\n", b"550 5.1.1 no user\r\n"]),
               delivers(OK3)])
    with pytest.raises(RecipientsRefused) as exc:
        run(driver, s.port)
    assert s.served == 1
    assert exc.value.result.transcript[0] == "S: 220 mx.example.com ESMTP"
    assert_note(exc.value, "mailfmt: 1 attempt(s) of at most 3; the outcome of each "
                           "recipient in .result is its latest")


def test_a_transient_final_reply_is_tried_again(driver: str, serve: Any) -> None:
    s = serve([delivers(OK3, final=b"451 4.3.0 queue full\r\n"), delivers(OK3)])
    assert run(driver, s.port).ok and s.served == 2


def test_a_sender_refusal_is_tried_again_only_if_transient(driver: str, serve: Any) -> None:
    def mail_refused(reply: bytes) -> Script:
        def script(p: Peer) -> None:
            p.hello()
            assert p.line().startswith(b"MAIL")
            p.send(reply)
        return script
    s = serve([mail_refused(b"451 4.3.0 later\r\n"), delivers(OK3)])
    assert run(driver, s.port).ok and s.served == 2
    s = serve([mail_refused(b"550 5.7.1 not you\r\n"), delivers(OK3)])
    with pytest.raises(SenderRefused):
        run(driver, s.port)
    assert s.served == 1


def test_never_again_once_the_message_may_have_arrived(driver: str, serve: Any) -> None:
    def silence_after_the_dot(p: Peer) -> None:
        p.hello()
        transaction(p, OK3)
        assert p.line() == b"DATA"
        p.send(b"354 go\r\n")
        p.data()
        p.reset()
    s = serve([silence_after_the_dot, delivers(OK3)])
    with pytest.raises(DeliveryStatusUnknown) as exc:
        run(driver, s.port)
    assert s.served == 1
    assert [r.status for r in exc.value.result.recipients] == ["unknown"] * 3


def test_the_last_error_says_how_many_tries(driver: str, serve: Any) -> None:
    s = serve([greeting(b"421 4.3.2 busy\r\n")] * 3)
    with pytest.raises(SMTPReplyError) as exc:
        run(driver, s.port)
    assert s.served == 3 and exc.value.code == 421
    assert_note(exc.value, "mailfmt: 3 attempt(s) of at most 3;")
    assert [(r.address, r.status, r.text) for r in exc.value.result.recipients] == [
        (f"r{i}@example.org", "deferred", "not attempted") for i in (1, 2, 3)]


def test_a_refused_connection_is_tried_again(driver: str,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mailfmt.transport")
    with pytest.raises(ConnectError) as exc:
        run(driver, free_port(), retry=Retry(attempts=2, first_delay=0.01, jitter=0.0))
    assert_note(exc.value, "mailfmt: 2 attempt(s) of at most 2;")
    tries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("try ")]
    assert len(tries) == 1 and tries[0].startswith("try 1 of 2 failed (cannot connect")
    assert tries[0].endswith("again in 0.0 s for 3 recipient(s)")


def test_the_last_error_carries_the_recipients_earlier_tries_reached(driver: str,
                                                                     serve: Any) -> None:
    first = delivers([b"250 ok\r\n", b"450 4.2.0 busy\r\n", b"250 ok\r\n"])
    s = serve([first, greeting(b"421 4.3.2 busy\r\n"), greeting(b"421 4.3.2 busy\r\n")])
    with pytest.raises(SMTPReplyError) as exc:
        run(driver, s.port, allow_partial=True)
    assert [(r.status, r.code) for r in exc.value.result.recipients] == [
        ("accepted", 250), ("deferred", 450), ("accepted", 250)]
    assert s.served == 3 and exc.value.code == 421


def test_lmtp_tries_again_for_the_recipient_whose_mailbox_was_full(driver: str,
                                                                   serve: Any) -> None:
    from .test_lmtp import lmtp_transaction

    s = serve([lambda p: lmtp_transaction(p, [b"250 ok\r\n", b"452 4.2.2 full\r\n",
                                              b"550 5.1.1 no\r\n"]),
               lambda p: lmtp_transaction(p, [b"250 2.0.0 <r2> delivered\r\n"], 1)])
    result = run(driver, s.port, allow_partial=True, lmtp=True)
    assert rcpts_of(s.sessions[1]) == ["r2@example.org"]
    assert [r.status for r in result.recipients] == ["accepted", "accepted", "rejected"]


# ---- the policy --------------------------------------------------------------------


def test_delays_grow_to_their_cap_with_jitter_around_them() -> None:
    policy = Retry(attempts=10, first_delay=1.0, factor=3.0, max_delay=20.0, jitter=0.0)
    assert [policy.delay(k) for k in range(1, 6)] == [1.0, 3.0, 9.0, 20.0, 20.0]
    random.seed(7)
    jittered = [Retry(first_delay=10.0, jitter=0.2).delay(1) for _ in range(200)]
    assert all(8.0 <= d <= 12.0 for d in jittered) and len(set(jittered)) > 100


@pytest.mark.parametrize(("kw", "says"), [
    ({"attempts": 0}, "attempts must be at least 1, not 0"),
    ({"first_delay": -1.0}, "delays cannot be negative"),
    ({"max_delay": -0.5}, "delays cannot be negative"),
    ({"factor": 0.5}, "factor must be at least 1, not 0.5"),
    ({"jitter": 1.5}, "jitter is a fraction from 0 to 1, not 1.5"),
    ({"jitter": -0.1}, "jitter is a fraction from 0 to 1, not -0.1"),
])
def test_a_policy_that_makes_no_sense_is_refused(kw: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(says)}$"):
        Retry(**kw)


def test_the_bounds_of_a_policy_are_allowed() -> None:
    # No wait at all, no growth, jitter of the whole delay: all valid.
    assert Retry(attempts=1, first_delay=0.0, max_delay=0.0, factor=1.0, jitter=1.0).delay(3) == 0
    assert Retry(first_delay=0.5, factor=1.0, jitter=0.0).delay(4) == 0.5
    assert 0.0 <= Retry(first_delay=1.0, jitter=1.0).delay(1) <= 2.0


def test_one_attempt_is_a_plain_send(driver: str, serve: Any) -> None:
    s = serve([greeting(b"421 4.3.2 busy\r\n"), delivers(OK3)])
    with pytest.raises(TransportError):
        run(driver, s.port, retry=Retry(attempts=1))
    assert s.served == 1


def test_no_try_after_one_that_left_a_recipient_unknown(driver: str, serve: Any) -> None:
    """An LMTP server that deferred one recipient and went away before the
    replies for the others: they may have the message, so nothing is tried
    again (the deferred one included: the caller sees the whole picture)."""
    from .test_lmtp import lmtp_transaction

    s = serve([lambda p: (lmtp_transaction(p, [b"452 4.2.2 full\r\n"]), p.reset()),
               delivers(OK3)])
    with pytest.raises(DeliveryStatusUnknown) as exc:
        run(driver, s.port, allow_partial=True, lmtp=True)
    assert s.served == 1
    assert [r.status for r in exc.value.result.recipients] == ["deferred", "unknown", "unknown"]


def test_with_allow_partial_only_the_deferred_of_a_whole_refusal_go_again(
        driver: str, serve: Any) -> None:
    """Every recipient refused, one for good: the other two are tried again."""
    first = delivers([b"550 5.1.1 no user\r\n", b"450 4.2.0 busy\r\n", b"451 4.3.0 later\r\n"])
    s = serve([first, delivers([b"250 ok\r\n", b"250 ok\r\n"])])
    result = run(driver, s.port, allow_partial=True)
    assert rcpts_of(s.sessions[1]) == ["r2@example.org", "r3@example.org"]
    assert [r.status for r in result.recipients] == ["rejected", "accepted", "accepted"]


def test_a_session_closed_by_a_421_mid_transaction_is_tried_again(driver: str,
                                                                    serve: Any) -> None:
    """A 421 to an RCPT (RFC 5321 3.8: the server is closing): nothing was
    sent and the refusal before it stands, so the next try goes to the
    other recipients only, on a new connection."""
    def closing(p: Peer) -> None:
        p.hello()
        transaction(p, [b"250 ok\r\n", b"550 5.1.1 no such user\r\n",
                        b"421 4.3.2 shutting down\r\n"])
    s = serve([closing, delivers([b"250 ok\r\n", b"250 ok\r\n"])])
    result = run(driver, s.port, allow_partial=True)
    assert s.served == 2
    assert rcpts_of(s.sessions[1]) == ["r1@example.org", "r3@example.org"]
    assert [(r.address, r.status) for r in result.recipients] == [
        ("r1@example.org", "accepted"), ("r2@example.org", "rejected"),
        ("r3@example.org", "accepted")]
