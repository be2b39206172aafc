"""Hypothesis: lint never raises; built messages lint clean; a planted defect is
reported with the right rule at the right place."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mailfmt import Message
from mailfmt.lint import lint

from ..strategies import messages


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
    b"Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n", b"Subject: ", b" ", b":", b'"', b"<", b">",
    b"@", b",", b";", b"(", b")", b"x" * 100, b"=", b"=ZZ", b"\r\n.\r\n", b"\n.\n",
])


@given(st.lists(_PIECES, max_size=60).map(b"".join))
def test_never_raises_on_mail_shaped_bytes(data: bytes) -> None:
    lint(data)


@given(messages())
def test_built_messages_lint_clean(msg: Message) -> None:
    report = lint(msg.to_bytes())
    assert report.violations == (), [(v.code, v.message) for v in report.violations]


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
    assert lint(raw, LintConfig(utf8=True)).violations == ()
    if not raw.split(b"\r\n\r\n", 1)[0].isascii():
        assert "E101" in {v.code for v in lint(raw).violations}


def test_utf8_mode_still_reports_invalid_octets() -> None:
    from mailfmt.lint import LintConfig

    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"Subject: caf\xe9\r\n\r\nhi\r\n")
    assert [v.code for v in lint(raw, LintConfig(utf8=True)).violations] == ["E101"]


_B64_HEAD = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
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
        # strict_mode still lets "QUJD=" through; RFC 2045 6.8 counts in fours
        valid = len(joined) % 4 == 0
    except binascii.Error:
        valid = False
    codes = [v.code for v in lint(_B64_HEAD + body).violations if v.code == "E102"]
    assert codes == ([] if valid else ["E102"]), body


_LINE_HEAD = b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n\r\n"


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


def test_bare_lf_past_the_cap_is_counted_exactly() -> None:
    from mailfmt.lint.context import PER_RULE_CAP

    raw = _LINE_HEAD.replace(b"\r\n", b"\n") + b"line\n" * 500 + b"crlf\r\n" + b"cr\r" * 7
    report = lint(raw)
    lf = [v for v in report.violations if v.code == "S102"]
    assert len(lf) == PER_RULE_CAP
    assert [v.offset for v in lf] == [i for i, c in enumerate(raw) if c == 0x0A
                                      and raw[i - 1] != 0x0D][:PER_RULE_CAP]
    assert report.suppressed["S102"] == 2 + 1 + 500 - PER_RULE_CAP
    assert report.counts()["S103"] == 7 and "S103" not in report.suppressed
