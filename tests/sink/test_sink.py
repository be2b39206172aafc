"""The sink as a library, through `mailfmt sink` in a subprocess, and the
pytest plugin with several senders."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailfmt import Message
from mailfmt.sink import ReceivedDSN, Sink, SinkError
from mailfmt.transport import DSN, SMTPClient

from ..transport.conftest import free_port

pytest_plugins = ["pytester"]

MSG = Message(from_="alice@example.com", to=["bob@example.org"], subject="Hi", text="Hello\n")


def test_library_sink_stores_byte_for_byte_and_lints(tmp_path: Path) -> None:
    with Sink(maildir=tmp_path / "md") as sink, SMTPClient(sink.host, sink.port,
                                                           tls="none") as c:
        c.send(MSG)
    [m] = sink.messages
    assert m.raw == MSG.to_bytes() and m.report.ok
    assert m.path is not None and m.path.read_bytes() == m.raw
    assert m.path.parent == tmp_path / "md" / "new"
    assert m.message == MSG


def test_bind_refusal() -> None:
    with pytest.raises(SinkError, match="not a loopback address"):
        Sink("0.0.0.0")


def start_cli(*args: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mailfmt.cli", "sink", "--port", str(port),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the sink did not start: " + proc.stderr.read())


def test_cli_sink_report_maildir_and_clean_shutdown(tmp_path: Path) -> None:
    maildir = tmp_path / "md"
    proc, port = start_cli("--maildir", str(maildir))
    bad = b"From: alice@example.com\r\nTo: bob@example.org\r\nSubject: no date\r\n\r\nx\r\n"
    with smtplib.SMTP("127.0.0.1", port) as s:
        s.sendmail("alice@example.com", ["bob@example.org"], MSG.to_bytes())
        s.sendmail("alice@example.com", ["bob@example.org", "carol@example.org"], bad)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopped; 2 message(s)" in err
    lines = out.splitlines()
    assert lines[0].startswith("alice@example.com -> bob@example.org") and "clean" in lines[0]
    assert "bob@example.org, carol@example.org" in lines[1] and "H202 x1" in lines[1]
    assert any("H202 missing-date" in line for line in lines[2:])
    stored = sorted((maildir / "new").iterdir())
    assert [p.read_bytes() for p in stored] == [MSG.to_bytes(), bad]


def test_cli_sink_strict_rejects_bare_lf(tmp_path: Path) -> None:
    proc, port = start_cli("--strict", "--json", "--maildir", str(tmp_path / "md"))
    try:
        with smtplib.SMTP("127.0.0.1", port) as s:
            # smtplib sends bytes as they are: the bare LF reaches the server.
            with pytest.raises(smtplib.SMTPDataError) as exc:
                s.sendmail("alice@example.com", ["bob@example.org"],
                           b"From: alice@example.com\r\n\r\nbare\nLF\r\n")
            assert exc.value.smtp_code == 550 and b"bare <LF>" in exc.value.smtp_error
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    assert not list((tmp_path / "md" / "new").iterdir())


def test_cli_sink_and_send_speak_lmtp(tmp_path: Path) -> None:
    proc, port = start_cli("--lmtp", "--strict", "--maildir", str(tmp_path / "md"))
    try:
        two = Message(from_="alice@example.com", to=["bob@example.org", "carol@example.org"],
                      subject="Hi", text="Hello\n")
        (tmp_path / "m.eml").write_bytes(two.to_bytes())
        sent = subprocess.run([sys.executable, "-m", "mailfmt.cli", "send", "--lmtp",
                               "--host", "127.0.0.1", "--port", str(port), "--tls", "none",
                               str(tmp_path / "m.eml")],
                              capture_output=True, text=True, check=False, timeout=60)
        assert sent.returncode == 0, sent.stderr
        assert [line.split()[:2] for line in sent.stdout.splitlines()] == [
            ["accepted", "bob@example.org"], ["accepted", "carol@example.org"]]
        assert "<carol@example.org>" in sent.stdout.splitlines()[1]
        # Bare LF, which --strict refuses: a refusal for each recipient, in order.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            f = s.makefile("rb")
            assert f.readline().startswith(b"220")
            s.sendall(b"LHLO client.example.com\r\n")
            while f.readline()[3:4] == b"-":
                pass
            s.sendall(b"MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.org>\r\n"
                      b"RCPT TO:<carol@example.org>\r\nDATA\r\n")
            assert [f.readline()[:3] for _ in range(4)] == [b"250", b"250", b"250", b"354"]
            s.sendall(b"Subject: x\r\n\r\nbare\nLF\r\n.\r\n")
            finals = [f.readline() for _ in range(2)]
            assert [r[:4] for r in finals] == [b"550 ", b"550 "]
            assert finals[0].endswith(b"<bob@example.org>\r\n")
            assert finals[1].endswith(b"<carol@example.org>\r\n")
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert "(LMTP)" in err
    assert len(list((tmp_path / "md" / "new").iterdir())) == 1


def test_cli_sink_refuses_remote_bind() -> None:
    res = subprocess.run([sys.executable, "-m", "mailfmt.cli", "sink", "--host", "0.0.0.0"],
                         capture_output=True, text=True, timeout=20, check=False)
    assert res.returncode == 2 and "not a loopback address" in res.stderr


PLUGIN_TEST = '''
import asyncio, smtplib
from mailfmt import Message
from mailfmt.transport import SMTPClient

MSG = Message(from_="alice@example.com", to="bob@example.org", subject="Hi", text="Hello\\n")

def test_smtplib(smtp_sink):
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as s:
        s.send_message(__import__("email").message_from_bytes(MSG.to_bytes()))
    assert smtp_sink.messages[0].rcpt_to == ["bob@example.org"]
    smtp_sink.assert_clean()

def test_mailfmt(smtp_sink):
    with SMTPClient(smtp_sink.host, smtp_sink.port, tls="none") as c:
        c.send(MSG)
    assert smtp_sink.messages[0].message == MSG
    smtp_sink.assert_clean(strict=True)

def test_aiosmtplib(smtp_sink):
    import aiosmtplib
    asyncio.run(aiosmtplib.send(MSG.to_bytes(), sender="alice@example.com",
                                recipients=["bob@example.org"], hostname=smtp_sink.host,
                                port=smtp_sink.port, start_tls=False))
    smtp_sink.assert_clean()

def test_django(smtp_sink):
    import django
    from django.conf import settings
    if not settings.configured:
        settings.configure(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                           EMAIL_HOST=smtp_sink.host, EMAIL_PORT=smtp_sink.port,
                           EMAIL_USE_TLS=False, DEFAULT_CHARSET="utf-8")
        django.setup()
    settings.EMAIL_PORT = smtp_sink.port
    from django.core.mail import send_mail
    send_mail("Grüße", "Hello from Django\\n", "alice@example.com", ["bob@example.org"])
    assert smtp_sink.messages[0].rcpt_to == ["bob@example.org"]
    smtp_sink.assert_clean()

def test_dirty_mail_fails(smtp_sink):
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as s:
        s.sendmail("a@example.com", ["b@example.org"], b"Subject: x\\r\\n\\r\\nno from\\r\\n")
    smtp_sink.assert_clean()
'''


def test_pytest_plugin_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PLUGIN_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["*H201 missing-from*"])


def test_precommit_hooks_name_real_commands() -> None:
    text = (Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml").read_text()
    assert "entry: mailfmt lint" in text and "entry: mailfmt fmt --check" in text
    assert os.path.exists(Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml")


def test_the_sink_keeps_the_delivery_status_notifications_asked_for() -> None:
    msg = Message(from_="alice@example.com", to=["bob@example.org", "x+y=z@example.net"],
                  text="hi\n")
    with Sink() as sink, SMTPClient(sink.host, sink.port, tls="none") as c:
        c.send(msg, dsn=DSN(notify=("success", "delay"), ret="hdrs", envid="batch 7"))
        c.send(msg)
        # smtplib sends them as raw options; the sink reads them the same way
        with smtplib.SMTP(sink.host, sink.port) as s:
            s.sendmail("alice@example.com", ["bob@example.org"], msg.to_bytes(),
                       mail_options=["RET=FULL"], rcpt_options=["NOTIFY=NEVER"])
    first, second, third = sink.messages
    assert first.dsn == ReceivedDSN(
        ret="HDRS", envid="batch 7",
        notify={"bob@example.org": ("SUCCESS", "DELAY"), "x+y=z@example.net": ("SUCCESS", "DELAY")},
        orcpt={"bob@example.org": "rfc822;bob@example.org",
               "x+y=z@example.net": "rfc822;x+y=z@example.net"})
    assert second.dsn is None and second.as_json()["dsn"] is None
    assert third.dsn == ReceivedDSN(ret="FULL", notify={"bob@example.org": ("NEVER",)})
    assert first.as_json()["dsn"]["notify"]["bob@example.org"] == ["SUCCESS", "DELAY"]
    sink.cleanup()


def test_after_helo_the_sink_takes_no_dsn_parameter() -> None:
    # HELO offers no extension: a parameter is a syntax error (RFC 5321 4.1.1.11).
    with Sink() as sink, smtplib.SMTP(sink.host, sink.port) as s:
        s.helo("c.example.com")
        assert s.docmd("MAIL FROM:<a@example.com> RET=FULL")[0] == 501
        assert s.docmd("MAIL FROM:<a@example.com>")[0] == 250
        assert s.docmd("RCPT TO:<b@example.org> NOTIFY=NEVER")[0] == 501
    sink.cleanup()


@pytest.mark.parametrize(("command", "reply"), [
    (b"MAIL FROM:<a@example.com> RET=BODY", b"501 5.5.4 RET must be FULL or HDRS"),
    (b"MAIL FROM:<a@example.com> RET=FULL RET=HDRS", b"501 5.5.4 RET given twice"),
    (b"MAIL FROM:<a@example.com> ENVID=a+2b", b"501 5.5.4 'a+2b' is not xtext"),
    (b"MAIL FROM:<a@example.com> ENVID=" + b"x" * 101, b"501 5.5.4 ENVID is too long"),
    (b"RCPT TO:<b@example.org> NOTIFY=NEVER,SUCCESS", b"501 5.5.4 NOTIFY must be NEVER"),
    (b"RCPT TO:<b@example.org> NOTIFY=SUCCESS,SUCCESS", b"501 5.5.4 NOTIFY must be NEVER"),
    (b"RCPT TO:<b@example.org> NOTIFY=SOMETIMES", b"501 5.5.4 NOTIFY must be NEVER"),
    (b"RCPT TO:<b@example.org> ORCPT=b@example.org", b"501 5.5.4 ORCPT must be addr-type"),
    (b"RCPT TO:<b@example.org> ORCPT=rfc822;" + b"x" * 494, b"501 5.5.4 ORCPT is too long"),
    (b"RCPT TO:<b@example.org> ORCPT=rfc822;" + b"x" * 493, b"250 "),
    (b"RCPT TO:<b@example.org> FOO=1", b"555 RCPT TO parameters not recognized"),
])
def test_the_sink_checks_dsn_parameters_as_a_strict_server_does(command: bytes,
                                                               reply: bytes) -> None:
    with Sink() as sink, smtplib.SMTP(sink.host, sink.port) as s:
        s.ehlo("c.example.com")
        assert s.has_extn("dsn")
        if command.startswith(b"RCPT"):
            assert s.docmd("MAIL FROM:<a@example.com>")[0] == 250
        code, text = s.docmd(command.decode())
        assert f"{code} {text.decode()}".startswith(reply.decode()), (code, text)
    sink.cleanup()
