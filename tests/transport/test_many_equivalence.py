"""send_many against send: the same outcome for every message, whatever the
server refuses, with and without PIPELINING.

send_many writes the next message's envelope early (behind the end of data
with PIPELINING, right after the final reply without) and makes results
while the server works; none of that may change what happens to a message.
The server is aiosmtpd, told by each address and subject what to answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailfmt import Message
from mailfmt.errors import TransportError
from mailfmt.transport import SendResult, SMTPClient

from .conftest import free_port


class Judge:
    """RCPT answers the code in the address ("r550x0@..."); the final reply
    is the code in the subject ("final554")."""

    def __init__(self, pipelining: bool) -> None:
        self.pipelining = pipelining

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        code = int(address[1:4])
        if code == 250:
            envelope.rcpt_tos.append(address)
            return "250 2.1.5 OK"
        return f"{code} {code // 100}.1.1 not now" if code < 500 else f"{code} 5.1.1 no"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        m = re.search(rb"final(\d{3})", envelope.original_content)
        code = int(m.group(1)) if m else 250
        return "250 2.0.0 queued" if code == 250 else f"{code} {code // 100}.6.0 final"


@pytest.fixture(scope="module")
def judges() -> Iterator[dict[bool, int]]:
    ports: dict[bool, int] = {}
    controllers = []
    for pipelining in (False, True):
        port = free_port()
        ctl = Controller(Judge(pipelining), hostname="127.0.0.1", port=port)
        ctl.start()
        controllers.append(ctl)
        ports[pipelining] = port
    yield ports
    for ctl in controllers:
        ctl.stop()


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[Message], bool]:
    msgs = []
    for i in range(draw(st.integers(1, 4))):
        codes = draw(st.lists(st.sampled_from([250, 250, 250, 450, 452, 550]),
                              min_size=1, max_size=3))
        final = draw(st.sampled_from([250, 250, 451, 554]))
        msgs.append(Message(from_="alice@example.com",
                            to=[f"r{c}x{j}@example.org" for j, c in enumerate(codes)],
                            subject=f"m{i} final{final}", text=f"body {i}\n"))
    return msgs, draw(st.booleans())


def outcome(o: SendResult | TransportError) -> tuple[Any, ...]:
    result = o if isinstance(o, SendResult) else o.result
    recipients = tuple((r.address, r.status, r.code) for r in result.recipients) \
        if result is not None else ()
    return type(o).__name__, getattr(o, "code", None), recipients


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches())
def test_send_many_gives_each_message_what_send_gives_it(
        judges: dict[bool, int], batch: tuple[list[Message], bool]) -> None:
    msgs, allow_partial = batch
    for port in judges.values():
        with SMTPClient("127.0.0.1", port, tls="none", timeout=5) as c:
            many = c.send_many(msgs, allow_partial=allow_partial)
        one: list[SendResult | TransportError] = []
        with SMTPClient("127.0.0.1", port, tls="none", timeout=5) as c:
            for m in msgs:
                try:
                    one.append(c.send(m, allow_partial=allow_partial))
                except TransportError as exc:
                    one.append(exc)
        assert [outcome(o) for o in many] == [outcome(o) for o in one]
