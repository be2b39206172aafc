"""Real delivery through Postfix (a strict judge: smtpd_forbid_bare_newline =
reject) into a Maildir, compared byte for byte with what was sent.

.ci/run starts Postfix (.ci/postfix.sh) and sets MAILFMT_POSTFIX_PORT,
MAILFMT_POSTFIX_MAILDIR and MAILFMT_REQUIRE_POSTFIX=1. Elsewhere the tests
skip, saying why.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailfmt import Attachment, Message
from mailfmt.transport import DSN, AsyncSMTPClient, SendResult, SMTPClient, read_report

from .record import record
from .recorded import SCENARIOS, Recording

PORT = os.environ.get("MAILFMT_POSTFIX_PORT")
MAILDIR = os.environ.get("MAILFMT_POSTFIX_MAILDIR")


@pytest.fixture(scope="module")
def postfix() -> tuple[int, Path]:
    if not PORT or not MAILDIR:
        if os.environ.get("MAILFMT_REQUIRE_POSTFIX") == "1":
            pytest.fail("MAILFMT_REQUIRE_POSTFIX=1 but MAILFMT_POSTFIX_PORT/MAILDIR are unset")
        pytest.skip("no Postfix: run .ci/postfix.sh DIR PORT and set MAILFMT_POSTFIX_PORT "
                    "and MAILFMT_POSTFIX_MAILDIR (what .ci/run does)")
    return int(PORT), Path(MAILDIR)


def delivered(maildir: Path, message_id: str, count: int, timeout: float = 60) -> list[bytes]:
    """The Maildir copies of one message (Postfix writes one per recipient)."""
    needle = message_id.encode()
    deadline = time.monotonic() + timeout
    found: list[bytes] = []
    while time.monotonic() < deadline:
        found = []
        for f in (maildir / "new").glob("*"):
            data = f.read_bytes()
            if needle in data[:4096]:
                found.append(data)
        if len(found) >= count:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{len(found)} of {count} copies of {message_id} arrived")


def send(driver: str, port: int, msg: Message) -> SendResult:
    if driver == "sync":
        with SMTPClient("127.0.0.1", port, tls="none", timeout=60) as c:
            return c.send(msg)

    async def main() -> SendResult:
        async with AsyncSMTPClient("127.0.0.1", port, tls="none", timeout=60) as c:
            return await c.send(msg)
    return asyncio.run(main())


def same_after_trace_fields(copy: bytes, sent: bytes) -> bool:
    # The Maildir copy uses LF line ends and starts with Postfix's own fields
    # (Return-Path, X-Original-To, Delivered-To, Received); after them it is
    # exactly what was sent, with the CRLF that ends the DATA content when
    # the message itself did not end with one (RFC 5321 4.1.1.4).
    if not sent.endswith(b"\r\n"):
        sent += b"\r\n"
    return copy.replace(b"\n", b"\r\n").endswith(sent)


MESSAGES = {
    "text": lambda: Message(from_="alice@example.com", to="bob@example.org",
                            subject="Grüße aus Köln", text="Hello\n.\n..\n.dots\n"),
    "html": lambda: Message(from_="Alice <alice@example.com>", to="bob@example.org",
                            cc="carol@example.com", text="plain " * 50, html="<p>x</p>" * 200),
    "attachments": lambda: Message(from_="alice@example.com", to="bob@example.org",
                                   text="see attached", attachments=[
                                       Attachment(filename="Résumé.pdf", content=os.urandom(5000)),
                                       Attachment(filename="a.txt", content=b".\r\n" * 100)]),
}


@pytest.mark.parametrize("kind", sorted(MESSAGES))
def test_delivery_is_byte_exact(postfix: tuple[int, Path], driver: str, kind: str) -> None:
    port, maildir = postfix
    msg = MESSAGES[kind]()
    result = send(driver, port, msg)
    assert result.ok and result.reply is not None and result.reply.code == 250
    copies = delivered(maildir, msg.message_id or "", len(msg.envelope.rcpt_to))
    assert all(same_after_trace_fields(c, msg.to_bytes()) for c in copies)


def test_ten_megabyte_attachment(postfix: tuple[int, Path], driver: str,
                                 tmp_path: Path) -> None:
    port, maildir = postfix
    f = tmp_path / "big.bin"
    f.write_bytes(os.urandom(10 * 1024 * 1024))
    msg = Message(from_="alice@example.com", to="bob@example.org", text="big",
                  attachments=[Attachment.from_path(f)])
    assert send(driver, port, msg).ok
    [copy] = delivered(maildir, msg.message_id or "", 1, timeout=120)
    assert same_after_trace_fields(copy, msg.to_bytes())


def test_150_recipients(postfix: tuple[int, Path], driver: str) -> None:
    port, maildir = postfix
    rcpts = [f"user{i}@example.org" for i in range(150)]
    msg = Message(from_="alice@example.com", to=rcpts[:50], cc=rcpts[50:100], bcc=rcpts[100:],
                  text="to many")
    result = send(driver, port, msg)
    assert len(result.accepted) == 150
    copies = delivered(maildir, msg.message_id or "", 150, timeout=120)
    assert all(same_after_trace_fields(c, msg.to_bytes()) for c in copies)
    assert all(b"user120@example.org" not in c.split(b"\n\n", 1)[0].split(b"Received:", 1)[1]
               for c in copies)   # Bcc addresses never in the delivered header


def test_the_judge_is_strict(postfix: tuple[int, Path]) -> None:
    """A client that sends a bare LF (as smtplib does from bytes) is refused."""
    port, _ = postfix
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        f = s.makefile("rwb")

        def cmd(line: bytes) -> bytes:
            f.write(line)
            f.flush()
            reply = f.readline()
            while reply[3:4] == b"-":
                reply = f.readline()
            return reply
        f.readline()
        assert cmd(b"EHLO client.example.com\r\n").startswith(b"250")
        assert cmd(b"MAIL FROM:<alice@example.com>\r\n").startswith(b"250")
        assert cmd(b"RCPT TO:<bob@example.org>\r\n").startswith(b"250")
        assert cmd(b"DATA\r\n").startswith(b"354")
        reply = cmd(b"Subject: x\r\n\r\nbare\nLF\r\n.\r\n")
        assert reply.startswith(b"5"), reply


def test_send_many_pipelined_is_byte_exact(postfix: tuple[int, Path], driver: str) -> None:
    """Postfix offers PIPELINING: every envelope after the first goes out
    behind the previous message's end of data, and each message arrives whole."""
    port, maildir = postfix
    msgs = [Message(from_="alice@example.com", to=f"user{i}@example.org", subject=f"n{i}",
                    text=f"message {i}\n.\n" * (i + 1)) for i in range(20)]
    if driver == "sync":
        with SMTPClient("127.0.0.1", port, tls="none", timeout=60) as c:
            results = c.send_many(msgs)
    else:
        async def main() -> list[SendResult | Exception]:
            async with AsyncSMTPClient("127.0.0.1", port, tls="none", timeout=60) as c:
                return list(await c.send_many(msgs))
        results = asyncio.run(main())
    assert all(isinstance(r, SendResult) and r.ok for r in results), results
    # The wire shape: MAIL right behind the previous message's final dot.
    first = results[0]
    assert isinstance(first, SendResult)
    lines = first.transcript
    assert any(a == "C: ." and b.startswith("C: MAIL FROM")
               for a, b in itertools.pairwise(lines))
    for m in msgs:
        [copy] = delivered(maildir, m.message_id or "", 1)
        assert same_after_trace_fields(copy, m.to_bytes())


