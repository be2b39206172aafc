"""LMTP (RFC 2033): LHLO in place of EHLO, and one reply to the end of data
for each accepted recipient, in the core, against a scripted server (both
drivers), and against the sink in LMTP mode."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailfmt import Message
from mailfmt.errors import (
    ConnectError,
    DeliveryStatusUnknown,
    LocalProtocolError,
    MessageRefused,
    RecipientsRefused,
    SMTPReplyError,
)
from mailfmt.sink import Sink
from mailfmt.transport import (
    NEED_DATA,
    AsyncSMTPClient,
    ClientConnection,
    Data,
    Ehlo,
    EndOfMessage,
    Helo,
    Lhlo,
    Mail,
    MessageData,
    Rcpt,
    Reply,
    SendResult,
    SMTPClient,
    State,
)

from . import test_connection, test_faults
from .scripted import Peer, ScriptedServer

MSG = test_faults.MSG      # to r1, r2 and r3
LHLO = b"250-lmtp.example.com\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n"


# ---- the core ----------------------------------------------------------------------


def lmtp_ready(lhlo_reply: bytes = LHLO) -> ClientConnection:
    c = ClientConnection()
    c.receive_data(b"220 lmtp.example.com LMTP\r\n")
    assert isinstance(c.next_event(), Reply)
    assert c.send(Lhlo("client.example.com")) == b"LHLO client.example.com\r\n"
    c.receive_data(lhlo_reply)
    c.next_event()
    assert c.state is State.READY and c.lmtp
    return c


def test_lhlo_opens_an_lmtp_session_and_its_reply_gives_the_capabilities() -> None:
    c = lmtp_ready()
    assert c.capabilities.has("PIPELINING")
    assert c.transcript[1] == "C: LHLO client.example.com"


@pytest.mark.parametrize("other", [Ehlo, Helo])
def test_an_lmtp_session_takes_no_ehlo_or_helo(other: type[Ehlo] | type[Helo]) -> None:
    c = lmtp_ready()
    with pytest.raises(LocalProtocolError, match=f"cannot send {other.__name__} in"):
        c.send(other("client.example.com"))


def test_an_smtp_session_takes_no_lhlo() -> None:
    c = test_connection.ready()
    assert not c.lmtp
    with pytest.raises(LocalProtocolError, match="in an SMTP session"):
        c.send(Lhlo("client.example.com"))


def _pump(c: ClientConnection, server: bytes, at: list[int]) -> Reply:
    """The next reply, the server's bytes fed one at a time."""
    while (ev := c.next_event()) is NEED_DATA:
        c.receive_data(server[at[0]:at[0] + 1])
        at[0] += 1
    assert isinstance(ev, Reply)
    return ev


def test_one_reply_per_accepted_recipient_fed_one_byte_at_a_time() -> None:
    c = lmtp_ready()
    server = (b"250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n250 ok\r\n354 go\r\n"
              b"250 2.0.0 <r1> delivered\r\n452 4.2.2 <r3> mailbox full\r\n")
    at = [0]
    c.send(Mail("alice@example.com"))
    for r in ("r1@example.org", "r2@example.org", "r3@example.org"):
        c.send(Rcpt(r))
    c.send(Data())
    replies = [_pump(c, server, at) for _ in range(5)]
    assert [r.code for r in replies] == [250, 250, 550, 250, 354]
    c.send(MessageData(b"Subject: t\r\n\r\nhi\r\n"))
    c.send(EndOfMessage())
    # Two recipients were accepted: two replies are owed, and the state
    # waits for the last of them.
    assert c.awaiting_replies == 2
    first = _pump(c, server, at)
    assert first.command == EndOfMessage("r1@example.org") and first.code == 250
    assert c.state is State.FINAL_WAIT and c.awaiting_final_reply
    second = _pump(c, server, at)
    assert second.command == EndOfMessage("r3@example.org") and second.code == 452
    assert c.state is State.READY and not c.awaiting_final_reply
    assert c.transcript[-2:] == ["S: 250 2.0.0 <r1> delivered", "S: 452 4.2.2 <r3> mailbox full"]


