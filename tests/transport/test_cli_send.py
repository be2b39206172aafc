"""`mailfmt send` through a subprocess against aiosmtpd."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from mailfmt import Message

from .conftest import Server
from .scripted import Peer, ScriptedServer


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "mailfmt.cli", "send", *args],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})})


def test_send_file_prints_per_recipient_results(smtpd: Server, tmp_path: Path) -> None:
    msg = Message(from_="alice@example.com", to=["bob@example.org", "carol@example.org"],
                  subject="cli", text="hi\n")
    f = tmp_path / "m.eml"
    f.write_bytes(msg.to_bytes())
    res = run(str(f), "--host", smtpd.host, "--port", str(smtpd.port), "--tls", "none")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("accepted  bob@example.org  250")
    assert lines[1].startswith("accepted  carol@example.org")
    env = smtpd.sink.envelopes[0]
    assert env.mail_from == "alice@example.com" and env.original_content == msg.to_bytes()


def test_send_refuses_what_fails_lint(smtpd: Server, tmp_path: Path) -> None:
    f = tmp_path / "bad.eml"
    f.write_bytes(b"From: alice@example.com\nTo: bob@example.org\n\nbare LF\n")
    res = run(str(f), "--host", smtpd.host, "--port", str(smtpd.port), "--tls", "none")
    assert res.returncode == 2 and "S102" in res.stderr and "Traceback" not in res.stderr
    assert smtpd.sink.envelopes == []


def test_send_refuses_a_bcc_field(smtpd: Server, tmp_path: Path) -> None:
    raw = Message(from_="alice@example.com", to="bob@example.org", text="x").to_bytes()
    f = tmp_path / "bcc.eml"
    f.write_bytes(raw.replace(b"To: ", b"Bcc: hidden@example.net\r\nTo: ", 1))
    res = run(str(f), "--host", smtpd.host, "--port", str(smtpd.port), "--tls", "none")
    assert res.returncode == 2 and "Bcc" in res.stderr


def test_send_takes_a_resent_message_to_its_resent_recipients(smtpd: Server,
                                                               tmp_path: Path) -> None:
    msg = Message(from_="alice@example.com", to="bob@example.org", text="x", headers=[
        ("Resent-Date", "Mon, 24 Nov 1997 14:22:01 -0800"),
        ("Resent-From", "mary@example.net"), ("Resent-To", "jane@example.org"),
        ("Resent-Cc", "Team: t@example.org;"),
        ("Resent-Date", "Fri, 21 Nov 1997 10:01:10 -0600"),
        ("Resent-Sender", "old@example.com"), ("Resent-To", "old@example.org")])
    f = tmp_path / "resent.eml"
    f.write_bytes(msg.to_bytes())
    res = run(str(f), "--host", smtpd.host, "--port", str(smtpd.port), "--tls", "none")
    assert res.returncode == 0, res.stderr
    env = smtpd.sink.envelopes[0]
    assert (env.mail_from, env.rcpt_tos) == (msg.envelope.mail_from,
                                            list(msg.envelope.rcpt_to))
    assert env.rcpt_tos == ["jane@example.org", "t@example.org"]


def test_send_failure_exit_code_and_message(tmp_path: Path) -> None:
    from .conftest import free_port

    f = tmp_path / "m.eml"
    f.write_bytes(Message(from_="alice@example.com", to="bob@example.org", text="x").to_bytes())
    res = run(str(f), "--host", "127.0.0.1", "--port", str(free_port()), "--tls", "none")
    assert res.returncode == 1 and "ConnectError" in res.stderr
    missing = run(str(f), "--host", "127.0.0.1", "--user", "u", "--password-env", "NOPE_X")
    assert missing.returncode == 2 and "$NOPE_X is not set" in missing.stderr


def test_several_files_go_over_one_connection(smtpd: Server, tmp_path: Path) -> None:
    msgs = [Message(from_="alice@example.com", to=f"user{i}@example.org", subject=f"n{i}",
                    text="hi\n") for i in range(3)]
    files = []
    for i, m in enumerate(msgs):
        files.append(tmp_path / f"m{i}.eml")
        files[-1].write_bytes(m.to_bytes())
    res = run(*map(str, files), "--host", smtpd.host, "--port", str(smtpd.port),
              "--tls", "none")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        f"{files[i]}: accepted  user{i}@example.org  250 2.0.0 OK queued" for i in range(3)]
    assert [e.original_content for e in smtpd.sink.envelopes] == [m.to_bytes() for m in msgs]
    assert len(set(smtpd.sink.peers)) == 1      # one connection


def test_one_bad_file_means_nothing_is_sent(smtpd: Server, tmp_path: Path) -> None:
    good = tmp_path / "good.eml"
    good.write_bytes(Message(from_="alice@example.com", to="bob@example.org",
                             text="x").to_bytes())
    bad = tmp_path / "bad.eml"
    bad.write_bytes(b"From: alice@example.com\nTo: bob@example.org\n\nbare LF\n")
    res = run(str(good), str(bad), str(tmp_path / "missing.eml"), "--host", smtpd.host,
              "--port", str(smtpd.port), "--tls", "none")
    assert res.returncode == 2
    err = res.stderr.splitlines()
    assert err[0].startswith(f"mailfmt send: {bad}: not sent: the message fails lint")
    assert err[1].startswith(f"mailfmt send: {tmp_path / 'missing.eml'}: cannot read")
    assert err[2] == "mailfmt send: nothing sent (2 of 3 files cannot go)"
    assert smtpd.sink.envelopes == []


def test_a_refused_file_does_not_stop_the_others(tmp_path: Path) -> None:
    def script(p: Peer) -> None:
        p.hello(b"250-mx\r\n250 PIPELINING\r\n")
        for reply in (b"250 ok\r\n250 ok\r\n354 go\r\n", b"554 5.7.1 no\r\n"
                      b"250 ok\r\n250 ok\r\n354 go\r\n"):
            while b"\r\n.\r\n" not in p.buf and not p.buf.endswith(b"DATA\r\n"):
                assert p._fill()
            p.buf = b""
            p.send(reply)
        p.data()
        p.send(b"250 queued\r\n")
        assert p.line() == b"QUIT"
        p.send(b"221 bye\r\n")
    files = []
    for i in range(2):
        files.append(tmp_path / f"m{i}.eml")
        files[-1].write_bytes(Message(from_="alice@example.com", to="bob@example.org",
                                      text=f"{i}\n").to_bytes())
    s = ScriptedServer(script)
    try:
        res = run(*map(str, files), "--host", "127.0.0.1", "--port", str(s.port),
                  "--tls", "none", "--timeout", "5")
    finally:
        s.close()
    assert res.returncode == 1
    out = res.stdout.splitlines()
    assert out[0].startswith(f"{files[0]}: rejected  bob@example.org  554 5.7.1 no")
    assert out[1].startswith(f"{files[1]}: accepted  bob@example.org  250")
    assert f"mailfmt send: {files[0]}: MessageRefused" in res.stderr


def test_send_asks_for_reports_only_where_the_server_offers_dsn(smtpd: Server,
                                                                tmp_path: Path) -> None:
    f = tmp_path / "m.eml"
    f.write_bytes(Message(from_="alice@example.com", to="bob@example.org", text="x").to_bytes())
    res = run(str(f), "--host", smtpd.host, "--port", str(smtpd.port), "--tls", "none",
              "--notify", "success,failure", "--envid", "e1")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "ExtensionMissing: delivery status notifications (DSN) were asked for" in res.stderr
    assert smtpd.sink.envelopes == []


def test_send_refuses_a_bad_report_request_as_usage(tmp_path: Path) -> None:
    f = tmp_path / "m.eml"
    f.write_bytes(Message(from_="alice@example.com", to="bob@example.org", text="x").to_bytes())
    res = run(str(f), "--host", "127.0.0.1", "--port", "9", "--tls", "none",
              "--notify", "never,success")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.startswith("mailfmt send: DSN notify must be 'never', or one or more")
    assert len(res.stderr.splitlines()) == 1


def test_send_interrupted_says_how_far_it_went(smtpd: Server, tmp_path: Path) -> None:
    import os
    import signal
    import time

    names = []
    for i in range(3000):
        f = tmp_path / f"m{i:04d}.eml"
        f.write_bytes(Message(from_="alice@example.com", to="bob@example.org",
                              subject=f"n{i}", text="hi\n").to_bytes())
        names.append(str(f))
    proc = subprocess.Popen([sys.executable, "-m", "mailfmt.cli", "send", *names, "--host",
                             smtpd.host, "--port", str(smtpd.port), "--tls", "none"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ))
    deadline = time.monotonic() + 30
    while len(smtpd.sink.envelopes) < 5 and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.count("\n") == 1
    assert err.startswith("mailfmt: interrupted; ")
    assert "send_many stopped at message" in err or sys.version_info < (3, 11)
    assert len(smtpd.sink.envelopes) < 3000


def _files(tmp_path: Path, *tos: list[str]) -> list[Path]:
    files = []
    for i, to in enumerate(tos):
        files.append(tmp_path / f"m{i}.eml")
        files[-1].write_bytes(Message(from_="alice@example.com", to=to, subject=f"r{i}",
                                      text=f"{i}\n").to_bytes())
    return files


def _transaction(p: Peer, rcpts: dict[bytes, bytes]) -> None:
    """Without PIPELINING: MAIL, each RCPT (asserted, with its reply), DATA, the data."""
    assert p.line().startswith(b"MAIL FROM:<alice@example.com>")
    p.send(b"250 ok\r\n")
    for rcpt, reply in rcpts.items():
        assert p.line() == b"RCPT TO:<" + rcpt + b">"
        p.send(reply)
    assert p.line() == b"DATA"
    p.send(b"354 go\r\n")
    p.data()
    p.send(b"250 2.0.0 queued\r\n")


def _carol_busy(p: Peer) -> None:
    p.hello()
    _transaction(p, {b"bob@example.org": b"250 ok\r\n",
                     b"carol@example.org": b"450 4.2.1 mailbox busy\r\n"})


def _refused(p: Peer, rcpt: bytes, reply: bytes) -> None:
    """A session whose one recipient gets ``reply`` (the client then gives up on it)."""
    p.hello()
    assert p.line().startswith(b"MAIL")
    p.send(b"250 ok\r\n")
    assert p.line() == b"RCPT TO:<" + rcpt + b">"
    p.send(reply)


def _retrying(scripts: list[Callable[[Peer], None]], files: list[Path],
              *args: str) -> tuple[subprocess.CompletedProcess[str], ScriptedServer]:
    s = ScriptedServer(scripts)
    try:
        res = run(*map(str, files), "--host", "127.0.0.1", "--port", str(s.port),
                  "--tls", "none", "--timeout", "5", "--retry-delay", "0", *args)
    finally:
        s.close()
    return res, s


def test_retries_come_back_after_a_busy_server(tmp_path: Path) -> None:
    """A 421 greeting: nothing was sent, so every file goes again, on a new
    connection, and the lines printed are the second try's."""
    files = _files(tmp_path, ["bob@example.org"], ["carol@example.org"])

    def busy(p: Peer) -> None:
        p.send(b"421 4.3.2 too busy, come back later\r\n")

    def fine(p: Peer) -> None:
        p.hello()
        _transaction(p, {b"bob@example.org": b"250 ok\r\n"})
        _transaction(p, {b"carol@example.org": b"250 ok\r\n"})
    res, s = _retrying([busy, fine], files, "--retries", "2")
    assert res.returncode == 0, res.stderr
    assert s.served == 2
    assert res.stdout.splitlines() == [
        f"{files[0]}: accepted  bob@example.org  250 2.0.0 queued",
        f"{files[1]}: accepted  carol@example.org  250 2.0.0 queued"]
    assert ("mailfmt send: try 1 of 3 failed for 2 file(s) (SMTPReplyError: the server "
            "refused the session: 421 4.3.2 too busy, come back later (phase greeting)); "
            "again in 0.0 s") in res.stderr


