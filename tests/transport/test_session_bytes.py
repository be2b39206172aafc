"""A whole session against a server that answers as a good one would, but
for the replies a test or a fuzzer changes: wrong codes, garbage, replies
cut anywhere. It ends in a result or a typed error, writes only well-formed
commands, sends the message data unchanged and ended once, and never shows
the secret (see wire.py; fuzz/fuzz_transport.py runs the same harness
coverage-guided)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mailfmt import Attachment, Message
from mailfmt.transport import DSN
from mailfmt.transport._message import WRITE_SIZE

from .wire import Server, run_session

EHLOS = [
    b"250-mx.example.org\r\n250-PIPELINING\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n"
    b"250-8BITMIME\r\n250-DSN\r\n250-REQUIRETLS\r\n250 SIZE 100000\r\n",
    b"250-mx.example.org\r\n250-STARTTLS\r\n250-AUTH LOGIN\r\n250 SIZE 100\r\n",
    b"250-mx.example.org\r\n250-AUTH=PLAIN\r\n250 PIPELINING\r\n",
    b"250 mx.example.org\r\n",
]
DSNS = [None, None, DSN(notify="never"),
        DSN(notify=("success", "delay"), ret="full", envid="batch 1")]
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
       many=st.booleans(), rcpts=st.sampled_from([1, 3, 101]),
       dsn=st.sampled_from(DSNS), require_tls=st.booleans(), lmtp=st.booleans())
@settings(deadline=None)
def test_any_server_ends_in_a_result_or_a_typed_error(
        ehlo: bytes, script: list[bytes | None], cuts: list[int], auth: str | None, tls: bool,
        many: bool, rcpts: int, dsn: DSN | None, require_tls: bool, lmtp: bool) -> None:
    run_session(Server(script, cuts, ehlo=ehlo, lmtp=lmtp), auth=auth, tls=tls, many=many,
                rcpts=rcpts, dsn=dsn, require_tls=require_tls, lmtp=lmtp)


@given(auth=st.sampled_from([None, "PLAIN", "LOGIN", "CRAM-MD5"]), tls=st.booleans(),
       many=st.booleans(), rcpts=st.sampled_from([1, 3, 101]),
       cuts=st.lists(st.integers(0, 40), max_size=40), dsn=st.sampled_from(DSNS),
       require_tls=st.booleans(), lmtp=st.booleans())
@settings(deadline=None)
def test_a_good_server_gets_every_message(auth: str | None, tls: bool, many: bool,
                                          rcpts: int, cuts: list[int], dsn: DSN | None,
                                          require_tls: bool, lmtp: bool) -> None:
    out = run_session(Server((), cuts, ehlo=EHLOS[0], lmtp=lmtp), auth=auth, tls=tls,
                      many=many, rcpts=rcpts, dsn=dsn, require_tls=require_tls, lmtp=lmtp)
    assert out.error is None
    assert len(out.results) == (2 if many else 1)
    assert all(r.ok and len(r.recipients) == rcpts for r in out.results)
    assert out.transcript[-1] == "S: 221 2.0.0 bye"
    rcpt = [line for line in out.transcript if line.startswith("C: RCPT")]
    assert len(rcpt) == rcpts * len(out.results)
    want = () if dsn is None else dsn.rcpt_params("user0@example.org")
    assert rcpt[0] == " ".join(["C: RCPT TO:<user0@example.org>", *want])
    mail = [line.split() for line in out.transcript if line.startswith("C: MAIL")]
    assert all(("REQUIRETLS" in words) == require_tls for words in mail)
    # LMTP: one reply per recipient after each end of data, every one of them read.
    finals = [i for i, line in enumerate(out.transcript) if line == "C: ."]
    assert out.transcript[1].startswith("C: LHLO" if lmtp else "C: EHLO")
    assert len(finals) == len(out.results) * (1 if rcpts <= 100 else 2)
    ends = [line for line in out.transcript if line == "S: 250 2.0.0 queued"]
    assert len(ends) == (rcpts * len(out.results) if lmtp else len(finals))


def _parts(tmp_path: Path) -> Message:
    """Forty small attachments and one large file, read when sent."""
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 1200)
    return Message(from_="alice@example.com", to=["bob@example.org"], subject="parts",
                   text="one\n.\n", attachments=[
                       *(Attachment(filename=f"a{i}.txt", content=b"x\r\n.\r\n" * 500)
                         for i in range(40)),
                       Attachment.from_path(big)],
                   date=datetime(1997, 11, 21, tzinfo=timezone.utc), message_id="<p@example.com>")


def test_message_data_goes_in_writes_of_about_write_size(tmp_path: Path) -> None:
    # Forty small attachments and one large file: small chunks are gathered
    # into writes of WRITE_SIZE or more, a file is read in blocks, and the
    # data unstuffs to the message exactly (run_session checks that).
    msg = _parts(tmp_path)
    out = run_session(Server(), auth=None, tls=False, many=False, rcpts=1, messages=[msg],
                      timeout=1000)
    assert out.error is None and out.results[0].ok
    sizes = [len(data) for phase, data in out.written if phase == "message"]
    assert len(sizes) >= 4
    assert all(n >= WRITE_SIZE for n in sizes[:-1])
    # ... and no more than one chunk past it (the dots stuffed aside).
    assert max(sizes) < WRITE_SIZE + max(map(len, msg.iter_bytes())) + 64
    assert sum(sizes) > len(msg.to_bytes())      # the stuffed dots and the end of data
    # Each write but the last says more data follows (an asyncio driver lets
    # the loop run there); every one waits the message phase's 180 s.
    more = [m for (phase, _), m in zip(out.written, out.more, strict=True) if phase == "message"]
    assert more == [True] * (len(sizes) - 1) + [False]
    assert {t for phase, t in out.waits if phase == "message"} == {180.0}


def test_progress_comes_after_each_write_and_before_the_end_of_data(tmp_path: Path) -> None:
    msg = _parts(tmp_path)
    total = len(msg.to_bytes())
    for m in (msg, msg.to_bytes()):     # streamed chunks, and bytes sent as they are
        calls: list[tuple[int, int]] = []
        out = run_session(Server(), auth=None, tls=False, many=False, rcpts=1, messages=[m],
                          timeout=1000, progress=lambda s, t, calls=calls: calls.append((s, t)))
        assert out.error is None and out.results[0].ok     # and the data arrived unchanged
        writes = [(data, more) for (phase, data), more in zip(out.written, out.more, strict=True)
                  if phase == "message"]
        assert all(len(data) <= WRITE_SIZE for data, _ in writes)
        # One call after each write of data; the end of data is a write of its own.
        assert len(calls) == len(writes) - 1 and writes[-1][0] in (b"\r\n.\r\n", b".\r\n")
        assert [more for _, more in writes] == [True] * len(calls) + [False]
        sent = [s for s, _ in calls]
        assert sent == sorted(set(sent)) and sent[-1] == total
        assert {t for _, t in calls} == {total}
        # The octets reported follow the octets written (dot-stuffing aside).
        wire = 0
        for (data, _), (s, _) in zip(writes[:-1], calls, strict=True):
            wire += len(data)
            assert s <= wire <= s + s // 50 + 8
        assert {t for phase, t in out.waits if phase == "message"} == {180.0}
