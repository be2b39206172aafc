"""A whole session against a server that answers as a good one would, but
for the replies a test or a fuzzer changes: wrong codes, garbage, replies
cut anywhere. It ends in a result or a typed error, writes only well-formed
commands, sends the message data unchanged and ended once, and never shows
the secret (see wire.py; fuzz/fuzz_transport.py runs the same harness
coverage-guided)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from .wire import Server, run_session

EHLOS = [
    b"250-mx.example.org\r\n250-PIPELINING\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n"
    b"250-8BITMIME\r\n250 SIZE 100000\r\n",
    b"250-mx.example.org\r\n250-STARTTLS\r\n250-AUTH LOGIN\r\n250 SIZE 100\r\n",
    b"250-mx.example.org\r\n250-AUTH=PLAIN\r\n250 PIPELINING\r\n",
    b"250 mx.example.org\r\n",
]
# What a server may say instead of the good reply.
WRONG = [
    b"220 mx.example.org ESMTP\r\n", b"250 ok\r\n", b"250-mx\r\n250 SIZE 10\r\n",
    b"235 2.7.0 ok\r\n", b"334 \r\n", b"334 !!\r\n", b"354 go\r\n", b"452 4.5.3 too many\r\n",
    b"550 5.1.1 no\r\n", b"450 4.2.0 later\r\n", b"421 4.3.2 bye\r\n", b"535 5.7.8 no\r\n",
    b"552 5.3.4 big\r\n", b"554 no\r\n", b"502 no\r\n", b"500 what\r\n", b"221 bye\r\n",
    b"250-a\r\n251 b\r\n", b"250-", b"\r\n", b"2", b"x\n", b"999 what\r\n",
    b"250 " + b"x" * 5000 + b"\r\n", b"250 ok\r\n250 ok\r\n", b"",
]


@given(ehlo=st.sampled_from(EHLOS),
       script=st.lists(st.one_of(st.none(), st.none(), st.none(), st.sampled_from(WRONG)),
                       max_size=40),
       cuts=st.lists(st.integers(0, 40), max_size=40),
       auth=st.sampled_from([None, "PLAIN", "LOGIN", "CRAM-MD5"]), tls=st.booleans(),
       many=st.booleans(), rcpts=st.sampled_from([1, 3, 101]))
@settings(deadline=None)
def test_any_server_ends_in_a_result_or_a_typed_error(
        ehlo: bytes, script: list[bytes | None], cuts: list[int], auth: str | None, tls: bool,
        many: bool, rcpts: int) -> None:
    run_session(Server(script, cuts, ehlo=ehlo), auth=auth, tls=tls, many=many, rcpts=rcpts)


@given(auth=st.sampled_from([None, "PLAIN", "LOGIN", "CRAM-MD5"]), tls=st.booleans(),
       many=st.booleans(), rcpts=st.sampled_from([1, 3, 101]),
       cuts=st.lists(st.integers(0, 40), max_size=40))
@settings(deadline=None)
def test_a_good_server_gets_every_message(auth: str | None, tls: bool, many: bool,
                                          rcpts: int, cuts: list[int]) -> None:
    out = run_session(Server((), cuts, ehlo=EHLOS[0]), auth=auth, tls=tls, many=many,
                      rcpts=rcpts)
    assert out.error is None
    assert len(out.results) == (2 if many else 1)
    assert all(r.ok and len(r.recipients) == rcpts for r in out.results)
    assert out.transcript[-1] == "S: 221 2.0.0 bye"