def test_retries_go_only_to_the_deferred_recipients(tmp_path: Path) -> None:
    files = _files(tmp_path, ["bob@example.org", "carol@example.org"])

    def second(p: Peer) -> None:
        p.hello()
        _transaction(p, {b"carol@example.org": b"250 ok\r\n"})
    res, s = _retrying([_carol_busy, second], files, "--retries", "1", "--allow-partial")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["accepted  bob@example.org  250 2.0.0 queued",
                                       "accepted  carol@example.org  250 2.0.0 queued"]
    assert bytes(s.sessions[1]).count(b"RCPT") == 1


def test_retries_used_up_leave_the_recipient_deferred(tmp_path: Path) -> None:
    files = _files(tmp_path, ["bob@example.org", "carol@example.org"])

    def again(p: Peer) -> None:
        _refused(p, b"carol@example.org", b"450 4.2.1 still busy\r\n")
    res, s = _retrying([_carol_busy, again], files, "--retries", "1", "--allow-partial")
    assert res.returncode == 1
    assert s.served == 2
    assert res.stdout.splitlines() == [
        "accepted  bob@example.org  250 2.0.0 queued",
        "deferred  carol@example.org  450 4.2.1 still busy"]
    assert "try 1 of 2 failed for 1 file(s) (recipients deferred)" in res.stderr


