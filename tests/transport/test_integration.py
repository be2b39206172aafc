"""Both drivers against aiosmtpd on loopback: bytes, envelopes, TLS, AUTH."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from mailfmt import Attachment, Message
from mailfmt.errors import AuthError, MessageRejected, TLSError
from mailfmt.transport import AsyncSMTPClient, SendResult, SMTPClient

from .conftest import PASSWORD, USER, Server, deliver


def make(**kw: object) -> Message:
    base: dict[str, object] = {"from_": "Alice <alice@example.com>", "to": ["bob@example.org"],
                               "subject": "Grüße", "text": "Hello\n"}
    base.update(kw)
    return Message(**base)  # type: ignore[arg-type]


def test_plain_send_bytes_and_envelope(driver: str, smtpd: Server) -> None:
    msg = make(cc="carol@example.org", bcc="hidden@example.net",
               text="line one\n.\n..two\n.three\n",
               attachments=[Attachment(filename="a.bin", content=bytes(range(256)) * 100)])
    [result] = deliver(driver, smtpd, [msg])
    assert result.ok
    assert [r.address for r in result.accepted] == ["bob@example.org", "carol@example.org",
                                                    "hidden@example.net"]
    assert result.accepted[0].code == 250 and result.reply is not None
    env = smtpd.sink.envelopes[0]
    assert env.mail_from == "alice@example.com"
    assert env.rcpt_tos == ["bob@example.org", "carol@example.org", "hidden@example.net"]
    # What arrived is exactly what was built: stuffed on the wire, unstuffed there.
    assert env.original_content == msg.to_bytes()
    assert b"hidden" not in env.original_content


def test_a_resent_message_goes_to_the_resent_recipients(driver: str, smtpd: Server) -> None:
    msg = make(headers=[("Resent-From", "Mary Smith <mary@example.net>"),
                        ("Resent-To", "Zoë <zoe@example.org>"),
                        ("Resent-Bcc", "audit@example.net")])
    [result] = deliver(driver, smtpd, [msg])
    assert [r.address for r in result.accepted] == ["zoe@example.org", "audit@example.net"]
    env = smtpd.sink.envelopes[0]
    assert env.mail_from == "mary@example.net"
    assert env.rcpt_tos == ["zoe@example.org", "audit@example.net"]
    assert env.original_content == msg.to_bytes()
    assert b"Resent-To: =?utf-8?q?Zo=C3=AB?= <zoe@example.org>\r\n" in env.original_content
    assert b"audit" not in env.original_content


def test_several_messages_reuse_the_connection(driver: str, smtpd: Server) -> None:
    msgs = [make(subject=f"n{i}") for i in range(5)]
    results = deliver(driver, smtpd, msgs)
    assert all(r.ok for r in results)
    assert [e.original_content for e in smtpd.sink.envelopes] == [m.to_bytes() for m in msgs]
    assert sum(1 for line in results[-1].transcript if line.startswith("C: EHLO")) == 1


def test_150_recipients_go_in_two_transactions(driver: str, smtpd: Server) -> None:
    rcpts = [f"user{i}@example.org" for i in range(150)]
    [result] = deliver(driver, smtpd, [make(to=rcpts)])
    assert len(result.accepted) == 150
    assert [len(e.rcpt_tos) for e in smtpd.sink.envelopes] == [100, 50]


def test_starttls_and_auth(driver: str, smtpd_tls: Server) -> None:
    for mech in ("PLAIN", "LOGIN"):
        smtpd_tls.sink.auth_seen.clear()
        [result] = deliver(driver, smtpd_tls, [make()], tls="starttls", username=USER,
                           password=PASSWORD, auth_mechanism=mech)
        assert result.ok
        assert smtpd_tls.sink.auth_seen == [mech]
        transcript = "\n".join(result.transcript)
        assert "C: STARTTLS" in transcript and transcript.count("C: EHLO") == 2
        assert PASSWORD not in transcript
        assert "cGFzc3dvcmQ" not in transcript and "czNjcmV0" not in transcript


def test_wrong_password_raises_auth_error_with_code(driver: str, smtpd_tls: Server) -> None:
    with pytest.raises(AuthError) as exc:
        deliver(driver, smtpd_tls, [make()], tls="starttls", username=USER,
                password="wrong-password")
    assert exc.value.reply is not None and exc.value.reply.code == 535
    assert "wrong-password" not in str(exc.value) + "\n".join(exc.value.transcript)
    assert smtpd_tls.sink.auth_seen == ["PLAIN"]   # one mechanism, never retried


def test_untrusted_certificate_fails_closed(driver: str, smtpd_tls: Server) -> None:
    import ssl

    smtpd_tls.client_ssl = ssl.create_default_context()   # does not trust the test CA
    with pytest.raises(TLSError, match="certificate"):
        deliver(driver, smtpd_tls, [make()], tls="starttls", username=USER, password=PASSWORD)
    assert smtpd_tls.sink.envelopes == [] and smtpd_tls.sink.auth_seen == []


def test_no_plaintext_auth_without_explicit_loopback_opt_in(driver: str, smtpd: Server) -> None:
    with pytest.raises(AuthError, match="without TLS"):
        deliver(driver, smtpd, [make()], username=USER, password=PASSWORD)


def test_send_raw_lints_first(driver: str, smtpd: Server) -> None:
    good = make().to_bytes()
    with SMTPClient(smtpd.host, smtpd.port, tls="none") as c:
        result = c.send_raw(good, mail_from="alice@example.com", rcpt_to=["x@example.org"])
        assert result.ok
        with pytest.raises(MessageRejected) as exc:
            c.send_raw(good.replace(b"\r\n", b"\n"), mail_from="alice@example.com",
                       rcpt_to=["x@example.org"])
        assert exc.value.violations[0].code == "S102"
    assert smtpd.sink.envelopes[0].original_content == good
    assert len(smtpd.sink.envelopes) == 1


def _send_raw(driver: str, server: Server, data: bytes, rcpt_to: list[str]) -> SendResult:
    if driver == "sync":
        with SMTPClient(server.host, server.port, tls="none") as c:
            return c.send_raw(data, mail_from="alice@example.com", rcpt_to=rcpt_to)

    async def main() -> SendResult:
        async with AsyncSMTPClient(server.host, server.port, tls="none") as c:
            return await c.send_raw(data, mail_from="alice@example.com", rcpt_to=rcpt_to)
    return asyncio.run(main())


def test_send_raw_refuses_a_bcc_that_names_anyone(driver: str, smtpd: Server) -> None:
    # The data goes to every recipient as it is: a Bcc field would show them all.
    good = make().to_bytes()
    hidden = good.replace(b"To: ", b"Bcc: Hidden <hidden@example.net>\r\nTo: ", 1)
    with pytest.raises(MessageRejected, match=r"Bcc field naming 1 recipient"):
        _send_raw(driver, smtpd, hidden, ["bob@example.org", "hidden@example.net"])
    assert smtpd.sink.envelopes == []
    resent = good.replace(b"To: ", b"Resent-Bcc: hidden@example.net\r\nTo: ", 1)
    with pytest.raises(MessageRejected, match=r"Bcc field naming 1 recipient"):
        _send_raw(driver, smtpd, resent, ["bob@example.org", "hidden@example.net"])
    assert smtpd.sink.envelopes == []
    # An empty Bcc (RFC 5322 3.6.3's third way) names no one: it goes.
    empty = good.replace(b"To: ", b"Bcc:\r\nTo: ", 1)
    assert _send_raw(driver, smtpd, empty, ["bob@example.org", "hidden@example.net"]).ok
    assert smtpd.sink.envelopes[0].original_content == empty


def test_transcript_logged_at_debug_without_secrets(smtpd_tls: Server,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="mailfmt.transport"):
        deliver("sync", smtpd_tls, [make()], tls="starttls", username=USER, password=PASSWORD)
    text = caplog.text
    assert "C: AUTH PLAIN ****" in text and "S: 235" in text
    assert PASSWORD not in text and not re.search(r"AUTH PLAIN [A-Za-z0-9+/=]{8}", text)


def test_client_repr_has_no_secrets() -> None:
    c = SMTPClient("127.0.0.1", 1, username=USER, password=PASSWORD)
    assert PASSWORD not in repr(c) and PASSWORD not in repr(vars(c))


def test_long_sessions_keep_a_bounded_transcript(smtpd: Server) -> None:
    from mailfmt.transport._connection import TRANSCRIPT_TAIL

    with SMTPClient(smtpd.host, smtpd.port, tls="none") as c:
        results = [c.send(make(subject=f"n{i}")) for i in range(400)]
        assert c._conn is not None
        assert len(c._conn.transcript) <= 4 * TRANSCRIPT_TAIL
        assert c._conn.transcript_dropped > 0
    last = results[-1].transcript
    # The session's opening, then this message's own transaction only.
    assert last[0].startswith("S: 220") and last[1].startswith("C: EHLO")
    assert sum(1 for line in last if line.startswith("C: MAIL")) == 1
    assert len(smtpd.sink.envelopes) == 400


def test_utf8_message_with_a_file_is_not_read_whole_to_pick_extensions(
        tmp_path: pytest.TempPathFactory) -> None:
    import tracemalloc

    from mailfmt import Policy
    from mailfmt.transport._common import message_job

    f = tmp_path / "big.bin"  # type: ignore[operator]
    f.write_bytes(b"\x00" * (16 * 1024 * 1024))
    # An ASCII envelope, UTF-8 in the header: only the bytes tell whether
    # SMTPUTF8 is needed.
    msg = Message(from_="alice@example.com", to="bob@example.org", subject="Grüße",
                  attachments=[Attachment.from_path(f)], policy=Policy(utf8=True))
    tracemalloc.start()
    try:
        job = message_job(msg, None, None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert job.needs_smtputf8 and job.needs_8bitmime
    assert peak < 4 * 1024 * 1024, peak     # the 16 MiB file was not loaded
    assert b"".join(job.source()) == msg.to_bytes()