def report_for(maildir: Path, envid: str, since: float, timeout: float = 60) -> bytes:
    """The delivery status notification (RFC 3464) that quotes ``envid``."""
    needle = f"\nOriginal-Envelope-Id: {envid}\n".encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for f in (maildir / "new").glob("*"):
            if f.stat().st_mtime >= since - 1 and needle in (data := f.read_bytes()):
                return data
        time.sleep(0.2)
    raise AssertionError(f"no report quoting ENVID {envid!r} arrived")


def test_postfix_reports_the_delivery_asked_for(postfix: tuple[int, Path], driver: str) -> None:
    """NOTIFY=SUCCESS: Postfix sends the sender a report naming each
    recipient as given (ORCPT), quoting the envelope id, with the header
    only (RET=HDRS)."""
    port, maildir = postfix
    since = time.time()
    envid = f"report {driver} {time.time_ns()}"
    msg = Message(from_="alice@example.com", to=["bob@example.org", "x+y=z@example.net"],
                  subject="report me", text="the body stays home\n")
    dsn = DSN(notify=("success", "failure"), ret="hdrs", envid=envid)
    if driver == "sync":
        with SMTPClient("127.0.0.1", port, tls="none", timeout=60) as c:
            result = c.send(msg, dsn=dsn)
    else:
        async def main() -> SendResult:
            async with AsyncSMTPClient("127.0.0.1", port, tls="none", timeout=60) as c:
                return await c.send(msg, dsn=dsn)
        result = asyncio.run(main())
    assert result.ok
    report = report_for(maildir, envid, since)
    assert b"Return-Path: <>\n" in report and b"report-type=delivery-status" in report
    for rcpt in ("bob@example.org", "x+y=z@example.net"):
        assert f"Original-Recipient: rfc822;{rcpt}\n".encode() in report
        assert f"Final-Recipient: rfc822; {rcpt}\nOriginal-Recipient".encode() in report
    assert report.count(b"Action: delivered\n") == 2
    # Read back as values: each recipient found by the address the send gave.
    parsed = read_report(report)
    assert parsed.envid == envid and parsed.reporting_mta == "mx.mailfmt.example.com"
    for rcpt in ("bob@example.org", "x+y=z@example.net"):
        r = parsed.recipient(rcpt)
        assert r is not None and not r.failed
        assert (r.final_recipient, r.original_recipient, r.action, r.status) == (
            rcpt, rcpt, "delivered", (2, 0, 0))
    # RET=HDRS: the message's header comes back, its body does not.
    assert (msg.message_id or "").encode() in report and b"the body stays home" not in report


