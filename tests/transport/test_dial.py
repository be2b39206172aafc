"""A host with several addresses, the first of which does not answer:
RFC 8305 (Happy Eyeballs v2) in both drivers.

The address that does not answer is real: a listener on 127.0.0.2 whose
accept queue is full, so that the kernel drops the client's SYNs and the
attempt hangs, as one to a broken IPv6 route or through a firewall that
drops packets does. Only the name's resolution is given: the machine has
no DNS, and no name with two loopback addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mailfmt import Message
from mailfmt.errors import ConnectError
from mailfmt.transport import AsyncSMTPClient, SendResult, SMTPClient
from mailfmt.transport._dial import dial, interleave

from .scripted import Peer

NAME = "mx.example.com"
MSG = Message(from_="alice@example.com", to="bob@example.org", subject="t", text="hi\n")


def info(family: socket.AddressFamily, host: str, port: int) -> Any:
    addr = (host, port) if family == socket.AF_INET else (host, port, 0, 0)
    return (family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", addr)


@pytest.fixture
def resolve(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """NAME resolves to the addresses the test puts in the list, in order."""
    addresses: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        if host != NAME:
            return real(host, port, *args, **kw)
        return [info(socket.AF_INET, a, int(port)) for a in addresses]
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return addresses


@contextlib.contextmanager
def no_answer(host: str, port: int = 0) -> Iterator[int]:
    """A listener on ``host`` whose accept queue is full: the kernel drops
    further SYNs, and a connection attempt hangs. Yields its port."""
    with socket.socket() as listener:
        listener.bind((host, port))
        listener.listen(0)
        with socket.create_connection(listener.getsockname(), timeout=5):
            yield listener.getsockname()[1]


def one_message(p: Peer) -> None:
    p.hello()
    p.lockstep()


def test_interleave_alternates_families_from_the_first() -> None:
    v6a, v6b = info(socket.AF_INET6, "2001:db8::1", 25), info(socket.AF_INET6, "2001:db8::2", 25)
    v4a, v4b = info(socket.AF_INET, "192.0.2.1", 25), info(socket.AF_INET, "192.0.2.2", 25)
    assert interleave([v6a, v6b, v4a, v4b]) == [v6a, v4a, v6b, v4b]
    assert interleave([v4a, v6a, v6b]) == [v4a, v6a, v6b]
    assert interleave([v4a, v4b]) == [v4a, v4b]


def test_an_address_that_does_not_answer_does_not_hold_up_the_next(
        driver: str, scripted: Any, resolve: list[str]) -> None:
    server = scripted(one_message)
    resolve.extend(["127.0.0.2", "127.0.0.1"])
    out: list[SendResult | BaseException] = []

    def client() -> None:
        try:
            # 60 s for the connect phase: trying the addresses one after the
            # other would spend all of it on the first.
            if driver == "sync":
                with SMTPClient(NAME, server.port, tls="none", timeout=60) as c:
                    out.append(c.send(MSG))
                return

            async def main() -> SendResult:
                async with AsyncSMTPClient(NAME, server.port, tls="none", timeout=60) as c:
                    return await c.send(MSG)
            out.append(asyncio.run(main()))
        except BaseException as exc:  # reported below
            out.append(exc)
    # The same port on both addresses: 127.0.0.2's hangs, 127.0.0.1's serves.
    with no_answer("127.0.0.2", server.port):
        thread = threading.Thread(target=client, daemon=True)
        thread.start()
        thread.join(20)
    assert not thread.is_alive(), "still connecting to the address that does not answer"
    assert len(out) == 1 and isinstance(out[0], SendResult), out
    assert out[0].recipients[0].status == "accepted"
    assert server.commands()[:2] == [b"EHLO", b"MAIL"]


def test_every_address_failing_names_each(driver: str, resolve: list[str]) -> None:
    # Nothing listens on this port of 127.0.0.2 or 127.0.0.3: both refuse.
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", 0))
        port = probe.getsockname()[1]
    resolve.extend(["127.0.0.2", "127.0.0.3"])
    with pytest.raises(ConnectError) as exc:
        if driver == "sync":
            SMTPClient(NAME, port, tls="none", timeout=10).connect()
        else:
            asyncio.run(AsyncSMTPClient(NAME, port, tls="none", timeout=10).connect())
    assert exc.value.phase == "connect"
    assert f"{NAME}:{port}" in str(exc.value)
    assert "127.0.0.2" in str(exc.value) and "127.0.0.3" in str(exc.value)


def test_addresses_that_do_not_answer_end_at_the_callers_deadline(
        resolve: list[str]) -> None:
    # Both attempts are under way when the deadline comes, and both are
    # closed (a leaked socket fails the test as a ResourceWarning).
    resolve.extend(["127.0.0.2", "127.0.0.3"])
    with no_answer("127.0.0.2") as port, no_answer("127.0.0.3", port), \
            pytest.raises(TimeoutError, match=f"no address of {NAME} connected within 0.5 s"):
        dial(NAME, port, 0.5)
