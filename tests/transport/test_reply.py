import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailfmt.errors import RemoteProtocolError
from mailfmt.transport._reply import MAX_REPLY_LINE, MAX_REPLY_LINES, ReplyParser

VECTORS = [
    (b"220 mx.example.com ESMTP\r\n", 220, ("mx.example.com ESMTP",), None),
    (b"250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n", 250,
     ("mx.example.com", "PIPELINING", "8BITMIME"), None),
    (b"550 5.1.1 <x@example.com>: Recipient address rejected\r\n", 550,
     ("<x@example.com>: Recipient address rejected",), (5, 1, 1)),
    (b"452-4.5.3 Too many recipients\r\n452 4.5.3 try later\r\n", 452,
     ("Too many recipients", "try later"), (4, 5, 3)),
    (b"250\r\n", 250, ("",), None),
    (b"250 2.0.0\r\n", 250, ("",), (2, 0, 0)),
    # RFC 3463: the class must match the code's first digit, else it is text
    (b"250 5.1.1 odd\r\n", 250, ("5.1.1 odd",), None),
]


def parse_bytewise(data: bytes) -> list[object]:
    p = ReplyParser()
    out = []
    for i in range(len(data)):
        p.feed(data[i:i + 1])
        while (r := p.next_reply()) is not None:
            out.append(r)
    return out


@pytest.mark.parametrize(("raw", "code", "lines", "enhanced"), VECTORS)
def test_vectors_fed_one_byte_at_a_time(raw: bytes, code: int, lines: tuple[str, ...],
                                        enhanced: tuple[int, int, int] | None) -> None:
    [reply] = parse_bytewise(raw)
    assert (reply.code, reply.lines, reply.enhanced) == (code, lines, enhanced)


def test_split_at_every_offset_gives_the_same_replies() -> None:
    data = b"".join(v[0] for v in VECTORS)
    whole = ReplyParser()
    whole.feed(data)
    expected = []
    while (r := whole.next_reply()) is not None:
        expected.append(r)
    for cut in range(len(data) + 1):
        p = ReplyParser()
        got = []
        for part in (data[:cut], data[cut:]):
            p.feed(part)
            while (r := p.next_reply()) is not None:
                got.append(r)
        assert got == expected


@pytest.mark.parametrize("garbage", [
    b"HTTP/1.1 400 Bad Request\r\n", b"25O ok\r\n", b"2500 ok\r\n", b"600 x\r\n",
    b"250ok\r\n", b"250 ok\n", b"250-a\r\n550 b\r\n", b"190 x\r\n", b"260 x\r\n",
    b"250 a\x00b\r\n", b"\r\n",
])
def test_garbage_is_a_remote_protocol_error(garbage: bytes) -> None:
    p = ReplyParser()
    p.feed(garbage)
    with pytest.raises(RemoteProtocolError):
        while p.next_reply() is not None:
            pass


def test_oversize_line_and_endless_reply_are_bounded() -> None:
    p = ReplyParser()
    p.feed(b"250 " + b"x" * (MAX_REPLY_LINE + 10))
    with pytest.raises(RemoteProtocolError):
        p.next_reply()
    p = ReplyParser()
    p.feed(b"250-x\r\n" * 10_000)
    with pytest.raises(RemoteProtocolError):
        p.next_reply()


_PIECES = [b"250", b"550", b"354", b"2500", b"25", b" ", b"-", b"ok", b"2.1.0", b"5.1.1 ", b"\r\n",
           b"\n", b"\r", b"\x00", b"\xc3\xa9", b"\t", b"x" * 2000, b"4.01.000", b"2.1.1000",
           b"3.1.1", b".", b"0", b"x" * 2040]


def _all_replies(data: bytes, fast: bool) -> tuple[list[object], str | None]:
    import re

    from mailfmt.transport import _reply

    saved = _reply._ONE_LINE
    if not fast:
        _reply._ONE_LINE = re.compile(rb"(?!)")   # never matches: the general path only
    try:
        p = ReplyParser()
        p.feed(data)
        out: list[object] = []
        try:
            while (r := p.next_reply()) is not None:
                out.append(r)
        except RemoteProtocolError as exc:
            return out, str(exc)
        return out, None
    finally:
        _reply._ONE_LINE = saved


