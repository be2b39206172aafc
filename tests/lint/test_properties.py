"""Hypothesis: lint never raises; built messages lint clean; a planted defect is
reported with the right rule at the right place."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailfmt import Message, ParseError
from mailfmt.lint import lint

from ..strategies import assert_clean, messages


@given(st.binary(max_size=4000))
def test_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    report = lint(data)
    for v in report.violations:
        assert 0 <= v.offset <= len(data)
        assert v.line >= 1 and v.column >= 1


_PIECES = st.sampled_from([
    b"From: a@example.com\r\n", b"To: (x\r\n", b"Content-Type: multipart/mixed; boundary=b\r\n",
    b"--b\r\n", b"--b--\r\n", b"\r\n", b"\n", b"\r", b"\x00", b"=?utf-8?q?=0A?=", b"\xff",
    b"Content-Transfer-Encoding: base64\r\n", b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n", b"Message-ID: <1@example.com>\r\n",
    b"Subject: ", b" ", b":", b'"', b"<", b">",
    b"@", b",", b";", b"(", b")", b"x" * 100, b"=", b"=ZZ", b"\r\n.\r\n", b"\n.\n",
])


@given(st.lists(_PIECES, max_size=60).map(b"".join))
def test_never_raises_on_mail_shaped_bytes(data: bytes) -> None:
    lint(data)


@given(messages())
def test_built_messages_lint_clean(msg: Message) -> None:
    assert_clean(lint(msg.to_bytes()), msg)


@given(messages(), st.data())
def test_planted_defect_is_found_in_place(msg: Message, data: st.DataObject) -> None:
    raw = msg.to_bytes()
    crlfs = [i for i in range(len(raw) - 1) if raw[i:i + 2] == b"\r\n"]
    kind = data.draw(st.sampled_from(["bare-lf", "nul", "long"]))
    at = data.draw(st.sampled_from(crlfs))
    if kind == "bare-lf":
        bad = raw[:at] + raw[at + 1:]          # CRLF -> LF
        expect = ("S102", at)
    elif kind == "nul":
        bad = raw[:at] + b"\x00" + raw[at:]
        expect = ("S104", at)
    else:
        bad = raw[:at] + b"y" * 1000 + raw[at:]
        start = raw.rfind(b"\n", 0, at) + 1
        expect = ("S101", start + 998)
    found = {(v.code, v.offset) for v in lint(bad).violations}
    assert expect in found, (kind, expect, sorted(found)[:10])


@given(st.from_regex(r"[a-z0-9.+_-]{1,70}@[a-z0-9.-]{1,70}\.[a-z]{1,5}", fullmatch=True))
def test_address_fast_path_agrees_with_email_validator(spec: str) -> None:
    import email_validator

    from mailfmt.lint.checks import headers

    try:
        email_validator.validate_email(spec, check_deliverability=False, strict=True,
                                       allow_smtputf8=True, test_environment=True,
                                       globally_deliverable=False)
        valid = True
    except email_validator.EmailNotValidError:
        valid = False
    if headers._SIMPLE_ADDR.fullmatch(spec) and spec.index("@") <= 64:
        assert valid, spec


@given(messages(utf8=True))
def test_utf8_messages_lint_clean_in_utf8_mode(msg: Message) -> None:
    from mailfmt.lint import LintConfig

    raw = msg.to_bytes()
    assert_clean(lint(raw, LintConfig(utf8=True)), msg)
    if not raw.split(b"\r\n\r\n", 1)[0].isascii():
        assert "E101" in {v.code for v in lint(raw).violations}


def test_utf8_mode_still_reports_invalid_octets() -> None:
    from mailfmt.lint import LintConfig

    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"Message-ID: <1@example.com>\r\n"
           b"Subject: caf\xe9\r\n\r\nhi\r\n")
    assert [v.code for v in lint(raw, LintConfig(utf8=True)).violations] == ["E101"]


def test_utf8_mode_counts_the_78_limit_in_characters() -> None:
    # RFC 6532 3.4: with UTF-8 the 998 limit is in octets, the 78 one in characters.
    from mailfmt.lint import LintConfig

    head = ("From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
            "Message-ID: <1@example.com>\r\n\r\n")
    short, long = "é" * 60, "é" * 70 + "x" * 10      # 120 octets / 60 chars; 80 chars
    for body, utf8, expect in ((short, True, []), (short, False, [("S106", 78, "octets")]),
                               (long, True, [("S106", 148, "characters")])):
        raw = (head + body + "\r\n").encode()
        found = [(v.code, v.offset - len(head.encode()), v.message.split()[5])
                 for v in lint(raw, LintConfig(utf8=utf8)).violations if v.code == "S106"]
        assert found == expect, (body, utf8, found)
    # The finding points at the 79th character: octet 148, after 70 two-octet ones and 8 x.
    raw = (head + long + "\r\n").encode()
    v = next(v for v in lint(raw, LintConfig(utf8=True)).violations if v.code == "S106")
    assert v.message == "A body line is 80 characters long (should be at most 78)"


_B64_HEAD = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
             b"Message-ID: <1@example.com>\r\n"
             b"MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
             b"Content-Transfer-Encoding: base64\r\n\r\n")


@given(st.lists(st.sampled_from([b"QUJD", b"QQ==", b"QUI=", b"=", b"A", b"\r\n", b"+/9z"]),
                max_size=12).map(b"".join))
def test_base64_check_agrees_with_strict_binascii(body: bytes) -> None:
    import binascii
    import sys

    import pytest

    if sys.version_info < (3, 11):
        pytest.skip("strict_mode arrived in Python 3.11")
    joined = body.replace(b"\r\n", b"")
    try:
        binascii.a2b_base64(joined, strict_mode=True)
        # strict_mode still lets "QUJD=" and "QUJD====" through; RFC 2045 6.8
        # counts in fours, and pads the last quantum with at most two "="
        valid = len(joined) % 4 == 0 and len(joined) - len(joined.rstrip(b"=")) <= 2
    except binascii.Error:
        valid = False
    codes = [v.code for v in lint(_B64_HEAD + body).violations if v.code == "E102"]
    assert codes == ([] if valid else ["E102"]), body


_LINE_HEAD = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
              b"Message-ID: <1@example.com>\r\n\r\n")


@given(st.lists(st.tuples(st.integers(0, 1100), st.sampled_from([b"\r\n", b"\n", b"\r"])),
                max_size=8))
def test_long_line_findings_match_a_line_by_line_count(lines: list[tuple[int, bytes]]) -> None:
    body = b"".join(b"x" * n + end for n, end in lines)
    raw = _LINE_HEAD + body
    expect = []
    pos = 0
    for line in raw.split(b"\n"):
        n = len(line) - (1 if line.endswith(b"\r") else 0)
        if n > 998:
            expect.append(("S101", pos + 998))
        elif n > 78:
            expect.append(("S106", pos + 78))
        pos += len(line) + 1
    found = [(v.code, v.offset) for v in lint(raw).violations if v.code in ("S101", "S106")]
    assert found == expect


def test_one_octet_over_counts_when_it_is_not_a_cr() -> None:
    # 79 octets are 78 characters and a CR, or 79 characters and a bare LF
    for body, expect in ((b"x" * 79 + b"\r\n", ["S106"]), (b"x" * 79 + b"\n", ["S102", "S106"]),
                         (b"x" * 78 + b"\r\n", [])):
        assert sorted(v.code for v in lint(_LINE_HEAD + body).violations) == expect, body
    b64 = _B64_HEAD + b"QUJD" * 19 + b"\r\n" + b"QUJD" * 19 + b"A\nQUJD\r\n"
    assert [v.code for v in lint(b64).violations if v.code == "E111"] == ["E111"]


def test_bare_lf_past_the_cap_is_counted_exactly() -> None:
    from mailfmt.lint.context import PER_RULE_CAP

    raw = _LINE_HEAD.replace(b"\r\n", b"\n") + b"line\n" * 500 + b"crlf\r\n" + b"cr\r" * 7
    report = lint(raw)
    lf = [v for v in report.violations if v.code == "S102"]
    assert len(lf) == PER_RULE_CAP
    assert [v.offset for v in lf] == [i for i, c in enumerate(raw) if c == 0x0A
                                      and raw[i - 1] != 0x0D][:PER_RULE_CAP]
    assert report.suppressed["S102"] == 3 + 1 + 500 - PER_RULE_CAP
    assert report.counts()["S103"] == 7 and "S103" not in report.suppressed


@given(st.lists(st.integers(0, 90), min_size=1, max_size=150), st.booleans())
def test_bare_lf_places_without_any_cr(lengths: list[int], trailing: bool) -> None:
    # A message with no CR at all takes its LF offsets from the line split.
    from mailfmt.lint.context import PER_RULE_CAP

    raw = _LINE_HEAD.replace(b"\r\n", b"\n") + b"\n".join(b"y" * n for n in lengths)
    raw += b"\n" if trailing else b""
    lf = [v for v in lint(raw).violations if v.code == "S102"]
    expect = [i for i, c in enumerate(raw) if c == 0x0A][:PER_RULE_CAP]
    assert [v.offset for v in lf] == expect
    assert [(v.line, v.column) for v in lf] == [
        (raw.count(b"\n", 0, i) + 1, i - raw.rfind(b"\n", 0, i)) for i in expect]
    assert [v.message for v in lf] == [v.rule.template.format(line=v.line) for v in lf]


def _line_oracle(raw: bytes) -> dict[str, int]:
    """Line findings counted the slow, obvious way over the whole buffer."""
    import re

    counts = {"S102": len(re.findall(rb"(?<!\r)\n", raw)),
              "S103": len(re.findall(rb"\r(?!\n)", raw)), "S101": 0, "S106": 0}
    for line in raw.split(b"\n"):
        n = len(line) - (1 if line.endswith(b"\r") else 0)
        if n > 998:
            counts["S101"] += 1
        elif n > 78:
            counts["S106"] += 1
    return {k: v for k, v in counts.items() if v}


_B64_MULTI = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
              b"Message-ID: <1@example.com>\r\n"
              b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
              b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\n"
              b"Content-Type: application/octet-stream\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\n")


_B64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


@given(st.integers(0, 3000), st.sampled_from([60, 64, 72, 76, 77]), st.data())
def test_regular_base64_spans_count_like_reading_every_line(
        size: int, width: int, data: st.DataObject) -> None:
    # Regularly wrapped base64 is counted without being read (ctx.proven):
    # a defect planted anywhere must still be found, exactly as often as a
    # line-by-line reading of the whole buffer finds it.
    import base64

    # the content does not matter, only the lines: any size is as good as any
    flat = base64.b64encode(bytes(i % 251 for i in range(size)))
    eol = data.draw(st.sampled_from([b"\r\n", b"\n"]))    # as sent, or as mailboxes keep it
    body = eol.join(flat[i:i + width] for i in range(0, len(flat), width))
    edit = data.draw(st.sampled_from(["none", "insert", "drop-cr", "join", "put", "swap",
                                      "swap-cr", "swap-lf", "grow-last"]))
    at = data.draw(st.integers(0, max(0, len(body) - 1)))
    piece = data.draw(st.sampled_from([b"\n", b"\r", b"AA", b"AAAA" * 20]))
    if edit == "insert":
        body = body[:at] + piece + body[at:]
    elif edit in ("drop-cr", "join") and body[at:at + 2] == b"\r\n":
        body = body[:at] + body[at + (1 if edit == "drop-cr" else 2):]
    elif edit == "put":         # in place: every later line keeps its place
        body = body[:at] + piece[:2] + body[at + len(piece[:2]):]
    elif edit == "swap":
        body = body[:at] + body[at + 1:at + 2] + body[at:at + 1] + body[at + 2:]
    elif edit == "swap-cr" and (cr := body.find(b"\r", at)) > 0:
        body = body[:cr - 1] + b"\r" + body[cr - 1:cr] + body[cr + 1:]
    elif edit == "swap-lf" and (lf := body.find(b"\n", at)) != -1 and lf + 1 < len(body):
        body = body[:lf] + body[lf + 1:lf + 2] + b"\n" + body[lf + 2:]
    # Keep the base64 valid (a multiple of four characters), so that the
    # regular-lines proof is what decides, not the alphabet check.
    short = -len(body.translate(None, b"\r\n")) % 4 if body.translate(None, _B64_CHARS + b"\r\n") \
        == b"" else 0
    pad = body.find(b"=")
    at_end = len(body) if pad == -1 else pad
    grow = b"AAAA" * data.draw(st.integers(1, 30)) if edit == "grow-last" else b""
    body = body[:at_end] + b"A" * short + grow + body[at_end:]
    raw = _B64_MULTI + body + b"\r\n--b--\r\n"
    report = lint(raw)
    counts = report.counts()
    found = {code: counts[code] for code in ("S101", "S102", "S103", "S106") if counts[code]}
    assert found == _line_oracle(raw)
    part = raw[len(_B64_MULTI):raw.rindex(b"\r\n--b--")]
    encoded_long = any(len(line) - line.endswith(b"\r") > 76 for line in part.split(b"\n"))
    assert ("E111" in counts) == encoded_long


def test_a_charset_name_no_codec_can_look_up_is_reported_not_raised() -> None:
    # codecs.lookup raises ValueError, not LookupError, for a name with a NUL.
    for charset in (b'charset="us\x00ascii"', b"charset*=utf-8''us%00ascii"):
        raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
               b"Message-ID: <1@example.com>\r\n"
               b"MIME-Version: 1.0\r\nContent-Type: text/plain; " + charset + b"\r\n"
               b"\r\nhi\r\n")
        assert "E105" in [v.code for v in lint(raw).violations], charset


def test_duplicate_mime_fields_are_reported_where_they_are() -> None:
    # H203 names MIME-Version, Content-Type and Content-Transfer-Encoding
    # among the fields that may occur once: at the top and in a body part.
    head = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
            b"Message-ID: <1@example.com>\r\nMIME-Version: 1.0\r\n")
    top = head + b"Content-Type: text/plain\r\nContent-Type: text/html\r\n\r\nhi\r\n"
    found = [(v.code, v.header, v.part, v.offset) for v in lint(top).violations]
    assert found == [("H203", "Content-Type", None, top.index(b"Content-Type: text/html"))]
    part = head + (b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                   b"Content-Type: text/plain\r\ncontent-type: text/html\r\n\r\nhi\r\n--b--\r\n")
    found = [(v.code, v.header, v.part, v.offset) for v in lint(part).violations]
    assert found == [("H203", "content-type", "1", part.index(b"content-type: text/html"))]


@pytest.mark.parametrize(("date", "code", "says"), [
    (b"Fri, 21 Nov 1997 09:55:06 -0600 (CST)", None, ""),
    (b"Fri, 21 Nov 97 09:55:06 EST", "H110", "obsolete form"),        # RFC 5322 4.3
    (b"21 Nov 1997 09:55 (c) GMT", "H110", "obsolete form"),
    (b"fri , 21 nov 1997 09 : 55 : 06 z", "H110", "obsolete form"),
    (b"Fri, 21 Nov 1997 09:55:06", "H206", "no time zone"),
    # Found by comparing lint with the parser: a lenient reader takes the
    # date and drops what follows; no grammar, obsolete or not, allows it.
    (b"Fri, 21 Nov 1997 09:55:06 -0600\tContent-Type: text/plain", "H206", "not an RFC"),
    (b"Fri, 21 Nov 1997 9:55:06 -0600", "H206", "not an RFC"),
    (b"Fri, 21 Nov 1997 09:55:06 J", "H206", "not an RFC"),       # no military J
    # RFC 5322 3.3 rules on the values, in the modern and obsolete forms
    (b"Sat, 21 Nov 1997 09:55:06 -0600", "H206", "is a Friday, not a Saturday"),
    (b"sat, 21 nov 97 09:55:06 EST", "H206", "is a Friday, not a Saturday"),
    (b"Thu, 29 Feb 2024 09:55:06 +0000", None, ""),
    (b"29 Feb 2100 09:55:06 +0000", "H206", "day 29 is not in February 2100"),
    (b"31 Apr 2024 09:55:06 +0000", "H206", "day 31 is not in April 2024"),
    (b"0 Apr 2024 09:55:06 +0000", "H206", "day 0 is not in April 2024"),
    (b"1 Jan 2024 24:00:00 +0000", "H206", "not a time of day"),
    (b"1 Jan 2024 23:60 +0000", "H206", "not a time of day"),
    (b"1 Jan 2024 23:59:60 +0000", None, ""),                      # a leap second
    (b"1 Jan 1899 23:59 +0000", "H206", "before 1900"),
    (b"1 Jan 2024 23:59 +9959", None, ""),
    (b"1 Jan 2024 23:59 -9960", "H206", "outside -9959 through +9959"),
])
def test_dates_are_valid_obsolete_or_invalid_by_the_grammar(date: bytes, code: str | None,
                                                            says: str) -> None:
    raw = (b"From: a@example.com\r\nMessage-ID: <1@example.com>\r\nDate: " + date
           + b"\r\n\r\nhi\r\n")
    found = [(v.code, v.message) for v in lint(raw).violations]
    assert [c for c, _ in found] == ([code] if code else [])
    assert all(says in message for _, message in found)


@pytest.mark.parametrize(("ctype", "bad"), [
    (b"text/plain", False), (b"Text/Plain; charset=us-ascii", False),
    (b"application/vnd.ms-excel", False),
    # RFC 2045 5.1: type and subtype are tokens; found by comparing lint with the
    # parser, which refused "multi@part/mixed" while the linter passed it
    (b"multi@part/mixed; boundary=b", True), (b"text/(c)plain", True),
    (b"text", True), (b"text/", True), (b"/plain", True),
])
def test_content_type_is_type_and_subtype_tokens(ctype: bytes, bad: bool) -> None:
    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"Message-ID: <1@example.com>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: " + ctype + b"\r\n\r\nhi\r\n")
    assert [v.code for v in lint(raw).violations] == (["M103"] if bad else [])


@pytest.mark.parametrize(("field", "found"), [
    # RFC 2045 8: Content-Description is *text; an unknown Content- field is an
    # extension field (RFC 2047 5): both may hold encoded words, which must be
    # well formed. The parser decodes them; the linter used to skip every
    # Content- field.
    (b"Content-Description", ["E107"]), (b"Content-Foo", ["E107"]),
    # structured MIME fields have their own grammar: no encoded-word rule
    (b"Content-ID", ["H205"]),
])
def test_encoded_words_in_content_fields(field: bytes, found: list[str]) -> None:
    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"Message-ID: <1@example.com>\r\n" + field
           + b": =?utf-8?q?caf=ZZ?=\r\n\r\nhi\r\n")
    assert [v.code for v in lint(raw).violations] == found


@pytest.mark.parametrize("fields", [
    # RFC 2045 5.1 and 4 allow comments in MIME's structured fields; these are
    # its own examples, which lint used to call errors (M103, E104).
    b"MIME-Version: 1.0 (produced by MetaSend Vx.x)\r\n"
    b"Content-type: text/plain; charset=us-ascii (Plain text)\r\n",
    b"MIME-Version: 1.0\r\nContent-Type: (x) text/plain (y) ; (z) charset (w) = us-ascii (u)"
    b"\r\nContent-Transfer-Encoding: 7bit (plain (nested) text)\r\n",
])
def test_comments_in_mime_fields_are_read_as_blanks(fields: bytes) -> None:
    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"Message-ID: <1@example.com>\r\n" + fields
           + b"\r\nhi\r\n")
    assert lint(raw).violations == ()
    quoted = raw.replace(b"us-ascii (u)", b'"us-ascii (u)"')
    if quoted != raw:      # inside a quoted string it is no comment: a charset name
        assert [v.code for v in lint(quoted).violations] == ["E105"]


VECTORS = Path(__file__).parent.parent / "vectors" / "rfc5322"
RFC2047 = Path(__file__).parent.parent / "vectors" / "rfc2047"


@pytest.mark.parametrize("path", sorted(RFC2047.glob("*.eml")), ids=lambda p: p.stem)
def test_rfc_2047_examples_lint_clean(path: Path) -> None:
    # RFC 2047 8, with a Date and a Message-ID added: encoded words in phrases,
    # in comments, in unstructured text, adjacent and folded
    assert lint(path.read_bytes()).violations == ()


@pytest.mark.parametrize("path", sorted(VECTORS.glob("*.eml")), ids=lambda p: p.stem)
def test_rfc_5322_examples_have_no_error_or_warning(path: Path) -> None:
    # Appendix A of RFC 5322: A.1-A.5 are valid, A.6 valid in obsolete syntax
    # (section 4: readers must accept it), which is info. Lint called the
    # blanks and comments inside A.6.1's and A.6.3's addr-specs and msg-id errors.
    found = {(v.code, v.message.split("(")[-1].rstrip(")"))
             for v in lint(path.read_bytes()).violations}
    if path.name.startswith("A.5"):
        # A.5 shows where comments may go, "pete(his account)@silly.test"
        # and "c@(Chris's host.)public.example" among them, which 3.4.1 says
        # SHOULD NOT be done: valid, with a warning.
        around_at = {f for f in found if f[0] == "A107"}
        assert around_at == {("A107", "From: a comment beside the '@' of an address"),
                             ("A107", "To: a comment beside the '@' of an address")}
        found -= around_at
    assert all(code == "H110" for code, _ in found), found
    if path.name.startswith("A.6.3"):
        assert ("H110", "blanks or comments inside an addr-spec") in found
        assert ("H110", "blanks or comments inside a msg-id") in found


@pytest.mark.parametrize(("body", "column"), [
    (b"hello \r\nworld\r\n", 6), (b"tab\t\r\n", 4), (b"two  \t\r\n", 4),
    (b"soft= \r\nnext\r\n", 6),      # a soft break with a blank after its '='
    (b"last line ", 10),             # no line break after it
    (b"hello=20\r\nmid \t x\r\n", None),
])
def test_quoted_printable_line_ending_in_a_blank(body: bytes, column: int | None) -> None:
    # RFC 2045 6.7 (3): a blank on an encoded line must be followed by a
    # printable character on that line; readers delete trailing blanks.
    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"Message-ID: <1@example.com>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + body)
    found = [(v.code, v.line, v.column) for v in lint(raw).violations]
    assert found == ([] if column is None else [("E103", 8, column)])
    if column is not None:
        with pytest.raises(ParseError) as exc:
            Message.from_bytes(raw)
        assert exc.value.code == "E103" and "ends in a blank" in str(exc.value)


@pytest.mark.parametrize(("boundary", "bad"), [
    (b"simple", False), (b"x" * 70, False), (b"with space", False),
    (b"'()+_,-./:=?", False),
    # RFC 2046 5.1.1: boundary := 0*69<bchars> bcharsnospace
    (b"x" * 71, True), (b"ends ", True), (b"a@b", True), (b"semi;colon", True),
])
def test_boundary_grammar(boundary: bytes, bad: bool) -> None:
    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"Message-ID: <1@example.com>\r\n"
           b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed;\r\n boundary="' + boundary
           + b'"\r\n\r\n--' + boundary + b"\r\n\r\nhi\r\n--" + boundary + b"--\r\n")
    # (a 70-octet boundary makes lines over 78: S106, a warning)
    found = [v.code for v in lint(raw).violations if v.code != "S106"]
    assert found == (["M103"] if bad else [])


@pytest.mark.parametrize(("fields", "found"), [
    # RFC 5322 3.6.2 and 3.6.3: from = mailbox-list, sender = mailbox,
    # bcc = [address-list / CFWS], to and cc = address-list
    (b"Sender: s@example.com, t@example.com", ["A106"]),
    (b"Sender: G: s@example.com;", ["A106"]),
    (b"Resent-Sender: G: s@example.com;", ["A106"]),
    (b"Resent-Sender: s@example.com, t@example.com", ["A106"]),
    (b"Resent-Bcc:", []), (b"Resent-To:", ["A106"]),
    # RFC 8098 2.1: mailbox *("," mailbox); the list fields take address-lists
    (b"Disposition-Notification-To: G: s@example.com;", ["A106"]),
    (b"Disposition-Notification-To: s@example.com, t@example.com", []),
    (b"Mail-Followup-To: G: s@example.com;, list@example.org", []),
    (b"Mail-Reply-To: not an address", ["A106"]),
    (b"Mail-Followup-To: a..b@example.com", ["A101"]),
    (b"Cc: G: ;", []),
    (b"Bcc:", []), (b"Bcc: (undisclosed)", []),
    (b"To:", ["A106"]), (b"Cc: ,", ["A106", "H110"]), (b"Bcc: ,", ["H110"]),
])
def test_address_fields_hold_what_their_grammar_allows(fields: bytes, found: list[str]) -> None:
    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"Message-ID: <1@example.com>\r\n" + fields
           + b"\r\n\r\nhi\r\n")
    assert [v.code for v in lint(raw).violations] == found


def test_from_takes_no_group() -> None:
    raw = (b"From: Team: a@example.com;\r\nSender: a@example.com\r\n"
           b"Date: Fri, 21 Nov 1997 09:55:06 -0600\r\nMessage-ID: <1@example.com>\r\n\r\nhi\r\n")
    assert [(v.code, v.column) for v in lint(raw).violations] == [("A106", 7)]


@pytest.mark.parametrize(("cte", "found"), [(b"base64", ["M112"]),
                                            (b"quoted-printable", ["M112"]),
                                            (b"7bit", []), (b"8bit", [])])
def test_message_rfc822_is_not_encoded_whole(cte: bytes, found: list[str]) -> None:
    # RFC 2046 5.2.1: only 7bit, 8bit or binary for a message/rfc822 body
    inner = (b"From: b@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
             b"Message-ID: <1@example.com>\r\n\r\ninner\r\n")
    body = inner if cte in (b"7bit", b"8bit") else b"RnJvbTogYkBleGFtcGxlLmNvbQ0K\r\n"
    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"Message-ID: <1@example.com>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n"
           b"Content-Transfer-Encoding: " + cte + b"\r\n\r\n" + body)
    assert [v.code for v in lint(raw).violations] == found


@pytest.mark.parametrize(("disposition", "found"), [
    (b'attachment; filename="a.pdf"', []),
    (b"attachment; filename*=utf-8''caf%C3%A9.pdf", []),
    (b"inline (shown in the body)", []),
    # RFC 2183 2; the parser refused these and the linter did not read the field
    (b'attachment; filename="=?utf-8?q?caf=ZZ?="', ["M103"]),
    (b"att@chment", ["M103"]),
    (b"attachment; filename", ["M103"]),
])
@pytest.mark.parametrize("where", ["top", "part"])
def test_content_disposition_is_read(disposition: bytes, found: list[str], where: str) -> None:
    head = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
            b"Message-ID: <1@example.com>\r\n"
            b"MIME-Version: 1.0\r\n")
    entity = (b"Content-Type: application/octet-stream\r\nContent-Disposition: "
              + disposition + b"\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\n")
    raw = (head + entity if where == "top" else
           head + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + entity
           + b"--b--\r\n")
    assert [v.code for v in lint(raw).violations] == found


@pytest.mark.parametrize(("cid", "found"), [
    (b"<a@b.example>", []), (b"< a @ b.example >", ["H110"]), (b"not-an-id", ["H205"]),
])
def test_a_parts_content_id_is_read(cid: bytes, found: list[str]) -> None:
    # the parser reads a part's Content-ID; the linter read only the message's
    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"Message-ID: <1@example.com>\r\n"
           b'MIME-Version: 1.0\r\nContent-Type: multipart/related; type="text/plain";\r\n'
           b" boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: image/png\r\n"
           b"Content-ID: " + cid + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           b"QUJD\r\n--b--\r\n")
    got = [(v.code, v.part, v.line) for v in lint(raw).violations]
    assert got == [(code, "2", 14) for code in found]


_RELATED_BODY = (b"--b\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--b\r\n"
                 b"Content-Type: image/png\r\nContent-ID: <x@y.example>\r\n"
                 b"Content-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--b--\r\n")


@pytest.mark.parametrize(("params", "says"), [
    (b"", "has no type parameter"),
    (b' type="text/html";', None),
    (b' type="Text/HTML";', None),
    (b' type="text/plain";', "has type='text/plain', but its root part is text/html"),
    # RFC 2387 3.2: start names the root by its Content-ID
    (b' type="image/png"; start="<x@y.example>";', None),
    (b' type="text/html"; start="<x@y.example>";', "its root part is image/png"),
    (b' type="image/png"; start="<z@y.example>";', "which is no part's Content-ID"),
])
def test_multipart_related_type_names_its_root(params: bytes, says: str | None) -> None:
    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"Message-ID: <1@example.com>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/related;" + params
           + b"\r\n boundary=b\r\n\r\n" + _RELATED_BODY)
    found = [v for v in lint(raw).violations if v.code == "M114"]
    if says is None:
        assert found == []
    else:
        assert len(found) == 1 and says in found[0].message
        assert (found[0].line, found[0].header, found[0].severity.value) == (
            5, "Content-Type", "warning")
