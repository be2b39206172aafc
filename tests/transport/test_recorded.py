"""Sessions recorded from Postfix and aiosmtpd (tests/vectors/smtp), replayed.

The sans-IO core, fed what the server said (one byte at a time, or as the
server wrote it), must write exactly what the client wrote then, never
wait for a reply the server only sent after more from the client (which
would hang a real session), and come to the same outcome. Both drivers
then replay each session over loopback against a server that says only
what the recording says, and only once the client has written what came
before it.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Callable
from typing import Any

import pytest

from mailfmt.errors import TransportError
from mailfmt.transport._batch import send_messages
from mailfmt.transport._common import make_options, message_job
from mailfmt.transport._connection import ClientConnection
from mailfmt.transport._events import Reply
from mailfmt.transport._message import Job, send_message
from mailfmt.transport._session import (
    Flow,
    ReadReply,
    Write,
    close_session,
    open_session,
)

from .record import record
from .recorded import (
    PASSWORD,
    SCENARIOS,
    USER,
    VECTORS,
    Recording,
    Scenario,
    client_options,
    outcome_of,
    run_async,
    run_sync,
)
from .scripted import Peer, ScriptedServer

BY_NAME = {s.name: s for s in SCENARIOS}


class _Replay:
    """The server side of a recording, for the core: the bytes the server
    wrote, handed over as the client asks for them, and a check on every
    write and every wait."""

    def __init__(self, rec: Recording, *, bytewise: bool) -> None:
        self.expected = rec.stream("C")
        self.written = bytearray()
        # The server's bytes in runs, each with how much the client had
        # written when the server sent it (what the server was answering).
        self.runs: list[tuple[int, bytes]] = []
        sent = 0
        for who, line in rec.lines:
            if who == "C":
                sent += len(line) + 2
            elif self.runs and self.runs[-1][0] == sent:
                self.runs[-1] = (sent, self.runs[-1][1] + line + b"\r\n")
            else:
                self.runs.append((sent, line + b"\r\n"))
        self.bytewise = bytewise
        self.run = 0
        self.offset = 0

    def wrote(self, data: bytes) -> None:
        self.written += data
        n = len(self.written)
        assert self.written == self.expected[:n], (
            f"the client wrote {bytes(self.written[-200:])!r}; the recording has "
            f"{self.expected[max(0, n - 200):n]!r}")

    def recv(self) -> bytes:
        assert self.run < len(self.runs), "the client waits for more than the server said"
        needed, data = self.runs[self.run]
        assert len(self.written) >= needed, (
            f"the client waits for a reply to what it has not written: "
            f"{self.expected[len(self.written):needed]!r}")
        n = 1 if self.bytewise else len(data) - self.offset
        piece = data[self.offset:self.offset + n]
        self.offset += n
        if self.offset == len(data):
            self.run, self.offset = self.run + 1, 0
        return piece

    def done(self) -> bool:
        return self.run == len(self.runs) and bytes(self.written) == self.expected


def _drive(conn: ClientConnection, server: _Replay, flow: Flow[Any]) -> Any:
    """What a driver does, with the recorded server."""
    try:
        req = next(flow)
    except StopIteration as stop:
        return stop.value
    while True:
        result: Reply | None = None
        if isinstance(req, Write):
            server.wrote(req.data)
        else:
            assert isinstance(req, ReadReply), req    # no TLS in a recording
            while not isinstance(ev := conn.next_event(), Reply):
                conn.receive_data(server.recv())
            result = ev
        try:
            req = flow.send(result)
        except StopIteration as stop:
            return stop.value


def _maker(job: Job) -> Callable[[], Job]:
    return lambda: job


def replay_core(scenario: Scenario, rec: Recording, *, bytewise: bool,
                conn: ClientConnection | None = None,
                ) -> tuple[_Replay, list[dict[str, Any]]]:
    server = _Replay(rec, bytewise=bytewise)
    conn = conn or ClientConnection()
    opts = make_options("127.0.0.1", timeout=60.0, **client_options(scenario))
    _drive(conn, server, open_session(conn, opts, tls_active=False))
    jobs = [message_job(m, None, None, scenario.dsn) for m in scenario.messages()]
    out: list[dict[str, Any]] = []
    if scenario.many:
        outcomes = _drive(conn, server, send_messages(
            conn, opts, [_maker(j) for j in jobs], allow_partial=scenario.allow_partial))
        out = [outcome_of(o) for o in outcomes]
    else:
        for job in jobs:
            try:
                out.append(outcome_of(_drive(conn, server, send_message(
                    conn, opts, job, allow_partial=scenario.allow_partial))))
            except TransportError as exc:
                out.append(outcome_of(exc))
    _drive(conn, server, close_session(conn, opts))
    return server, out


def test_every_scenario_has_its_recording() -> None:
    on_disk = {p.stem for p in VECTORS.glob("*.session")}
    assert on_disk == set(BY_NAME)


@pytest.mark.parametrize("bytewise", [True, False], ids=["byte-at-a-time", "as-written"])
@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_the_core_replays_the_recorded_session(name: str, bytewise: bool) -> None:
    scenario = BY_NAME[name]
    rec = Recording.load(scenario.path)
    server, outcome = replay_core(scenario, rec, bytewise=bytewise)
    assert server.done(), "the session ended before the recording did"
    assert outcome == rec.outcome


_ENHANCED = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3}) ")


def _transcript(rec: Recording) -> tuple[list[str], list[str]]:
    """What the transcript should say of a recorded session, the client's
    lines and the server's: each command as written but AUTH's secret, the
    message data as its size, each reply on one line (its lines joined by
    " / ", its enhanced code once, RFC 3463)."""
    client: list[str] = []
    server: list[str] = []
    reply: list[str] = []
    in_data, octets = False, 0
    for who, raw in rec.lines:
        line = raw.decode("utf-8")
        if who == "S":
            reply.append(line)
            if line[3:4] == "-":
                continue
            code, texts = line[:3], [x[4:] for x in reply]
            m = _ENHANCED.match(texts[0] + " ")
            head = code + " "
            if m and int(m.group(1)) == int(code[0]):
                head += m.group(0)
                texts = [t[len(m.group(0)):] if _ENHANCED.match(t + " ") else t for t in texts]
            server.append("S: " + head + " / ".join(texts))
            in_data = in_data or code == "354"
            reply = []
        elif in_data and line == ".":
            client += [f"C: <{octets} octets of message data>", "C: ."]
            in_data, octets = False, 0
        elif in_data:
            octets += len(raw) - raw.startswith(b".") + 2     # unstuffed, with its CRLF
        elif line.startswith("AUTH PLAIN "):
            client.append("C: AUTH PLAIN ****")
        else:
            client.append("C: " + line)
    return client, server


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_the_transcript_is_the_session_secrets_hidden(name: str) -> None:
    """The transcript a result and every error carry says what went over the
    wire: each command and reply in order, the data by its size, and never
    the AUTH secret (here, base64 on the wire)."""
    scenario = BY_NAME[name]
    rec = Recording.load(scenario.path)
    conn = ClientConnection()
    replay_core(scenario, rec, bytewise=False, conn=conn)
    client, server = _transcript(rec)
    assert [x for x in conn.transcript if x.startswith("C: ")] == client
    assert [x for x in conn.transcript if x.startswith("S: ")] == server
    secret = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    if scenario.auth:   # it went over the wire: its absence below means something
        assert secret in rec.stream("C").decode()
    assert not any(secret in x or PASSWORD in x for x in conn.transcript)


def _replaying(rec: Recording) -> Any:
    """A loopback server that says what the recording says, each run of the
    server's lines once the client has written the lines before it."""
    def script(peer: Peer) -> None:
        i = 0
        while i < len(rec.lines):
            who, line = rec.lines[i]
            if who == "C":
                got = peer.line()
                assert got == line, f"line {i}: the client wrote {got!r}, not {line!r}"
                i += 1
                continue
            run = []
            while i < len(rec.lines) and rec.lines[i][0] == "S":
                run.append(rec.lines[i][1] + b"\r\n")
                i += 1
            peer.send(b"".join(run))
        assert peer.buf == b"", f"the client wrote more: {peer.buf!r}"
    return script


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_both_drivers_replay_the_recorded_session(name: str, driver: str) -> None:
    scenario = BY_NAME[name]
    rec = Recording.load(scenario.path)
    server = ScriptedServer(_replaying(rec))
    try:
        if driver == "sync":
            outcome = run_sync(scenario, server.port)
        else:
            outcome = asyncio.run(run_async(scenario, server.port))
    finally:
        server.close()
    assert outcome == rec.outcome
    assert bytes(server.received) == rec.stream("C")