@given(st.lists(st.sampled_from(_PIECES), max_size=20).map(b"".join))
def test_one_line_fast_path_agrees_with_the_general_parser(data: bytes) -> None:
    assert _all_replies(data, fast=True) == _all_replies(data, fast=False)


@pytest.mark.parametrize("n", [MAX_REPLY_LINE - 5, MAX_REPLY_LINE - 4, MAX_REPLY_LINE - 3])
@pytest.mark.parametrize("head", [b"250 ", b"250 2.1.0 ", b"250 2.100.100 ", b"250 5.1.1 "])
def test_one_line_fast_path_keeps_the_line_cap(n: int, head: bytes) -> None:
    data = head + b"x" * (n - len(head) + 4) + b"\r\n"
    assert _all_replies(data, fast=True) == _all_replies(data, fast=False)


@pytest.mark.parametrize(("raw", "code", "lines", "enhanced"), [
    # RFC 3463 2: the class digit is the code's first digit, 500 and 501 included
    # (a code divided by anything but 100 gives another digit for x00 to x0n).
    (b"500 5.5.1 Command unrecognized\r\n", 500, ("Command unrecognized",), (5, 5, 1)),
    (b"501-5.5.4 Syntax error\r\n501 5.5.4 in parameters\r\n", 501,
     ("Syntax error", "in parameters"), (5, 5, 4)),
    # Only the lines that carry the enhanced code lose it.
    (b"250-2.0.0 first\r\n250 second line\r\n", 250, ("first", "second line"), (2, 0, 0)),
    # Text that is not UTF-8 is read with replacement characters, never raised.
    (b"250 caf\xe9\r\n", 250, ("caf\ufffd",), None),
    (b"250-caf\xe9\r\n250 ok\r\n", 250, ("caf\ufffd", "ok"), None),
    (b"250-\r\n250 ok\r\n", 250, ("", "ok"), None),
    (b"250-x\r\n" * (MAX_REPLY_LINES - 1) + b"250 x\r\n", 250, ("x",) * MAX_REPLY_LINES, None),
])
def test_reply_text_and_enhanced_code(raw: bytes, code: int, lines: tuple[str, ...],
                                      enhanced: tuple[int, int, int] | None) -> None:
    for got in (parse_bytewise(raw), _all_replies(raw, fast=False)[0]):
        [reply] = got
        assert (reply.code, reply.lines, reply.enhanced) == (code, lines, enhanced)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("data", "says"), [
    (b"250 ok\n", "reply line not ended by CRLF"),
    # a bare LF first, in a read that ends in the CR of the next line
    (b"\n250 ok\r", "reply line not ended by CRLF"),
    (b"25O ok\r\n", "malformed reply line b'25O ok'"),
    (b"x" * 100 + b"\r\n", "malformed reply line b'" + "x" * 80 + "'"),   # shown in part
    (b"250-a\r\n550 b\r\n", "multi-line reply changed code from 250 to 550"),
    (b"250-" + b"x" * MAX_REPLY_LINE + b"\r\n", f"reply line longer than {MAX_REPLY_LINE} octets"),
    (b"250-x\r\n" * MAX_REPLY_LINES + b"250 x\r\n", f"reply longer than {MAX_REPLY_LINES} lines"),
])
def test_protocol_errors_say_what_is_wrong(data: bytes, says: str) -> None:
    p = ReplyParser()
    p.feed(data)
    with pytest.raises(RemoteProtocolError) as exc:
        while p.next_reply() is not None:
            pass
    assert str(exc.value) == says


@pytest.mark.parametrize("head", [b"250 ", b"250-"])
def test_a_line_at_the_cap_is_read_however_it_is_split(head: bytes) -> None:
    line = head + b"x" * (MAX_REPLY_LINE - 4)
    # its CR and LF in different reads too
    replies = parse_bytewise(line + b"\r\n250 ok\r\n")
    texts = [text for r in replies for text in r.lines]  # type: ignore[attr-defined]
    assert texts == ["x" * (MAX_REPLY_LINE - 4), "ok"]
    # one octet more is refused, whole or byte by byte, before its line ends
    for feed in ([line + b"x\r\n"], [line + b"x\r"], [bytes([c]) for c in line + b"x\r\n"]):
        p = ReplyParser()
        with pytest.raises(RemoteProtocolError, match="longer than"):
            for piece in feed:
                p.feed(piece)
                while p.next_reply() is not None:
                    pass
