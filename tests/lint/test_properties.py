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