def test_the_next_mail_behind_the_end_of_data_waits_for_every_recipients_reply() -> None:
    c = lmtp_ready()
    c.send(Mail("alice@example.com"))
    c.send(Rcpt("r1@example.org"))
    c.send(Rcpt("r2@example.org"))
    c.send(Data())
    c.receive_data(b"250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n")
    for _ in range(4):
        c.next_event()
    c.send(MessageData(b"x\r\n"))
    c.send(EndOfMessage())
    c.send(Mail("alice@example.com"))      # pipelined behind the data (RFC 2920 3.1)
    c.send(Rcpt("r9@example.org"))
    c.receive_data(b"250 r1\r\n250 r2\r\n250 mail\r\n250 rcpt\r\n")
    got = [c.next_event() for _ in range(4)]
    assert [type(r.command).__name__ for r in got if isinstance(r, Reply)] == \
        ["EndOfMessage", "EndOfMessage", "Mail", "Rcpt"]
    assert c.state is State.TRANSACTION
    # The new transaction counts its own recipients only.
    c.send(Data())
    c.receive_data(b"354 go\r\n")
    c.next_event()
    c.send(EndOfMessage())
    assert c.awaiting_replies == 1


# ---- both drivers against a scripted server ------------------------------------------


def run(driver: str, port: int, **kw: Any) -> SendResult:
    return test_faults.run(driver, port, MSG, lmtp=True, **kw)


def lmtp_transaction(p: Peer, finals: list[bytes], recipients: int = 3) -> None:
    """LHLO without PIPELINING, ``recipients`` recipients accepted, then ``finals``."""
    p.send(b"220 lmtp.example.com LMTP\r\n")
    assert p.line().startswith(b"LHLO ")
    p.send(b"250-lmtp.example.com\r\n250 ENHANCEDSTATUSCODES\r\n")
    assert p.line().startswith(b"MAIL")
    p.send(b"250 ok\r\n")
    for _ in range(recipients):
        assert p.line().startswith(b"RCPT")
        p.send(b"250 ok\r\n")
    assert p.line() == b"DATA"
    p.send(b"354 go\r\n")
    p.data()
    for f in finals:
        p.send(f)


FINALS = [b"250 2.0.0 <r1> delivered\r\n", b"452 4.2.2 <r2> mailbox full\r\n",
          b"550 5.1.1 <r3> no such mailbox\r\n"]


def test_each_recipient_gets_its_own_outcome(driver: str, scripted: Any) -> None:
    s = scripted(lambda p: lmtp_transaction(p, FINALS))
    result = run(driver, s.port, allow_partial=True)
    assert [(r.address, r.status, r.code) for r in result.recipients] == [
        ("r1@example.org", "accepted", 250), ("r2@example.org", "deferred", 452),
        ("r3@example.org", "rejected", 550)]
    assert result.reply is not None and result.reply.code == 250
    assert b"HELO" not in s.received and b"EHLO" not in s.received


def test_refusals_after_the_data_raise_with_the_whole_result(driver: str,
                                                            scripted: Any) -> None:
    s = scripted(lambda p: lmtp_transaction(p, FINALS))
    with pytest.raises(RecipientsRefused, match="went to the other 1") as exc:
        run(driver, s.port)
    assert [r.status for r in exc.value.result.recipients] == ["accepted", "deferred",
                                                               "rejected"]


def test_every_recipient_refused_after_the_data(driver: str, scripted: Any) -> None:
    s = scripted(lambda p: lmtp_transaction(p, [b"554 5.6.0 <r> refused\r\n"] * 3))
    with pytest.raises(MessageRefused) as exc:
        run(driver, s.port, allow_partial=True)
    assert exc.value.phase == "final"
    assert [r.status for r in exc.value.result.recipients] == ["rejected"] * 3


