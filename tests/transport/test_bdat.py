"""CHUNKING (RFC 3030): an in-memory message as one BDAT LAST, pipelined with
its envelope, for both drivers; and the core's checks of the chunk."""

from __future__ import annotations

from typing import Any

import pytest

from mailfmt import Message
from mailfmt.errors import (
    DeliveryStatusUnknown,
    LocalProtocolError,
    MessageRefused,
    RecipientsRefused,
)
from mailfmt.transport import BdatLast, ClientConnection, Ehlo, Mail, Rcpt, Reply, State

from .scripted import Peer
from .test_many import many

EHLO = b"250-mx\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 SIZE 1000000\r\n"
MSG = Message(from_="alice@example.com", to="bob@example.org", subject="x",
              text="a line\n.\n..two dots\n.\r\n")


def bdat_group(p: Peer) -> tuple[list[bytes], bytes]:
    """MAIL, RCPT, the BDAT line, and exactly the octets it announces."""
    lines = [p.line(), p.line(), p.line()]
    size = int(lines[2].split()[1])
    while len(p.buf) < size:
        assert p._fill()
    chunk, p.buf = p.buf[:size], p.buf[size:]
    return lines, chunk


def test_one_write_no_dot_stuffing_exact_octets(driver: str, scripted: Any) -> None:
    seen: list[bytes] = []

    def script(p: Peer) -> None:
        p.hello(EHLO)
        lines, chunk = bdat_group(p)       # no reply sent before the whole group
        assert lines[0].startswith(b"MAIL FROM:<alice@example.com> SIZE=")
        assert lines[1:] == [b"RCPT TO:<bob@example.org>", f"BDAT {len(chunk)} LAST".encode()]
        seen.append(chunk)
        p.send(b"250 ok\r\n250 ok\r\n250 2.0.0 queued\r\n")
        assert p.line() == b"QUIT"
        p.send(b"221 bye\r\n")
    s = scripted(script)
    [result] = many(driver, s.port, [MSG])
    assert not isinstance(result, Exception) and result.ok
    assert seen == [MSG.to_bytes()]          # as it is: ".." stays "..", no final "."
    assert f"C: BDAT {len(seen[0])} LAST" in result.transcript


def test_refused_recipient_means_no_delivery_and_no_rset(driver: str, scripted: Any) -> None:
    def script(p: Peer) -> None:
        p.hello(EHLO)
        bdat_group(p)
        p.send(b"250 ok\r\n550 5.1.1 no such user\r\n554 5.5.1 no valid recipients\r\n")
        assert p.line() == b"QUIT"          # the transaction ended with BDAT LAST
        p.send(b"221 bye\r\n")
    s = scripted(script)
    [r] = many(driver, s.port, [MSG])
    assert isinstance(r, RecipientsRefused)
    assert [(x.status, x.code) for x in r.result.recipients] == [("rejected", 550)]


def test_final_refusal_and_a_lost_connection(driver: str, scripted: Any) -> None:
    def script(p: Peer) -> None:
        p.hello(EHLO)
        bdat_group(p)
        p.send(b"250 ok\r\n250 ok\r\n552 5.3.4 too big for this box\r\n")
        bdat_group(p)
        p.send(b"250 ok\r\n")
        p.reset()                           # the message was all written
    s = scripted(script)
    first, second = many(driver, s.port, [MSG, MSG])
    assert isinstance(first, MessageRefused) and first.code == 552
    assert isinstance(second, DeliveryStatusUnknown)
    assert [x.status for x in second.result.recipients] == ["unknown"]


def test_several_recipients_without_allow_partial_still_wait_for_rcpt(
        driver: str, scripted: Any) -> None:
    """Data sent before the RCPT replies could reach only some of them."""
    two = Message(from_="alice@example.com", to=["b@example.org", "c@example.org"], text="x")

    def script(p: Peer) -> None:
        p.hello(EHLO)
        assert [p.line(), p.line(), p.line()][2].startswith(b"RCPT")
        p.send(b"250 ok\r\n250 ok\r\n250 ok\r\n")
        assert p.line() == b"DATA"
        p.send(b"354 go\r\n")
        p.data()
        p.send(b"250 queued\r\n")
    s = scripted(script)
    [r] = many(driver, s.port, [two])
    assert not isinstance(r, Exception) and r.ok


def ready() -> ClientConnection:
    c = ClientConnection()
    c.receive_data(b"220 mx\r\n")
    c.next_event()
    c.send(Ehlo("c.example.com"))
    c.receive_data(EHLO)
    c.next_event()
    c.send(Mail("a@example.com"))
    c.send(Rcpt("b@example.org"))
    return c


def test_core_bdat_bytes_and_states() -> None:
    c = ready()
    chunk = b"Subject: x\r\n\r\n.\r\n"
    assert c.send(BdatLast(chunk)) == b"BDAT 17 LAST\r\n" + chunk
    assert c.state is State.FINAL_WAIT
    c.receive_data(b"250 ok\r\n250 ok\r\n451 4.3.0 try later\r\n")
    replies = [c.next_event() for _ in range(3)]
    assert all(isinstance(r, Reply) for r in replies)
    assert c.state is State.READY           # over, whatever the reply (RFC 3030 2)


@pytest.mark.parametrize("bad", [b"a\nb\r\n", b"a\rb\r\n", b"a\x00\r\n", b"x" * 999 + b"\r\n",
                                 b"ends in CR\r"])
def test_core_refuses_what_bdat_must_not_carry(bad: bytes) -> None:
    c = ready()
    with pytest.raises(LocalProtocolError):
        c.send(BdatLast(bad))
    assert c.state is State.ERROR