def test_a_refusal_for_good_is_not_tried_again(tmp_path: Path) -> None:
    files = _files(tmp_path, ["bob@example.org"])

    def refuse(p: Peer) -> None:
        _refused(p, b"bob@example.org", b"550 5.1.1 no such user\r\n")
    res, s = _retrying([refuse, refuse], files, "--retries", "3")
    assert res.returncode == 1
    assert s.served == 1
    assert res.stdout.splitlines() == ["rejected  bob@example.org  550 5.1.1 no such user"]
    assert "again in" not in res.stderr


def test_a_session_that_fails_every_try_is_said_once(tmp_path: Path) -> None:
    files = _files(tmp_path, ["bob@example.org"], ["carol@example.org"])

    def busy(p: Peer) -> None:
        p.send(b"421 4.3.2 too busy\r\n")
    res, s = _retrying([busy, busy], files, "--retries", "1")
    assert res.returncode == 1
    assert s.served == 2
    assert res.stdout == ""
    assert res.stderr.splitlines()[-1].startswith("mailfmt send: SMTPReplyError: ")
    assert res.stderr.count("too busy") == 2     # the try that failed, then the last one


def test_negative_retries_are_a_usage_error(tmp_path: Path) -> None:
    files = _files(tmp_path, ["bob@example.org"])
    res = run(str(files[0]), "--host", "127.0.0.1", "--retries", "-1")
    assert res.returncode == 2 and "cannot be negative" in res.stderr
    # Said before any file is read, as the other usage errors are.
    res = run(str(tmp_path / "missing.eml"), "--host", "127.0.0.1", "--retry-delay", "-1")
    assert res.returncode == 2 and "cannot be negative" in res.stderr
    assert "cannot read" not in res.stderr
