"""The sans-IO core: transitions, pipelining, STARTTLS, and its refusals."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailfmt.errors import ConnectionLost, LocalProtocolError, RemoteProtocolError
from mailfmt.transport import (
    NEED_DATA,
    Auth,
    ClientConnection,
    Data,
    Ehlo,
    EndOfMessage,
    Mail,
    MessageData,
    Quit,
    Rcpt,
    Reply,
    StartTLS,
    State,
)

EHLO = b"250-mx.example.com\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n"


def ready() -> ClientConnection:
    c = ClientConnection()
    c.receive_data(b"220 mx.example.com ESMTP\r\n")
    assert isinstance(c.next_event(), Reply)
    c.send(Ehlo("client.example.com"))
    c.receive_data(EHLO)
    c.next_event()
    assert c.state is State.READY
    return c


def test_nothing_may_be_sent_before_the_greeting() -> None:
    c = ClientConnection()
    with pytest.raises(LocalProtocolError):
        c.send(Ehlo("x.example.com"))


def test_recorded_session_fed_one_byte_at_a_time() -> None:
    c = ClientConnection()
    server = (b"220 mx ESMTP\r\n" + EHLO + b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n"
              b"250 2.0.0 queued as X\r\n221 bye\r\n")
    sent = []
    replies = []
    i = 0

    def pump() -> Reply:
        nonlocal i
        while (ev := c.next_event()) is NEED_DATA:
            c.receive_data(server[i:i + 1])
            i += 1
        assert isinstance(ev, Reply)
        replies.append(ev)
        return ev

    pump()
    sent.append(c.send(Ehlo("client.example.com")))
    pump()
    sent.append(c.send(Mail("a@example.com")) + c.send(Rcpt("b@example.org")))
    pump()
    pump()
    sent.append(c.send(Data()))
    assert pump().code == 354
    sent.append(c.send(MessageData(b"Subject: x\r\n\r\n.x\r\n")) + c.send(EndOfMessage()))
    assert pump().enhanced == (2, 0, 0)
    sent.append(c.send(Quit()))
    pump()
    assert c.state is State.CLOSED
    assert b"".join(sent) == (b"EHLO client.example.com\r\nMAIL FROM:<a@example.com>\r\n"
                              b"RCPT TO:<b@example.org>\r\nDATA\r\nSubject: x\r\n\r\n..x\r\n"
                              b".\r\nQUIT\r\n")
    assert [type(r.command).__name__ for r in replies] == [
        "Greeting", "Ehlo", "Mail", "Rcpt", "Data", "EndOfMessage", "Quit"]


def test_data_injected_after_starttls_reply() -> None:
    # CVE-2020-14954 / nodemailer PR #1835: a complete line or a fragment.
    for extra in (b"250 AUTH PLAIN\r\n", b"250-AUTH"):
        c = ready()
        c.send(StartTLS())
        c.receive_data(b"220 go ahead\r\n" + extra)
        with pytest.raises(RemoteProtocolError, match="after the STARTTLS"):
            c.next_event()
        assert c.state is State.ERROR


def test_capabilities_are_forgotten_after_tls() -> None:
    c = ready()
    c.send(StartTLS())
    c.receive_data(b"220 go\r\n")
    c.next_event()
    assert c.state is State.TLS_HANDSHAKE
    c.tls_started()
    assert c.state is State.HELLO and not c.capabilities.has("AUTH")


def test_unsolicited_reply_is_a_desync() -> None:
    c = ready()
    c.receive_data(b"250 surprise\r\n")
    with pytest.raises(RemoteProtocolError, match="unsolicited"):
        c.next_event()


def test_unexpected_reply_code_for_the_command() -> None:
    c = envelope_sent()
    c.receive_data(b"250 ok\r\n250 ok\r\n334 what\r\n")
    c.next_event()
    c.next_event()
    with pytest.raises(RemoteProtocolError, match="unexpected reply 334"):
        c.next_event()


@pytest.mark.parametrize(("opened", "sent", "data", "error", "text"), [
    (True, Mail("a@example.com"), b"", ConnectionLost, "the server closed the connection"),
    (True, Mail("a@example.com"), b"250 ok\r\n250 more\r\n", RemoteProtocolError,
     "unsolicited data after a reply"),
    (False, None, b"250 hello\r\n", RemoteProtocolError, "unexpected reply 250 to the greeting"),
    (True, StartTLS(), b"220 go ahead\r\n250 injected\r\n", RemoteProtocolError,
     "data after the STARTTLS reply"),
])
def test_the_desync_errors_say_what_happened(opened: bool, sent: object, data: bytes,
                                             error: type[Exception], text: str) -> None:
    """The end of the stream while a reply is owed, more than was owed, a
    reply that does not fit its command, data after STARTTLS's 220: each
    error says so, and nothing more can be done on the connection."""
    c = ready() if opened else ClientConnection()
    if sent is not None:
        assert isinstance(sent, (Mail, StartTLS))
        c.send(sent)
    c.receive_data(data)
    with pytest.raises(error) as info:
        while c.next_event() is not NEED_DATA:
            pass
    assert str(info.value) == text
    assert c.state is State.ERROR


@pytest.mark.parametrize("make", [
    lambda: Mail("a@example.com>\r\nRCPT TO:<x@example.com"),
    lambda: Rcpt("b@example.org\r\nDATA"),
    lambda: Ehlo("x\r\nMAIL FROM:<a@b>"),
    lambda: Mail("a@example.com", ("SIZE=1\r\nRCPT",)),   # nodemailer GHSA-c7w3-x93f-qmm8
    lambda: Auth("PLAIN", "abc\r\nMAIL"),
])
def test_command_injection_is_refused(make: object) -> None:
    with pytest.raises(LocalProtocolError):
        make()  # type: ignore[operator]


def test_auth_secrets_never_in_transcript_or_repr() -> None:
    c = ready()
    secret = "AHVzZXIAcGFzc3dvcmQ="
    cmd = Auth("PLAIN", secret)
    c.send(cmd)
    assert secret not in repr(cmd)
    assert all(secret not in line for line in c.transcript)
    assert "C: AUTH PLAIN ****" in c.transcript


def test_state_diagram_in_the_docs_is_generated_from_the_tables() -> None:
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("gen_states", root / "docs" / "gen_states.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    doc = (root / "docs" / "guides" / "send.md").read_text(encoding="utf-8")
    assert doc == mod.render(doc), "docs/guides/send.md is stale: run python docs/gen_states.py"


def test_next_mail_pipelined_behind_the_end_of_data() -> None:
    """RFC 2920 3.1: the message content may open a group, so MAIL may follow
    the end of data before its reply; that reply then changes no state."""
    c = in_body()
    c.send(MessageData(b"Subject: x\r\n\r\nhi\r\n"))
    c.send(EndOfMessage())
    assert c.state is State.FINAL_WAIT
    with pytest.raises(LocalProtocolError):   # only MAIL may open the next group
        c.send(Rcpt("b@example.org"))
    c = in_body()
    c.send(EndOfMessage())
    c.send(Mail("a@example.com"))
    c.send(Rcpt("b@example.org"))
    c.send(Data())
    assert c.state is State.DATA_WAIT and c.awaiting_replies == 4
    replies = []
    for byte in b"554 5.7.1 refused\r\n250 ok\r\n250 ok\r\n354 go\r\n":
        c.receive_data(bytes([byte]))
        while isinstance(ev := c.next_event(), Reply):
            replies.append(ev)
            if len(replies) < 4:
                assert c.state is State.DATA_WAIT   # the refusal changed nothing
    assert [r.code for r in replies] == [554, 250, 250, 354]
    assert [type(r.command).__name__ for r in replies] == ["EndOfMessage", "Mail", "Rcpt", "Data"]
    assert c.state is State.BODY


def envelope_sent() -> ClientConnection:
    c = ready()
    c.send(Mail("a@example.com"))
    c.send(Rcpt("b@example.org"))
    c.send(Data())
    return c


def in_body() -> ClientConnection:
    c = envelope_sent()
    c.receive_data(b"250 ok\r\n250 ok\r\n354 go\r\n")
    for _ in range(3):
        c.next_event()
    assert c.state is State.BODY
    return c


_SERVER_PIECES = [b"220 mx\r\n", b"250 ok\r\n", b"250-a\r\n", b"354 go\r\n", b"334 \r\n",
                  b"550 no\r\n", b"221 bye\r\n", b"\r\n", b"\n", b"\r", b"\x00", b"999 x\r\n",
                  b"25", b"0 ok\r\n", b"\xff" * 3, b"x" * 700, b""]


@given(st.lists(st.sampled_from(_SERVER_PIECES), max_size=25),
       st.lists(st.sampled_from(["ehlo", "mail", "rcpt", "data", "body", "end", "quit"]),
                max_size=8))
def test_any_server_bytes_give_replies_or_a_transport_error(
        pieces: list[bytes], commands: list[str]) -> None:
    """Whatever the server sends, and whatever the client tried to send, the
    core answers with replies, NEED_DATA, or a TransportError: never a crash."""
    from mailfmt.errors import TransportError

    make = {"ehlo": lambda: Ehlo("c.example.com"), "mail": lambda: Mail("a@example.com"),
            "rcpt": lambda: Rcpt("b@example.org"), "data": Data,
            "body": lambda: MessageData(b"x\r\n"), "end": EndOfMessage, "quit": Quit}
    c = ClientConnection()
    cmds = iter(commands)
    try:
        for piece in pieces:
            c.receive_data(piece)
            while isinstance(c.next_event(), Reply):
                pass
            name = next(cmds, None)
            if name is not None:
                # not allowed in this state: refused, nothing sent
                with contextlib.suppress(LocalProtocolError):
                    c.send(make[name]())
    except TransportError:
        # A failed core says so and refuses to go on.
        assert c.state is State.ERROR
        with pytest.raises(LocalProtocolError):
            c.send(Quit())


def _to_data(c: ClientConnection) -> None:
    c.send(Mail("a@example.com"))
    c.send(Rcpt("b@example.org"))
    c.send(Data())
    c.receive_data(b"250 ok\r\n250 ok\r\n354 go\r\n")
    for _ in range(3):
        c.next_event()
    assert c.state is State.BODY


@given(st.lists(st.sampled_from([b"a", b".", b"\r\n", b"\r", b"\n", b"x" * 500, b"\x00"]),
                max_size=12).map(b"".join))
def test_prepared_data_is_what_sending_would_have_made(chunk: bytes) -> None:
    """prepare() stuffs a chunk while a reply is awaited: sent later, it gives
    the same bytes, or the same refusal, as stuffing it then."""
    def outcome(prepare: bool) -> tuple[str, bytes]:
        c = ready()
        if prepare:
            c.prepare(chunk)
        _to_data(c)
        try:
            return "ok", c.send(MessageData(chunk)) + c.send(EndOfMessage())
        except LocalProtocolError as exc:
            return "refused", str(exc).encode()
    assert outcome(True) == outcome(False)


def test_prepared_data_is_only_for_that_chunk_opening_the_data() -> None:
    c = ready()
    c.prepare(b".prepared\r\n")
    _to_data(c)
    # another chunk first: the prepared work is dropped, not spliced in
    assert c.send(MessageData(b".other\r\n")) == b"..other\r\n"
    assert c.send(MessageData(b".prepared\r\n")) == b"..prepared\r\n"
    assert c.send(EndOfMessage()) == b".\r\n"
    c2 = ready()
    chunk = b"line\r\n.dot\r\n"
    c2.prepare(chunk)
    _to_data(c2)
    assert c2.send(MessageData(chunk)) == b"line\r\n..dot\r\n"
    assert c2.send(MessageData(chunk)) == b"line\r\n..dot\r\n"   # and not twice
    # prepared in the middle of the data: not at a line start, so not stuffed
    c3 = ready()
    _to_data(c3)
    assert c3.send(MessageData(b"abc")) == b"abc"
    c3.prepare(b".x\r\n")
    assert c3.send(MessageData(b".x\r\n")) == b".x\r\n"


def test_trimming_keeps_the_opening_and_the_recent_lines_and_every_mark() -> None:
    """begin_transaction drops lines between the session's opening and the
    last TRANSCRIPT_TAIL, in batches; marks count dropped lines, so a mark
    taken before a trim still finds its lines after it."""
    from mailfmt.transport import Noop
    from mailfmt.transport._connection import TRANSCRIPT_TAIL

    c = ready()
    assert c.transcript_since(0) == tuple(c.transcript)     # no transaction yet
    opening = list(c.transcript)
    marks: dict[int, int] = {}
    total = len(opening)
    for i in range(3 * TRANSCRIPT_TAIL):
        marks[i] = c.begin_transaction()
        assert c.mark == marks[i] == total
        if c.transcript_dropped:    # a trim keeps the last TRANSCRIPT_TAIL lines at least
            assert len(c.transcript) - len(opening) >= TRANSCRIPT_TAIL
        c.send(Noop())
        c.receive_data(f"250 ok {i}\r\n".encode())
        c.next_event()
        total += 2
        # Nothing is lost from the count, the opening stays, and what is
        # kept ends with the newest lines.
        assert c.transcript_dropped + len(c.transcript) == total
        assert c.transcript[:len(opening)] == opening
        assert c.transcript[-2:] == ["C: NOOP", f"S: 250 ok {i}"]
        assert len(c.transcript) - len(opening) <= 2 * TRANSCRIPT_TAIL + 2
    assert c.transcript_dropped > 0
    assert len(c.transcript) - len(opening) >= TRANSCRIPT_TAIL
    last = 3 * TRANSCRIPT_TAIL - 1
    assert c.transcript_since(marks[last]) == (*opening, "C: NOOP", f"S: 250 ok {last}")
    assert c.transcript_since(marks[last - 1], marks[last]) == (
        *opening, "C: NOOP", f"S: 250 ok {last - 1}")
    # A mark still in use is kept through a trim however old it is.
    keep = c.mark
    for _ in range(2 * TRANSCRIPT_TAIL):
        c.send(Noop())
        c.receive_data(b"250 ok\r\n")
        c.next_event()
        c.trim(keep_from=keep)
    assert c.transcript_since(keep)[len(opening):len(opening) + 2] == ("C: NOOP", "S: 250 ok")
    assert len(c.transcript_since(keep)) == len(opening) + 4 * TRANSCRIPT_TAIL


@pytest.mark.parametrize("answered", ["ehlo", "mail", "rcpt", "data", "final", "noop"])
def test_a_421_to_any_command_closes_the_session(answered: str) -> None:
    """RFC 5321 3.8: 421 may answer any command; the server closes the
    channel. The replies still owed will not come, and nothing more goes."""
    from mailfmt.transport import Noop
    from mailfmt.transport._events import Command

    c = ClientConnection()
    c.receive_data(b"220 mx ESMTP\r\n")
    c.next_event()
    commands: list[Command] = [Ehlo("client.example.com")]
    if answered != "ehlo":
        c.send(Ehlo("client.example.com"))
        c.receive_data(EHLO)
        c.next_event()
        commands = [Noop()] if answered == "noop" else [
            Mail("a@example.com"), Rcpt("b@example.org"), Data()]
    for cmd in commands:
        c.send(cmd)
    before = {"mail": 0, "rcpt": 1, "data": 2}.get(answered, 0)
    if answered == "final":
        c.receive_data(b"250 ok\r\n250 ok\r\n354 go\r\n")
        for _ in range(3):
            c.next_event()
        c.send(MessageData(b"x\r\n"))
        c.send(EndOfMessage())
    c.receive_data(b"250 ok\r\n" * before + b"421 4.3.2 bye\r\n")
    for _ in range(before):
        c.next_event()
    reply = c.next_event()
    assert isinstance(reply, Reply) and reply.code == 421
    assert c.state is State.CLOSED and c.awaiting_replies == 0
    assert c.transcript[-1] == "S: 421 4.3.2 bye"
    with pytest.raises(LocalProtocolError, match="state closed"):
        c.send(Quit())