def test_connection_lost_between_the_replies(driver: str, scripted: Any) -> None:
    # The first recipient has its reply: delivered. The others may or may not be.
    s = scripted(lambda p: (lmtp_transaction(p, FINALS[:1]), p.reset()))
    with pytest.raises(DeliveryStatusUnknown) as exc:
        run(driver, s.port)
    assert [r.status for r in exc.value.result.recipients] == ["accepted", "unknown",
                                                               "unknown"]


def test_lhlo_refused_is_not_followed_by_helo(driver: str, scripted: Any) -> None:
    def script(p: Peer) -> None:
        p.send(b"220 lmtp.example.com LMTP\r\n")
        assert p.line().startswith(b"LHLO")
        p.send(b"500 5.5.1 unknown command\r\n")
    s = scripted(script)
    with pytest.raises(SMTPReplyError, match="refused LHLO") as exc:
        run(driver, s.port)
    assert exc.value.phase == "ehlo"
    assert b"HELO" not in s.received and b"MAIL" not in s.received


def test_send_many_pipelines_across_messages(driver: str, scripted: Any) -> None:
    """With PIPELINING the next message's MAIL goes out behind the end of
    data; its replies come after every recipient's reply to that data."""
    two = Message(from_="alice@example.com", to=["r1@example.org", "r2@example.org"],
                  subject="t", text="hi\n")

    def script(p: Peer) -> None:
        p.send(b"220 lmtp.example.com LMTP\r\n")
        assert p.line().startswith(b"LHLO")
        p.send(LHLO)
        for i in range(3):
            assert p.line().startswith(b"MAIL")
            assert p.line().startswith(b"RCPT")
            assert p.line().startswith(b"RCPT")
            p.send(b"250 ok\r\n250 ok\r\n250 ok\r\n")
            assert p.line() == b"DATA"
            p.send(b"354 go\r\n")
            p.data()
            p.send(f"250 r1 {i}\r\n451 4.3.0 r2 {i}\r\n".encode())
    s = scripted(script)
    kw: dict[str, Any] = {"tls": "none", "timeout": 2, "lmtp": True}
    if driver == "sync":
        with SMTPClient("127.0.0.1", s.port, **kw) as c:
            outcomes = c.send_many([two] * 3, allow_partial=True)
    else:
        async def main() -> list[Any]:
            async with AsyncSMTPClient("127.0.0.1", s.port, **kw) as c:
                return await c.send_many([two] * 3, allow_partial=True)
        outcomes = asyncio.run(main())
    for i, out in enumerate(outcomes):
        assert isinstance(out, SendResult)
        assert [(r.status, r.text) for r in out.recipients] == [
            ("accepted", f"r1 {i}"), ("deferred", f"r2 {i}")]


# ---- the sink in LMTP mode ----------------------------------------------------------


def test_sink_speaks_lmtp_to_both_drivers(driver: str) -> None:
    with Sink(lmtp=True) as sink:
        result = run(driver, sink.port, allow_partial=True)
        assert result.ok
        assert [r.text for r in result.recipients] == [
            f"OK: stored by mailfmt sink <r{i}@example.org>" for i in (1, 2, 3)]
        assert len(sink.messages) == 1 and sink.messages[0].report.ok
        assert sink.messages[0].rcpt_to == ["r1@example.org", "r2@example.org",
                                            "r3@example.org"]


def test_sink_in_lmtp_mode_refuses_ehlo_and_an_smtp_sink_lhlo() -> None:
    with Sink(lmtp=True) as sink, pytest.raises(SMTPReplyError, match="EHLO"), \
            SMTPClient(sink.host, sink.port, tls="none", timeout=5):
        pass
    with Sink() as sink, pytest.raises(SMTPReplyError, match="LHLO"), \
            SMTPClient(sink.host, sink.port, tls="none", timeout=5, lmtp=True):
        pass


def test_lmtp_port_and_repr() -> None:
    c = SMTPClient("lmtp.example.com", tls="none", lmtp=True)
    assert c.port == 24
    assert repr(c) == "SMTPClient('lmtp.example.com', 24, tls='none', lmtp=True)"