def test_a_changed_client_line_fails_the_replay() -> None:
    """The replay is a check: a recording whose client line differs by one
    character from what the client writes stops the core at that write."""
    scenario = BY_NAME["postfix-partial"]
    rec = Recording.load(scenario.path)
    i = next(i for i, (who, line) in enumerate(rec.lines) if line.startswith(b"RCPT TO:<ok2"))
    rec.lines[i] = ("C", b"RCPT TO:<ok3@example.org>")
    with pytest.raises(AssertionError, match="the client wrote"):
        replay_core(scenario, rec, bytewise=False)


def test_a_client_that_waits_where_the_server_did_not_fails_the_replay() -> None:
    """Without PIPELINING the client writes each RCPT after the last one's
    reply. A recording where the second RCPT came before that reply (so the
    server sent the reply only after it) would hang a real session: the
    core is caught waiting for a reply to what it has not written."""
    scenario = BY_NAME["aiosmtpd-auth"]
    rec = Recording.load(scenario.path)
    second = rec.lines.index(("C", b"RCPT TO:<ok2@example.org>"))
    assert rec.lines[second - 1] == ("S", b"250 OK")
    rec.lines[second - 1], rec.lines[second] = rec.lines[second], rec.lines[second - 1]
    with pytest.raises(AssertionError, match="has not written"):
        replay_core(scenario, rec, bytewise=True)


# The sink asks for AUTH without TLS, on loopback, as the recording did.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("name", sorted(n for n, s in BY_NAME.items() if s.server == "aiosmtpd"))
def test_recording_again_from_aiosmtpd_gives_the_same_session(name: str) -> None:
    """The recorder, run now against aiosmtpd: the same conversation, line for
    line, and the same outcome (the server's texts hold no queue ids)."""
    old = Recording.load(BY_NAME[name].path)
    new = record(BY_NAME[name])
    assert new.lines == old.lines
    assert new.outcome == old.outcome