def test_cli_send_asks_for_reports(postfix: tuple[int, Path], tmp_path: Path) -> None:
    port, maildir = postfix
    since = time.time()
    envid = f"cli {time.time_ns()}"
    f = tmp_path / "m.eml"
    f.write_bytes(Message(from_="alice@example.com", to="bob@example.org", text="x").to_bytes())
    res = subprocess.run([sys.executable, "-m", "mailfmt.cli", "send", str(f), "--host",
                          "127.0.0.1", "--port", str(port), "--tls", "none", "--notify",
                          "success", "--ret", "full", "--envid", envid],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    report = report_for(maildir, envid, since)
    assert b"Original-Recipient: rfc822;bob@example.org\n" in report
    assert b"Action: delivered\n" in report


def _without_queue_ids(text: str) -> str:
    return re.sub(r"queued as [0-9A-Za-z]+", "queued as ID", text)


@pytest.mark.parametrize("name", sorted(s.name for s in SCENARIOS if s.server == "postfix"))
def test_recording_again_from_postfix_gives_the_same_session(
        postfix: tuple[int, Path], name: str) -> None:
    """The sessions of tests/vectors/smtp, recorded again from this Postfix:
    what the client wrote and what the server said are the same, but for the
    queue ids, and so is the outcome (test_recorded.py replays them)."""
    scenario = next(s for s in SCENARIOS if s.name == name)
    old, new = Recording.load(scenario.path), record(scenario)
    assert new.stream("C") == old.stream("C")
    assert _without_queue_ids(new.stream("S").decode()) == \
        _without_queue_ids(old.stream("S").decode())
    assert _without_queue_ids(json.dumps(new.outcome)) == \
        _without_queue_ids(json.dumps(old.outcome))
