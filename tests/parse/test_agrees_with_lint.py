"""Message.from_bytes accepts only what lints without an error: the models
could not have written anything else."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailfmt import Message, ParseError, Policy
from mailfmt.lint import lint

FIXTURES = sorted((Path(__file__).parent.parent / "lint" / "fixtures").glob("*.eml"))
CLEAN = (Path(__file__).parent.parent / "lint" / "fixtures" / "clean.eml").read_bytes()


def _errors(raw: bytes) -> list[str]:
    return [v.code for v in lint(raw).violations if v.severity.value == "error"]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_is_accepted_exactly_when_it_lints_without_error(path: Path) -> None:
    raw = path.read_bytes()
    errors = _errors(raw)
    try:
        Message.from_bytes(raw)
    except ParseError:
        assert errors, "refused, yet the linter finds no error"
    else:
        assert not errors, f"accepted, yet the linter finds {errors}"


HEAD = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
        b"MIME-Version: 1.0\r\n")


@pytest.mark.parametrize(("raw", "code", "line", "says"), [
    # Each of these used to be read: the reader had no rule for it.
    (HEAD + b"\r\n" + b"x" * 1200 + b"\r\n", "S101", 5, "1200 octets long"),
    (HEAD + b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64"
     b"\r\n\r\n" + b"QUJD" * 25 + b"\r\n", "E111", 7, "100 characters long"),
    (HEAD.replace(b"MIME-Version: 1.0\r\n", b"") + b"Content-Type: text/plain\r\n\r\nhi\r\n",
     "M111", 3, "no MIME-Version"),
    (HEAD + b'To: "=?utf-8?q?Bob?=" <bob@example.org>\r\n\r\nhi\r\n', "E110", 4,
     "quoted string"),
    (HEAD + b"Subject: =?utf-8?q?" + b"a" * 70 + b"?=\r\n\r\nhi\r\n", "E109", 4,
     "characters long"),
])
def test_a_lint_error_is_refused_as_the_linter_reports_it(raw: bytes, code: str, line: int,
                                                          says: str) -> None:
    with pytest.raises(ParseError) as exc:
        Message.from_bytes(raw)
    found = next(v for v in lint(raw).violations if v.code == code)
    assert (exc.value.code, exc.value.line, exc.value.offset) == (code, line, found.offset)
    assert says in exc.value.message and exc.value.message == found.message


@given(st.integers(0, len(CLEAN)), st.binary(min_size=1, max_size=8),
       st.integers(0, 8))
def test_whatever_is_accepted_lints_without_error(at: int, insert: bytes, cut: int) -> None:
    raw = CLEAN[:at] + insert + CLEAN[at + cut:]
    try:
        Message.from_bytes(raw)
    except ParseError:
        return
    assert not _errors(raw)


def _cpython_messages() -> list[Path]:
    """CPython's own email test messages (Lib/test/test_email/data), where
    the interpreter ships its test package: mail of many mailers and eras."""
    try:
        import test
    except ImportError:     # pragma: no cover - distributions that strip it
        return []
    return sorted((Path(test.__file__).parent / "test_email" / "data").glob("msg_*.txt"))


_CPYTHON_MESSAGES = _cpython_messages()
# The models cannot hold these, though they lint clean of errors: an address
# at a special-use domain (.local), which email-validator refuses.
_CANNOT_HOLD = {"msg_26.txt"}


@pytest.mark.skipif(not _CPYTHON_MESSAGES,
                    reason="this Python has no test package (Lib/test/test_email/data)")
@pytest.mark.parametrize("path", _CPYTHON_MESSAGES, ids=lambda p: p.name)
def test_cpython_test_mail_that_lints_clean_is_read(path: Path) -> None:
    # Stored with LF line ends: made CRLF, as they travel.
    raw = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if _errors(raw) or path.name in _CANNOT_HOLD:
        return
    msg = Message.from_bytes(raw, policy=Policy(test_environment=True))
    assert Message.from_bytes(msg.to_bytes(), policy=Policy(test_environment=True)) == msg
