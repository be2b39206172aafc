"""A server that writes each reply on its own with Nagle's algorithm on (the
socket default): every reply after the first waits in its kernel until the
first is acknowledged. The client acknowledges at once what it has read
when it waits for more without writing (TCP_QUICKACK), instead of letting
its kernel delay the acknowledgement (40 ms on Linux) each time.

What tells the two apart without a clock is Linux's own count of the
acknowledgements its delayed-ACK timer sent (TcpExt DelayedACKs).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trustme

from mailfmt import Message
from mailfmt.transport import AsyncSMTPClient, SendResult, SMTPClient

from .scripted import Peer

NETSTAT = Path("/proc/net/netstat")

pytestmark = pytest.mark.skipif(
    not hasattr(socket, "TCP_QUICKACK") or not NETSTAT.exists(),
    reason="TCP_QUICKACK and the TcpExt DelayedACKs count are Linux's")

N = 20
MESSAGES = [Message(from_="alice@example.com", to="bob@example.org", subject=f"m{i}",
                    text="hi\n") for i in range(N)]
EHLO = (b"250-mx.example.com\r\n", b"250-PIPELINING\r\n", b"250-8BITMIME\r\n",
        b"250 SIZE 0\r\n")


def delayed_acks() -> int:
    """How many acknowledgements the delayed-ACK timer has sent, machine-wide."""
    lines = NETSTAT.read_text().splitlines()
    for head, values in zip(lines[::2], lines[1::2], strict=True):
        if head.startswith("TcpExt:"):
            return int(dict(zip(head.split()[1:], values.split()[1:], strict=True))["DelayedACKs"])
    raise AssertionError("no TcpExt line")


def one_write_per_reply(p: Peer) -> None:
    """EHLO's reply a line per write, then each reply of a pipelined group
    in a write of its own."""
    p.send(b"220 mx.example.com ESMTP\r\n")
    assert p.line().startswith(b"EHLO")
    for line in EHLO:
        p.send(line)
    for _ in range(N):
        assert p.line().startswith(b"MAIL")
        assert b"RCPT" in p.buf and b"DATA" in p.buf, "the group came in one write"
        p.send(b"250 ok\r\n")
        assert p.line().startswith(b"RCPT")
        p.send(b"250 ok\r\n")
        assert p.line() == b"DATA"
        p.send(b"354 go\r\n")
        p.data()
        p.send(b"250 queued\r\n")


def over_tls(server_ctx: ssl.SSLContext) -> Callable[[Peer], None]:
    """The same, over implicit TLS: each reply a TLS record of its own."""
    def script(p: Peer) -> None:
        p.conn = server_ctx.wrap_socket(p.conn, server_side=True)
        one_write_per_reply(p)
    return script


def send_all(driver: str, port: int, many: bool, **kw: Any) -> list[SendResult | Exception]:
    kw.setdefault("tls", "none")
    kw["timeout"] = 10
    if driver == "sync":
        with SMTPClient("127.0.0.1", port, **kw) as c:
            if many:
                return list(c.send_many(MESSAGES))
            return [c.send(m) for m in MESSAGES]

    async def main() -> list[SendResult | Exception]:
        async with AsyncSMTPClient("127.0.0.1", port, **kw) as c:
            if many:
                return list(await c.send_many(MESSAGES))
            return [await c.send(m) for m in MESSAGES]
    return asyncio.run(main())


@pytest.mark.parametrize("tls", ["none", "implicit"])
@pytest.mark.parametrize("many", [False, True], ids=["send", "send_many"])
def test_replies_written_one_at_a_time_are_acknowledged_at_once(
        driver: str, scripted: Any, ca: trustme.CA, many: bool, tls: str) -> None:
    kw: dict[str, Any] = {"tls": tls}
    if tls == "none":
        server = scripted(one_write_per_reply)
    else:
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
        kw["ssl_context"] = ssl.create_default_context()
        ca.configure_trust(kw["ssl_context"])
        server = scripted(over_tls(server_ctx))
    before = delayed_acks()
    results = send_all(driver, server.port, many, **kw)
    after = delayed_acks()
    assert all(isinstance(r, SendResult) and r.recipients[0].status == "accepted"
               for r in results)
    assert server.commands().count(b"MAIL") == N
    # Left to the kernel, each message's group and the EHLO reply would each
    # wait for the timer: N + 1 at least. The margin is for other sockets of
    # the machine.
    assert after - before < 5, f"{after - before} delayed acknowledgements for {N} messages"