def test_after_starttls_the_session_stays_lmtp() -> None:
    from mailfmt.transport import StartTLS

    c = lmtp_ready(b"250-lmtp.example.com\r\n250 STARTTLS\r\n")
    c.send(StartTLS())
    c.receive_data(b"220 go ahead\r\n")
    c.next_event()
    c.tls_started()
    with pytest.raises(LocalProtocolError, match="cannot send Ehlo in an LMTP session"):
        c.send(Ehlo("client.example.com"))


# ---- over a Unix socket, as delivery agents listen ---------------------------------


@pytest.fixture
def socket_path() -> Iterator[str]:
    # AF_UNIX paths are short (108 octets): a directory of its own under /tmp.
    with tempfile.TemporaryDirectory(prefix="mailfmt-") as d:
        yield os.path.join(d, "lmtp")


def test_lmtp_over_a_unix_socket(driver: str, socket_path: str) -> None:
    server = ScriptedServer(lambda p: lmtp_transaction(p, FINALS), path=socket_path)
    try:
        kw: dict[str, Any] = {"tls": "none", "timeout": 5, "lmtp": True}
        if driver == "sync":
            with SMTPClient(socket_path, **kw) as c:
                assert repr(c) == f"SMTPClient({socket_path!r}, tls='none', lmtp=True)"
                result = c.send(MSG, allow_partial=True)
        else:
            async def main() -> SendResult:
                async with AsyncSMTPClient(socket_path, **kw) as c:
                    return await c.send(MSG, allow_partial=True)
            result = asyncio.run(main())
    finally:
        server.close()
    assert [r.status for r in result.recipients] == ["accepted", "deferred", "rejected"]
    assert bytes(server.received).startswith(b"LHLO ")


def test_a_unix_socket_nobody_listens_on(driver: str, socket_path: str) -> None:
    with pytest.raises(ConnectError, match=f"cannot connect to {socket_path}: ") as exc:
        _connect(driver, socket_path)
    assert exc.value.phase == "connect"


def _connect(driver: str, path: str) -> None:
    if driver == "sync":
        with SMTPClient(path, tls="none", lmtp=True, timeout=5):
            pass
        return

    async def main() -> None:
        async with AsyncSMTPClient(path, tls="none", lmtp=True, timeout=5):
            pass
    asyncio.run(main())


@pytest.mark.parametrize(("kw", "says"), [
    ({"port": 24, "tls": "none"}, "it takes no port"),
    ({"tls": "starttls"}, "tls must be 'none' over a Unix socket"),
])
def test_a_unix_socket_takes_no_port_and_no_tls(kw: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        SMTPClient("/run/dovecot/lmtp", lmtp=True, **kw)


def test_cli_refuses_tls_over_a_unix_socket(tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_bytes(MSG.to_bytes())
    res = subprocess.run([sys.executable, "-m", "mailfmt.cli", "send", "--lmtp", "--host",
                          "/run/dovecot/lmtp", str(tmp_path / "m.eml")],
                         capture_output=True, text=True, check=False, timeout=60)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "tls must be 'none' over a Unix socket" in res.stderr


def test_send_many_to_the_lmtp_sink_without_pipelining(driver: str) -> None:
    """aiosmtpd offers no PIPELINING: each next MAIL follows every
    recipient's reply to the data before it."""
    msgs = [Message(from_="alice@example.com", to=["r1@example.org", "r2@example.org"],
                    subject=f"m{i}", text="hi\n") for i in range(3)]
    with Sink(lmtp=True) as sink:
        kw: dict[str, Any] = {"tls": "none", "timeout": 5, "lmtp": True}
        if driver == "sync":
            with SMTPClient(sink.host, sink.port, **kw) as c:
                outcomes = c.send_many(msgs)
        else:
            async def main() -> list[Any]:
                async with AsyncSMTPClient(sink.host, sink.port, **kw) as c:
                    return await c.send_many(msgs)
            outcomes = asyncio.run(main())
        assert [m.message.subject for m in sink.messages if m.message] == ["m0", "m1", "m2"]
    assert all(isinstance(o, SendResult) and o.ok and len(o.recipients) == 2
               for o in outcomes)
