"""The plain-section proof (mailfmt/lint/plain.py) against the full header
checks: lint with the proof and lint without it report the same findings."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mailfmt.lint import LintConfig, engine, lint
from mailfmt.lint.checks import mime
from mailfmt.lint.plain import Proof, match_section, plain_part, plain_section

from ..strategies import messages

try:
    from mailfmt._speedups import plain_header
except ImportError:     # no compiler at install time: the regex proof only
    plain_header = None

needs_c = pytest.mark.skipif(plain_header is None, reason="mailfmt._speedups was not built")

FIXTURES = Path(__file__).parent / "fixtures"


def _full(raw: bytes) -> list[tuple[str, int, str]]:
    """The findings with the proofs switched off."""
    saved = engine.plain_section, mime.plain_part
    engine.plain_section = lambda raw: None  # type: ignore[assignment]
    mime.plain_part = lambda raw, start, end: None  # type: ignore[assignment]
    try:
        return [(v.code, v.offset, v.message) for v in lint(raw).violations]
    finally:
        engine.plain_section, mime.plain_part = saved


def _same(raw: bytes) -> None:
    _twins_agree(raw)
    fast = [(v.code, v.offset, v.message) for v in lint(raw).violations]
    assert fast == _full(raw), raw[:400]


def _twins_agree(raw: bytes) -> Proof | None:
    """The section proof's C twin gives the regex's answer (None included)."""
    want = match_section(raw)
    if plain_header is not None:
        assert plain_header(raw) == want, raw[:400]
    return want


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.eml")), ids=lambda p: p.stem)
def test_fixtures_agree(path: Path) -> None:
    _same(path.read_bytes())


@given(messages())
def test_built_messages_agree(msg: object) -> None:
    raw = msg.to_bytes()  # type: ignore[attr-defined]
    _same(raw)


_GOOD = {
    "From": [b" Ann Lee <ann@example.com>", b" ann@example.com", b' "Lee, Ann" <a@example.com>',
             b" Ann\r\n <ann@example.com>", b" Ann <ann@sub.example.com> "],
    "To": [b" a@example.com, b@example.org", b" a@example.com,\r\n b@example.org",
           b" Bo <b@example.org>, c@example.net"],
    "Date": [b" Fri, 27 Nov 2026 12:33:28 +0000", b" 1 Jan 2026 00:00 GMT",
             b" Fri, 27 Nov 2026 12:33:28 +0000 (UTC)"],
    "Message-ID": [b" <abc.def@example.com>", b" <a@[127.0.0.1]>"],
    "References": [b" <a@example.com> <b@example.com>", b" <a@example.com>\r\n <b@example.com>"],
    "Subject": [b" hello", b"", b" folded\r\n line", b" tab\there",
                b" =?utf-8?q?caf=C3=A9?=", b" =?UTF-8?B?Y2Fmw6k=?= and =?utf-8?Q?x?=",
                b" a =?utf-8?q?x?=\r\n =?utf-8?q?y?=", b" =? not a word", b" 1=?2",
                b" =?utf-8*en?q?x?="],
}
# Each is wrong, obsolete, or only valid by a rule the proof does not encode.
_BAD = [
    b"a..b@example.com", b"a@-example.com", b"a@exa--mple.com", b"a@example.c0m", b"a@example",
    b"x" * 65 + b"@example.com", b"a@" + b"d" * 64 + b".com",
    b"a@" + (b"d" * 60 + b".") * 4 + b"com",
    b"J. Lee <j@example.com>", b"=?utf-8?q?x?= <a@example.com>", b"<@route:a@example.com>",
    b"a@example.com,", b"", b"(c) a@example.com", b"caf\xc3\xa9 <a@example.com>",
    b"Grp: a@example.com;", b'"a\\"b" <a@example.com>', b"a@example.com\x01",
    b"FRI, 27 Nov 2026 12:33:28 +0000", b"27 Nov 26 12:33 +0000", b"Fri, 27 Nov 2026 12:33:28",
    b"Fri, 27 Nov 2026 12:33:28 EST", b"<no-at>", b"<a@example.com> <b@example.com>",
    b"a@example.com <b@example.com>", b"=?bad?=", b"x\ry", b"\xff",
    b"x" * 64 + b"@" + b"d" * 62 + b"." + b"d" * 62 + b"." + b"d" * 60 + b".com",  # 255 in all
    b"a@xn--zz.com", b"a@example-.com", b"a@example.123", b"<a@[x]y]>", b'"a"b" <a@example.com>',
    b"=?utf-8?q?bad", b"=?x?y?z?=", b"=?utf-8?b?!!!?=", b"=?utf-8?q?" + b"a" * 70 + b"?=",
    b"=?no-such-charset?q?x?=", b"=?utf-8?b?/w==?=", b"x =?utf-8?q?a?==?utf-8?q?b?=",
    b"=?utf-8?q?a?= <a@example.com>", b'"=?utf-8?q?a?=" <a@example.com>', b"a=?b@example.com",
    b"a@example.com,\r\n b=?c@example.com",
    # 8-bit text: E101 where the field is unstructured, the full checks elsewhere
    b"caf\xc3\xa9\r\n caf\xc3\xa9 again", b"caf\xc3\xa9 =?utf-8?q?x?=", b"text/plain; name=\xe9",
    b"\xc3", b"1.0 \xa0", b'"ceo@bank.example" <a@example.com>',
    b"a@xn--pple-43d.example.com",
]
_NAMES = ["From", "FROM", "from", "To", "Cc", "Bcc", "Reply-To", "Sender", "Resent-To", "Date",
          "date", "Resent-Date", "Message-ID", "Message-Id", "message-id", "Content-ID",
          "In-Reply-To", "References", "Subject", "X-Tag", "MIME-Version", "Content-Type",
          "Content-Transfer-Encoding", "Received", "Comments", "Disposition-Notification-To",
          "Mail-Followup-To"]


def _good(name: str) -> list[bytes]:
    key = "Message-ID" if name.lower() == "message-id" else name.title()
    return _GOOD.get(key, _GOOD["Subject"])


@st.composite
def _sections(draw: st.DrawFn) -> bytes:
    """Good fields and at most one probe: a bad value under any name, so
    that the probe is what decides whether the proof may pass it."""
    lines = [b"From: a@example.com", b"Date: Fri, 27 Nov 2026 12:33:28 +0000",
             b"Message-ID: <1@example.com>"]
    for _ in range(draw(st.integers(0, 5))):
        name = draw(st.sampled_from(_NAMES))
        lines.insert(draw(st.integers(0, len(lines))),
                     name.encode() + b":" + draw(st.sampled_from(_good(name))))
    if draw(st.booleans()):
        probe = draw(st.sampled_from(_NAMES)).encode() + b": " + draw(st.sampled_from(_BAD))
        lines.insert(draw(st.integers(0, len(lines))), probe)
    eol = draw(st.sampled_from([b"\r\n", b"\n"]))
    return eol.join(lines) + eol + eol + b"body" + eol


@given(_sections())
@example(b"From: a@example.com\r\nDate: Fri, 27 Nov 2026 12:33:28 +0000\r\n"
         b"Message-ID: <1@example.com>\r\n\r\nbody\r\n")
def test_generated_sections_agree(raw: bytes) -> None:
    _same(raw)


def test_every_name_with_every_value_agrees() -> None:
    base = (b"From: a@example.com\r\nDate: Fri, 27 Nov 2026 12:33:28 +0000\r\n"
            b"Message-ID: <1@example.com>\r\n")
    values = [b" " + v for v in _BAD] + [v for pool in _GOOD.values() for v in pool]
    taken = 0
    for name in _NAMES:
        for value in values:
            raw = base + name.encode() + b":" + value + b"\r\n\r\nbody\r\n"
            _same(raw)
            taken += plain_section(raw) is not None
    assert taken > 100     # the proof does take the plain ones


def test_every_field_the_checks_read_is_special_to_the_proof() -> None:
    """The generic branch vouches for fields no grammar reads: each field the
    full checks read with one must be named in _SPECIAL, or its own branch."""
    import re

    from mailfmt.lint.checks.headers import ADDRESS_FIELDS
    from mailfmt.lint.plain import _SPECIAL

    for name in ADDRESS_FIELDS | {"date", "resent-date", "message-id", "resent-message-id",
                                  "content-id", "in-reply-to", "references"}:
        assert re.fullmatch(rb"(?:" + _SPECIAL + rb")", name.encode()), name
    base = (b"From: a@example.com\r\nDate: Fri, 27 Nov 2026 12:33:28 +0000\r\n"
            b"Message-ID: <1@example.com>\r\n")
    for name in ("Disposition-Notification-To", "Mail-Followup-To", "Mail-Reply-To"):
        assert plain_section(base + name.encode() + b": G: a@example.com;\r\n\r\n") is None


def test_the_proof_declines_what_it_cannot_vouch_for() -> None:
    base = (b"From: a@example.com\r\nDate: Fri, 27 Nov 2026 12:33:28 +0000\r\n"
            b"Message-ID: <1@example.com>\r\n")
    assert plain_section(base + b"\r\n") is not None
    # A well-formed encoded word in unstructured text passes; elsewhere, or
    # malformed, it is the full checks' to judge.
    assert plain_section(base + b"Subject: =?utf-8?q?caf=C3=A9?=\r\n\r\n") is not None
    # "=?" is atext: a msg-id may hold it, and no encoded-word rule reads it there.
    assert plain_section(base + b"References: <a=?x?y?z?=@example.com>\r\n\r\n") is not None
    # Without a Message-ID the full checks run, and report H208.
    assert plain_section(base.replace(b"Message-ID: <1@example.com>\r\n", b"") + b"\r\n") is None
    for extra in (b"Subject: =?utf-8?q?x\r\n?=\r\n", b"Subject: caf\xc3\xa9 =?utf-8?q?x?=\r\n",
                  b"Content-Type: text/plain; name=caf\xc3\xa9\r\n",
                  b"Subject: =?utf-8?x?y?=\r\n", b"To: =?utf-8?q?A?= <a@example.com>\r\n",
                  b"Cc: a=?b@example.com\r\n",
                  b"Date: Fri, 27 Nov 2026 12:33:28 +0000\r\n", b"Subject : x\r\n",
                  b"To: a..b@example.com\r\n", b"FROM: b@example.com\r\n",
                  # a name that shows an address: A108 is the full checks' to judge
                  b'To: "ceo@bank.example" <a@example.com>\r\n',
                  b"To: a@xn--pple-43d.example.com\r\n"):
        assert plain_section(base + extra + b"\r\n") is None, extra
    assert plain_section(b"Date: Fri, 27 Nov 2026 12:33:28 +0000\r\n\r\n") is None
    # Two Received fields are fine: not a singleton.
    twice = base + b"Received: x\r\nReceived: y\r\n\r\n"
    assert plain_section(twice) == ({}, len(twice), [])


def test_8bit_text_is_listed_once_per_field() -> None:
    base = (b"From: a@example.com\r\nDate: Fri, 27 Nov 2026 12:33:28 +0000\r\n"
            b"Message-ID: <1@example.com>\r\n")
    raw = base + (b"Subject: caf\xc3\xa9 caf\xc3\xa9\r\n\tna\xc3\xafve\r\nX-Tag: ok\r\n"
                  b"x-note: \xff\r\n\r\nbody\r\n")
    got = plain_section(raw)
    assert got is not None
    assert got[2] == [(raw.index(b"\xc3"), "Subject"), (raw.index(b"\xff"), "x-note")]
    _same(raw)
    # With SMTPUTF8, valid UTF-8 is allowed: the full checks judge, and agree.
    cfg = LintConfig(utf8=True)
    assert [v.code for v in lint(raw, cfg).violations] == ["E101"]    # only the \xff


def test_mime_fields_come_from_the_original_bytes() -> None:
    raw = (b"From: a@example.com\r\nDate: Fri, 27 Nov 2026 12:33:28 +0000\r\n"
           b"Message-ID: <1@example.com>\r\n"
           b"MIME-Version: 1.0\r\nCONTENT-TYPE: Text/Plain;\r\n charset=UTF-8\r\n"
           b"Content-Transfer-Encoding: 7bit\r\n\r\n")
    got = plain_section(raw)
    assert got is not None
    fields, end, _ = got
    assert end == len(raw)
    ct = fields["content-type"]
    assert (ct.name, ct.value, ct.offset) == ("CONTENT-TYPE", " Text/Plain; charset=UTF-8",
                                             raw.index(b"CONTENT-TYPE"))
    assert fields["mime-version"].value == " 1.0"
    cte = fields["content-transfer-encoding"]
    assert (cte.offset, cte.value) == (raw.index(b"Content-Transfer"), " 7bit")
    assert cte.offset_of(1) == raw.index(b"7bit")
    # A second Content-Type: the full reader decides which one counts.
    assert plain_section(raw.replace(b"\r\n\r\n", b"\r\nContent-Type: x/y\r\n\r\n")) is None


_PART_HEADS = [
    b"", b"Content-Type: text/plain\r\n", b"Content-Type: text/html; charset=x\r\n",
    b"Content-Type: text/plain;\r\n charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n",
    b"content-transfer-encoding: QUOTED-PRINTABLE\r\n", b"Content-Type : text/plain\r\n",
    b"Content-Type: text/plain\n", b"X-\xff: y\r\n", b"Content-Type: a/b\x01\r\n",
    b" folded-first\r\n", b"no colon\r\n", b"Content-Type: x\r\nContent-Type: y\r\n",
    b"Content-Type: multipart/mixed; boundary=c\r\n", b"Content-Transfer-Encoding: 8bit\r\n",
]
_PART_BODIES = [b"hello\r\n", b"", b"SGVsbG8=\r\n", b"caf\xc3\xa9\r\n", b"=ZZ\r\n",
                b"--c\r\nContent-Type: text/plain\r\n\r\nin\r\n--c--\r\n"]


@given(st.lists(st.tuples(st.sampled_from(_PART_HEADS), st.booleans(),
                          st.sampled_from(_PART_BODIES)), max_size=4),
       st.sampled_from([b"\r\n", b"\n"]))
def test_multipart_messages_agree(parts: list[tuple[bytes, bool, bytes]], eol: bytes) -> None:
    raw = (b"From: a@example.com\r\nDate: Fri, 27 Nov 2026 12:33:28 +0000\r\n"
           b"Message-ID: <1@example.com>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
    for head, blank, body in parts:
        raw += b"--b\r\n" + head + (b"\r\n" if blank else b"") + body
    raw += b"--b--\r\n"
    _same(raw.replace(b"\r\n", eol))


def test_part_proof_reads_what_the_walk_reads() -> None:
    raw = (b"--b\r\nContent-Type: text/plain;\r\n charset=utf-8\r\n"
           b"Content-Transfer-Encoding: 7bit\r\n\r\nhi\r\n")
    for shift in (0, 7):        # the cache is keyed by the header bytes alone
        data = b"." * shift + raw
        got = plain_part(data, shift + 5, len(data))
        assert got is not None
        fields, delta, body = got
        assert body == data.index(b"hi")
        ct = fields["content-type"]
        assert (ct.offset + delta, ct.value) == (shift + 5, " text/plain; charset=utf-8")
        assert ct.offset_of(len(" text/plain; ")) + delta == data.index(b"charset")
        assert fields["content-transfer-encoding"].offset + delta == \
            data.index(b"Content-Transfer")
    # An empty part: the reader decides; the CRLF after it is the delimiter's.
    assert plain_part(b"--b\r\n", 5, 5) is None
    assert plain_part(b"--b\r\n\r\n--b--\r\n", 5, 5) is None
    assert plain_part(b"Subject : x\r\n\r\n", 0, 15) is None


def test_too_many_fields_go_to_the_reader() -> None:
    from mailfmt._limits import MAX_HEADER_FIELDS

    many = b"X-A: b\r\n" * (MAX_HEADER_FIELDS + 1)
    top = (b"From: a@example.com\r\nDate: Fri, 27 Nov 2026 12:33:28 +0000\r\n"
           b"Message-ID: <1@example.com>\r\n")
    _same(top + many + b"\r\nbody\r\n")
    _same(top + b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
          b"--b\r\n" + many + b"\r\nbody\r\n--b--\r\n")


_SHAPED = st.sampled_from([
    b"Subject: ", b"To: ", b"Received: ", b"Content-Type: text/plain\r\n", b"MIME-Version: 1.0\r\n",
    b"Content-Type: multipart/mixed; boundary=b\r\n", b"--b\r\n", b"--b--\r\n",
    b"Content-Transfer-Encoding: base64\r\n", b"=?utf-8?q?", b"=?utf-8?b?", b"?=", b"=?", b"?",
    b"caf=C3=A9", b"Y2Fmw6k=", b"\r\n", b"\n", b"\r\n ", b" ", b"<a@example.com>", b"a@b.example",
    b",", b'"', b"(", b":", b";", b"\xff", b"\x00", b"x" * 80, b"=?unknown?q?x?=",
])


@given(st.lists(_SHAPED, max_size=25).map(b"".join))
def test_mail_shaped_bytes_agree(tail: bytes) -> None:
    _same(b"From: a@example.com\r\nDate: Fri, 27 Nov 2026 12:33:28 +0000\r\n"
          b"Message-ID: <1@example.com>\r\n" + tail)


# ---- the proof's C twin (plain_header in mailfmt/_speedups.c) -----------------------

_BASE = (b"From: a@example.com\r\nDate: Fri, 27 Nov 2026 12:33:28 +0000\r\n"
         b"Message-ID: <1@example.com>\r\n")
# Values at and just past each bound the grammar draws, and the pieces it
# tells apart: every one must get the regex's answer from the C walk.
_EDGES = {
    "From": [b" " + b"l" * 64 + b"@example.com", b" " + b"l" * 65 + b"@example.com",
             b" a@" + b"d" * 63 + b".com", b" a@" + b"d" * 64 + b".com",
             b" a@" + (b"d" * 62 + b".") * 3 + b"com", b" a@" + (b"d" * 61 + b".") * 3 + b"co",
             b" a@b." + b"c" * 63, b" a@b." + b"c" * 64, b" a@b.c", b" a@b.cc", b" a@b.c1",
             b" a@b.cc-", b" a@b.cc.", b" a@b.cc@", b" a@b-c.de", b" a@b--c.de", b" a@-b.de",
             b" a@b-.de", b" a.b@c.de", b" .a@c.de", b" a.@c.de", b" a@.c.de", b" a@c..de",
             b' "" <a@b.de>', b' "x" <a@b.de>', b' "x\\y" <a@b.de>', b' "x@y" <a@b.de>',
             b" A B\r\n\tC <a@b.de>", b" A\r\n<a@b.de>", b" A <a@b.de", b" <a@b.de>",
             b" A <a@b.de> ", b" a@b.de\r\n ", b"a@b.de", b" a@b.de x", b" A\n <a@b.de>",
             b" a@b.de,", b" a@[1.2.3.4]", b" a@b.d\xe9"],
    "To": [b" a@b.de,c@d.ef", b" a@b.de ,\r\n\t c@d.ef", b" a@b.de,,c@d.ef", b",a@b.de",
           b" a@b.de, ", b" A <a@b.de>, B <c@d.ef>, e@f.gh"],
    "Date": [b" Fri, 27 Nov 2026 " + t for t in (
        b"23:59:60 +9959", b"24:00:00 +0000", b"12:60 +0000", b"12:33:5 +0000", b"12:33:61 +0000",
        b"12:33: +0000", b"2:33 +0000", b"12:33 +0000\r\n (folded)")] + [b" 27 Nov " + t for t in (
        b"1900 00:00 -0000", b"1899 00:00 UT", b"2026 00:00 +9960", b"2026 00:00 +9900",
        b"2026 00:00 +8999", b"2026 00:00 +99", b"2026 00:00 UTC", b"2026 00:00 UX",
        b"2026 00:00 GMX", b"2026 00:00 GMT ", b"2026 00:00 +0000 (x)", b"2026 00:00 +0000 (x",
        b"2026 00:00 +0000 ((x))", b"20260 12:33 +0000")] + [
        b" Fri , 27 Nov 2026 12:33 +0000", b" Fri 27 Nov 2026 12:33 +0000",
        b" 127 Nov 2026 12:33 +0000", b" 7\tNov\t2026\t12:33\t+0000", b" 27 nov 2026 12:33 +0000",
        b"27 Nov 2026 12:33 +0000"],
    "Message-ID": [b" <a@[]>", b" <a@[[]>", b" <a@[a]b]>", b" <a@[~!]>", b" <a@[\\]>", b" <a@[x",
                   b" <a.b@c.d>", b" <a..b@c>", b" <a@b> ", b"\r\n <a@b>",
                   b" <a@b>\r\n ", b" <@b>", b" <a@>", b" <a@b", b" a@b"],
    "References": [b" <a@b><c@d>", b" <a@b> <c@d> ", b" <a@b> x", b" <a@b>\r\n\t<c@d>", b" ",
                   b" <a@b> <c@"],
    "Content-Type": [b" text/plain", b" text/plain\r\n\tx", b" a\xe9", b" a\r\n", b" a\rb", b""],
    "Subject": [b" \xe9\xff", b" a\r\n\t\xe9", b" a\x7f", b" a\x00", b" a\rb", b" a\r\r\n"],
}
_EDGE_NAMES = ["From", "Sender", "To", "Cc", "Bcc", "Reply-To", "Date", "Message-ID", "Message-Id",
               "Content-ID", "Content-Id", "In-Reply-To", "References", "Content-Type",
               "content-transfer-encoding", "MIME-VERSION", "Subject", "Content-Disposition",
               "Resent-Date", "reply-to", "FROM", "X-A", "Fromage", "To:", "T o", ""]


@needs_c
def test_c_proof_gives_the_regex_answer_at_every_edge() -> None:
    values = [v for pool in _EDGES.values() for v in pool] + [b" " + v for v in _BAD]
    proved = 0
    for name in _EDGE_NAMES:
        for value in values:
            for eol in (b"\r\n", b"\n"):
                raw = (_BASE + name.encode() + b":" + value + b"\r\n\r\nbody").replace(
                    b"\r\n", eol)
                proved += _twins_agree(raw) is not None
    assert proved > 500     # not only refusals: the walk proves the plain ones


@needs_c
def test_c_proof_gives_the_regex_answer_on_every_prefix() -> None:
    """Cut anywhere, the walk stops at the end of the buffer as the regex does."""
    raw = (_BASE + b"To: A <a@b.de>,\r\n c@d.ef\r\nReferences: <a@b> <c@[d]>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/plain;\r\n charset=utf-8\r\n"
           b"Content-Transfer-Encoding: 7bit\r\nSubject: caf\xc3\xa9\r\n\r\n")
    for cut in range(len(raw) + 1):
        _twins_agree(raw[:cut])
        _twins_agree(raw[:cut] + b"\r\n")
    assert _twins_agree(raw) == (len(raw), raw.index(b"Content-Type"),
                                 raw.index(b" text/plain"), raw.index(b"\r\nContent-Trans"),
                                 raw.index(b"Content-Trans"), raw.index(b" 7bit"),
                                 raw.index(b"\r\nSubject"), raw.index(b"MIME"),
                                 raw.index(b" 1.0"), raw.index(b"\r\nContent-Type"))


@needs_c
def test_c_proof_refuses_every_special_name_the_regex_refuses() -> None:
    """The generic branch's list of refused names is written twice, in
    plain.py and in C: each special name, in each spelling, is read alike."""
    from mailfmt.lint.plain import _SPECIAL

    names = [*_SPECIAL.decode().split("|"), "content-type", "content-transfer-encoding",
             "mime-version", "content-disposition"]
    for name in names:
        for spelling in (name, name.upper(), name.title(), name + "x", "x" + name):
            for value in (b" plain text", b" a@b.de", b" <a@b.de>", b" 1.0"):
                _twins_agree(_BASE + spelling.encode() + b":" + value + b"\r\n\r\n")


_TOKENS = st.sampled_from([
    b"From:", b"To:", b"Date:", b"Message-ID:", b"References:", b"Content-Type:", b"Subject:",
    b"MIME-Version:", b" ", b"\t", b"\r\n", b"\n", b"\r", b"\r\n ", b"\n\t", b"a", b"Ann", b"@",
    b".", b"-", b"<", b">", b",", b'"', b"(", b")", b"[", b"]", b":", b"example", b"com", b"de",
    b"x" * 64, b"d" * 63, b"Fri,", b"27", b"Nov", b"2026", b"12:33", b":60", b"+0000", b"GMT",
    b"\xe9", b"\x00", b"=?utf-8?q?x?=", b"a@b.de", b"<a@b.de>", b"1.0",
])


@needs_c
@given(st.lists(_TOKENS, max_size=40).map(b"".join))
def test_c_proof_gives_the_regex_answer_on_token_soup(tail: bytes) -> None:
    _twins_agree(_BASE + tail)
    _twins_agree(tail)


@needs_c
@given(st.binary(max_size=200))
def test_c_proof_gives_the_regex_answer_on_any_bytes(data: bytes) -> None:
    _twins_agree(data)
    _twins_agree(_BASE + data)


@needs_c
def test_c_proof_reads_any_buffer() -> None:
    raw = _BASE + b"Content-Type: text/plain\r\n\r\n"
    want = match_section(raw)
    assert want is not None
    assert plain_header(bytearray(raw)) == plain_header(memoryview(raw)) == want
    with pytest.raises(TypeError):
        plain_header("text")  # type: ignore[arg-type]

