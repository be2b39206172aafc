import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailfmt.errors import LocalProtocolError
from mailfmt.transport._dotstuff import DotStuffer


def stuff(chunks: list[bytes]) -> bytes:
    s = DotStuffer()
    return b"".join(s.feed(c) for c in chunks) + s.end()


def unstuff(wire: bytes) -> bytes:
    assert wire.endswith(b".\r\n")
    body = wire[:-3]
    if body.endswith(b"\r\n"):
        body = body[:-2] + b"\r\n"
    lines = body.split(b"\r\n")
    return b"\r\n".join(line[1:] if line.startswith(b".") else line for line in lines)


@pytest.mark.parametrize(("content", "wire"), [
    (b"a\r\n.\r\nMAIL FROM:<x>\r\n", b"a\r\n..\r\nMAIL FROM:<x>\r\n.\r\n"),
    (b"a\r\n\r\n.\r\nQUIT\r\n", b"a\r\n\r\n..\r\nQUIT\r\n.\r\n"),   # RUSTSEC-2021-0069
    (b".hidden\r\n", b"..hidden\r\n.\r\n"),
    (b".\r\n..\r\n", b"..\r\n...\r\n.\r\n"),
    (b"body", b"body\r\n.\r\n"),
    (b"body\r\n", b"body\r\n.\r\n"),
    (b"", b".\r\n"),
])
def test_research_matrix(content: bytes, wire: bytes) -> None:
    assert stuff([content]) == wire


def test_chunk_boundary_between_crlf_and_dot() -> None:
    assert stuff([b"te\r\n", b".\r\nst"]) == b"te\r\n..\r\nst\r\n.\r\n"
    assert stuff([b"te\r", b"\n.x"]) == b"te\r\n..x\r\n.\r\n"


# SMTP smuggling sequences (SEC Consult 2023, SMTP-Smuggling-Tools): all refused.
SMUGGLING = [b"\n.\n", b"\n.\r", b"\r.\n", b"\r.\r", b"\n.\r\n", b"\r.\r\n", b"\r\n.\r\r\n",
             b"\r\r\n.\r\r\n", b"\r\n\x00.\r\n", b"\r\n.\n", b"\r\n.\r", b"\r\n.\x00\r\n"]


@pytest.mark.parametrize("seq", SMUGGLING, ids=repr)
def test_every_smuggling_sequence_is_refused_at_every_split(seq: bytes) -> None:
    data = b"hello" + seq + b"MAIL FROM:<x@example.com>\r\n"
    for cut in range(len(data) + 1):
        with pytest.raises(LocalProtocolError):
            stuff([data[:cut], data[cut:]])


def test_long_lines_refused_but_998_allowed() -> None:
    assert stuff([b"." + b"x" * 997 + b"\r\n"]).startswith(b".." + b"x" * 997)
    with pytest.raises(LocalProtocolError):
        stuff([b"x" * 500, b"y" * 499])


def test_trailing_bare_cr_refused() -> None:
    with pytest.raises(LocalProtocolError):
        stuff([b"body\r"])


@pytest.mark.parametrize(("chunks", "says"), [
    ([b"body\r"], "message data ends in a CR that is not part of CRLF"),
    ([b"a\x00b"], "message data contains a NUL octet"),
    ([b"a\rb"], "message data contains a CR that is not part of CRLF"),
    ([b"a\nb"], "message data contains a LF that is not part of CRLF"),
    ([b"x" * 500, b"y" * 499], "a message line is 999 octets long (max 998)"),
])
def test_refusals_say_what_is_wrong(chunks: list[bytes], says: str) -> None:
    with pytest.raises(LocalProtocolError) as exc:
        stuff(chunks)
    assert str(exc.value) == says


def test_nothing_goes_after_the_end_of_data() -> None:
    # A second terminator, or data after the first, would be read by the
    # server as commands of its own.
    s = DotStuffer()
    assert s.feed(b"hi\r\n") + s.end() == b"hi\r\n.\r\n"
    with pytest.raises(LocalProtocolError, match=r"^end of data sent twice$"):
        s.end()
    with pytest.raises(LocalProtocolError, match=r"^message data after the end of data$"):
        s.feed(b"MAIL FROM:<x@example.com>\r\n")


_pieces = st.sampled_from([b"a", b".", b"..", b"\r\n", b"\r\n.", b"x" * 50, b" ", b"\r\n\r\n"])


@given(st.lists(_pieces, max_size=80).map(b"".join), st.lists(st.integers(0, 4000), max_size=6))
def test_unstuffing_the_wire_gives_back_the_message(data: bytes, cuts: list[int]) -> None:
    points = sorted({c % (len(data) + 1) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    wire = stuff(chunks)
    # Exactly one end-of-data, at the end; no bare CR or LF; lines <= 999.
    assert wire == b".\r\n" or (wire.endswith(b"\r\n.\r\n")
                                and wire.count(b"\r\n.\r\n") == 1)
    assert not re.search(rb"\r(?!\n)|(?<!\r)\n", wire)
    assert max(map(len, wire.split(b"\r\n"))) <= 999
    content = data if data.endswith(b"\r\n") or not data else data + b"\r\n"
    assert unstuff(wire) == content


_UNSAFE = re.compile(rb"\r(?!\n)|(?<!\r)\n|\x00")


def wire_or_refusal(data: bytes, cuts: list[int]) -> bytes | None:
    """``data`` through the stuffer in the pieces ``cuts`` make: the wire
    bytes, or None when it refused them. Whatever the split, it refuses
    exactly what a check of the whole buffer finds: a CR or LF outside CRLF,
    a NUL, a line over 998 octets (RFC 5321 4.5.3.1.6); and the wire bytes
    of what it takes keep the rules and unstuff to the data. Shared with
    fuzz/fuzz_dotstuff.py."""
    points = sorted({c % (len(data) + 1) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    unsafe = bool(_UNSAFE.search(data)) or max(map(len, data.split(b"\r\n"))) > 998
    try:
        wire = stuff(chunks)
    except LocalProtocolError:
        assert unsafe, f"refused safe data {data[:80]!r}"
        return None
    assert not unsafe, f"took unsafe data {data[:80]!r}"
    assert not _UNSAFE.search(wire) and max(map(len, wire.split(b"\r\n"))) <= 999
    assert wire == b".\r\n" or (wire.endswith(b"\r\n.\r\n") and wire.count(b"\r\n.\r\n") == 1)
    assert unstuff(wire) == (data if data.endswith(b"\r\n") or not data else data + b"\r\n")
    return wire


_octets = st.sampled_from([b"a", b".", b"\r", b"\n", b"\r\n", b"\x00", b"\r\n.", b"x" * 333])


@given(st.lists(_octets, max_size=60).map(b"".join), st.lists(st.integers(0, 4000), max_size=6))
def test_any_bytes_are_refused_exactly_when_a_whole_buffer_check_refuses_them(
        data: bytes, cuts: list[int]) -> None:
    wire_or_refusal(data, cuts)
