"""`mailfmt send` through a subprocess against aiosmtpd."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mailfmt import Message

from .conftest import Server


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


def test_send_failure_exit_code_and_message(tmp_path: Path) -> None:
    from .conftest import free_port

    f = tmp_path / "m.eml"
    f.write_bytes(Message(from_="alice@example.com", to="bob@example.org", text="x").to_bytes())
    res = run(str(f), "--host", "127.0.0.1", "--port", str(free_port()), "--tls", "none")
    assert res.returncode == 1 and "ConnectError" in res.stderr
    missing = run(str(f), "--host", "127.0.0.1", "--user", "u", "--password-env", "NOPE_X")
    assert missing.returncode == 2 and "$NOPE_X is not set" in missing.stderr
