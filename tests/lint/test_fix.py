"""mailfmt fmt: conforming output, idempotent, and it never changes what the
message says (the stdlib parser is the oracle)."""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mailfmt import Message
from mailfmt.lint import lint
from mailfmt.lint.fix import fix

from ..strategies import messages

FIXTURES = Path(__file__).parent / "fixtures"


def meaning(raw: bytes) -> list[object]:
    """What a reader sees: decoded header values and decoded part contents."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out: list[object] = []
    for part in msg.walk():
        out.append(sorted((k.lower(), " ".join(str(v).split())) for k, v in part.items()
                          if k.lower() not in ("content-transfer-encoding", "mime-version",
                                               "content-type")))
        out.append(part.get_content_type())
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            if part.get_content_maintype() == "text":
                # The same lines, whichever way they end: fmt makes them CRLF.
                payload = re.sub(rb"\r\n|\r|\n", b"\n", payload)
            out.append(payload)
    return out


def mangle(raw: bytes, how: str) -> bytes:
    head, _, body = raw.partition(b"\r\n\r\n")
    if how == "lf":
        return raw.replace(b"\r\n", b"\n")
    if how == "unfold":
        return head.replace(b"\r\n ", b" ").replace(b"\r\n\t", b"\t") + b"\r\n\r\n" + body
    if how == "8bit-subject":
        return raw.replace(b"\r\nMessage-ID:", "\r\nX-Note: Grüße aus Köln\r\nMessage-ID:"
                           .encode(), 1)
    if how == "8bit-name":
        field = '\r\nResent-To: Zoë Brown <zoe@example.org>, "Ünï, Côde" <u@example.com>, ' \
                'Team Ü: a@example.com;\r\nMessage-ID:'
        return raw.replace(b"\r\nMessage-ID:", field.encode(), 1)
    return raw


@given(messages(), st.sampled_from(["lf", "unfold", "8bit-subject", "8bit-name", "none"]))
def test_fix_keeps_meaning_and_is_idempotent(msg: Message, how: str) -> None:
    bad = mangle(msg.to_bytes(), how)
    result = fix(bad)
    assert meaning(result.data) == meaning(bad)
    assert fix(result.data).data == result.data
    # A108 is about the names the caller shows: fmt never changes what they say.
    assert not [v for v in lint(result.data).violations
                if v.severity.value != "info" and v.code != "A108"]


def test_encodes_display_names_in_address_fields_and_nothing_else() -> None:
    """RFC 2047 5 (3): a non-ASCII display name becomes encoded words; the
    addr-specs stay as written. A field whose rewrite could change what it
    says (a comment, a non-ASCII address, syntax the strict reader refuses)
    is left, with a note."""
    head = ('From: José Núñez <J.Doe@Example.COM>\r\n'
            'To: "Zoë, B" <z@example.org>, Team Ü: a@example.com, Ann <a2@example.com>;\r\n'
            'Date: Fri, 21 Nov 1997 09:55:06 -0600\r\nMessage-ID: <1@example.com>\r\n')
    raw = (head + "\r\nhi\r\n").encode()
    result = fix(raw)
    assert result.data.startswith(
        b"From: =?utf-8?b?Sm9zw6kgTsO6w7Fleg==?= <J.Doe@Example.COM>\r\n"
        b"To: =?utf-8?b?Wm/DqywgQg==?= <z@example.org>, =?utf-8?q?Team_=C3=9C?= :\r\n"
        b" a@example.com, Ann <a2@example.com>;\r\n")
    assert meaning(result.data) == meaning(raw)
    assert lint(result.data).violations == ()
    assert fix(result.data).data == result.data
    for field, note in (("Cc: x@example.com (Jösé)", "a comment"),
                        ("Cc: Zoë =?utf-8?q?B?= <z@example.com>", "encoded words"),
                        ("Cc: Zoë <zoë@example.com>", "needs SMTPUTF8"),
                        ("Cc: Zoë <z@example.com", "does not parse"),
                        # an addr-spec no fold can bring under 998 octets: fix
                        # raised RuleError (S101) on it
                        ("Cc: Zoë <" + "a" * 1000 + "@example.com>", "too long to fold")):
        kept = (head + field + "\r\n\r\nhi\r\n").encode()
        out = fix(kept)
        assert field.encode() + b"\r\n" in out.data
        assert any(n.startswith("Cc: ") and note in n for n in out.notes), (field, out.notes)
        assert "E101" in {v.code for v in out.remaining}


def test_fixes_the_fixable_fixtures() -> None:
    for code in ("S102", "S103", "S106", "E101", "E106", "S101"):
        raw = (FIXTURES / f"{code}.eml").read_bytes()
        result = fix(raw)
        assert result.changed
        assert code not in {v.code for v in lint(result.data).violations}, code
        assert meaning(result.data) == meaning(raw), code


def test_leaves_what_it_cannot_fix_and_reports_it() -> None:
    raw = (FIXTURES / "A106.eml").read_bytes()
    result = fix(raw)
    assert not result.changed
    assert [v.code for v in result.remaining] == ["A106"]


def test_stdlib_generated_mail_with_long_lines() -> None:
    m = EmailMessage()
    m["From"] = "a@example.com"
    m["To"] = ", ".join(f"user{i}@example.com" for i in range(30))
    m["Subject"] = "x"
    m.set_payload("y" * 3000)  # the stdlib writes this as one 3000-octet line
    raw = m.as_bytes()
    result = fix(raw)
    assert max(map(len, result.data.split(b"\r\n"))) <= 998
    assert meaning(result.data) == meaning(raw)


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "mailfmt.cli", "fmt", *args],
                          capture_output=True, check=False)


def test_cli_check_diff_and_write(tmp_path: Path) -> None:
    f = tmp_path / "m.eml"
    original = (FIXTURES / "S102.eml").read_bytes()
    f.write_bytes(original)
    res = run(str(f), "--check")
    assert res.returncode == 1 and b"would reformat" in res.stdout
    assert f.read_bytes() == original
    diff = run(str(f), "--diff")
    assert diff.returncode == 1
    assert diff.stdout.startswith(f"--- {f}\t(original)\n+++ {f}\t(formatted)\n".encode())
    assert f.read_bytes() == original
    assert run(str(f)).returncode == 0
    assert f.read_bytes() != original and b"\n" not in f.read_bytes().replace(b"\r\n", b"")
    again = run(str(f), "--check")
    assert again.returncode == 0 and again.stdout == b""


def test_cli_fixes_stdin_to_stdout() -> None:
    raw = b"From: a@example.com\nDate: Fri, 21 Nov 1997 09:55:06 -0600\n\n" + b"x " * 60 + b"\n"
    res = subprocess.run([sys.executable, "-m", "mailfmt.cli", "fmt", "-"], input=raw,
                         capture_output=True, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout == fix(raw).data != raw
    check = subprocess.run([sys.executable, "-m", "mailfmt.cli", "fmt", "--check", "-"],
                           input=raw, capture_output=True, check=False)
    assert (check.returncode, check.stdout) == (1, b"would reformat -\n")
    both = run("-", str(FIXTURES / "clean.eml"))
    assert both.returncode == 2 and b"goes alone" in both.stderr


def test_cli_unfixable_exits_1_with_report(tmp_path: Path) -> None:
    f = tmp_path / "m.eml"
    f.write_bytes((FIXTURES / "A106.eml").read_bytes())
    res = run(str(f))
    assert res.returncode == 1
    assert b"A106 invalid-address-list" in res.stderr


def test_cli_says_once_what_it_left(tmp_path: Path) -> None:
    f = tmp_path / "m.eml"
    f.write_bytes(b"From: a@example.com\r\nnot a field\r\n\r\nhi\r\n")
    res = run(str(f), "--check")
    notes = [ln for ln in res.stderr.decode().splitlines() if "left as it is" in ln]
    assert notes == [f"{f}: the header section has lines that are not fields: "
                     "left as it is"]


def test_an_empty_part_stays_empty() -> None:
    # The CRLF before the closing delimiter ends the part's own opening
    # delimiter line: it is not a blank line of the part, nor its body.
    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
           b"--b\r\n--b\r\n\r\nhi\r\n--b--\r\n")
    assert fix(raw).data == raw
    assert fix(raw.replace(b"\r\n", b"\n")).data == raw


def test_a_refold_that_would_not_shorten_the_longest_line_is_left() -> None:
    # Found by fuzzing: the first pass encodes the 8-bit text and folds at
    # every blank; the second reads "(..." as a comment it may not break,
    # and used to undo a fold there.
    raw = (b"X-Note:  caf\xc3\xa9 (" + b"x" * 100 + b"Content-Transfer-Encoding: 8bit\r\n"
           b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n\r\nhi\r\n")
    once = fix(raw).data
    assert once != raw
    assert fix(once).data == once


_PIECES = st.sampled_from([
    b"From: a@example.com\r\n", b"Content-Type: multipart/mixed; boundary=b\r\n",
    b"--b\r\n", b"--b--\r\n", b"\r\n", b"\n", b"\r", b"\x00", b"caf\xc3\xa9", b"\xff",
    b"Content-Transfer-Encoding: 8bit\r\n", b"Subject: ", b" ", b"\t", b":", b'"', b"(",
    b")", b"x" * 100, b"=?utf-8?q?=0A?=", b"X-A: ",
])


@given(st.lists(_PIECES, max_size=40).map(b"".join))
def test_fix_is_idempotent_on_mail_shaped_bytes(data: bytes) -> None:
    once = fix(data).data
    assert fix(once).data == once


_HEAD = b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"


def _new_errors(raw: bytes) -> set[str]:
    before = {v.code for v in lint(raw).violations if v.severity.value == "error"}
    return {v.code for v in fix(raw).remaining} - before


def test_non_ascii_in_a_date_or_msg_id_is_left() -> None:
    # RFC 2047 5: no encoded word in a date-time or a msg-id.
    for field in (b"Date: Fri\xc3\xa9, 21 Nov 1997 09:55:06 -0600\r\n",
                  b"References: <a\xc3\xa9@example.com>\r\n"):
        raw = b"From: a@example.com\r\n" + field + b"\r\nhi\r\n"
        result = fix(raw)
        assert field in result.data
        assert not _new_errors(raw)


def test_a_control_character_is_not_hidden_in_an_encoded_word() -> None:
    raw = _HEAD + b"X-Note: caf\xc3\xa9 \x01 x\r\n\r\nhi\r\n"
    assert b"X-Note: caf\xc3\xa9 \x01 x\r\n" in fix(raw).data
    assert not _new_errors(raw)
    # U+2028 is a line break to some converters (see FORBIDDEN_IN_VALUE).
    raw = _HEAD + "Subject: caf\u00e9 \u2028 x\r\n\r\nhi\r\n".encode()
    assert fix(raw).data == raw


def test_a_control_character_is_no_place_to_fold() -> None:
    # Found by fuzzing: Python counts U+001E as whitespace, so the refold
    # broke the line there, and the next line, starting with it, ended the
    # header section.
    raw = _HEAD + (b"MIME-Version: 1.0\r\nContent-Type: text/plain;" + b"\x1e" * 49
                   + b" charset=us-ascii\r\n\r\nHello.\r\n")
    assert fix(raw).data == raw
    assert not _new_errors(raw)


def test_the_first_content_type_counts_as_for_the_linter() -> None:
    # The linter's MIME walk reads the first field of a name; so does fmt,
    # which used to re-encode this body by the second one, as a text part.
    raw = (b"Content-Type: multipart/mixed; boundary=b\r\n" + _HEAD +
           b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\ncaf\xc3\xa9\r\n")
    assert not _new_errors(raw)


_CLEAN_PIECES = st.sampled_from([
    b"From: a@example.com\r\n", b"Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n",
    b"Content-Type: multipart/mixed; boundary=b\r\n", b"Content-Type: text/plain\r\n",
    b"Content-Transfer-Encoding: 8bit\r\n", b"Content-Transfer-Encoding: base64\r\n",
    b"--b\r\n", b"--b--\r\n", b"\r\n", b"\x00", b"\x01", b"\x1e", b"caf\xc3\xa9", b"\xff",
    b"Subject: ", b"X-A: ", b"Message-ID: ", b"<a@b>", b" ", b"\t", b":", b'"', b"(",
    b"x" * 100, b"=?utf-8?q?=0A?=", b"=ZZ",
])


@given(st.lists(_CLEAN_PIECES, max_size=40).map(b"".join))
def test_fix_adds_no_error_to_a_message_with_crlf_lines(data: bytes) -> None:
    # With every line ended by CRLF, fix keeps the lines the linter reads:
    # whatever it changes must not bring an error that was not there.
    assert not _new_errors(data)


def test_a_field_with_blanks_before_its_colon_leaves_the_section_alone() -> None:
    # The stdlib takes "Name :" for the start of the body; a rewrite around
    # it (folding, adding MIME fields) would change what it reads.
    raw = (b"X-Odd :" + b" word" * 20 + b"\r\n" + _HEAD + b"\r\ncaf\xc3\xa9\r\n")
    result = fix(raw)
    assert result.data == raw
    assert meaning(result.data) == meaning(raw)


def test_encoded_words_next_to_8bit_text_are_not_encoded_again() -> None:
    # Encoding the whole value would make "=?utf-8?q?x?=" literal text for
    # a reader that decoded it before.
    raw = _HEAD + b"Subject: caf\xc3\xa9 =?utf-8?q?x?=\r\n\r\nhi\r\n"
    result = fix(raw)
    assert b"Subject: caf\xc3\xa9 =?utf-8?q?x?=\r\n" in result.data
    assert meaning(result.data) == meaning(raw)


def test_a_first_word_too_long_for_the_line_stays_on_the_field_line() -> None:
    # Moved after a fold, it would read with a blank in front (CPython does).
    raw = _HEAD + b"Subject: " + b"F" * 75 + b" caf\xc3\xa9\r\n\r\nhi\r\n"
    result = fix(raw)
    assert b"Subject: " + b"F" * 75 + b"\r\n =?utf-8?" in result.data
    assert meaning(result.data) == meaning(raw)


@given(st.lists(_CLEAN_PIECES, max_size=40).map(b"".join))
def test_fix_keeps_what_the_stdlib_reads_in_a_message_with_crlf_lines(data: bytes) -> None:
    out = fix(data).data
    try:
        before = meaning(data)
    except Exception:  # the oracle cannot read every byte string
        return
    assert meaning(out) == before


def test_a_forwarded_message_is_fixed_as_a_message_never_encoded() -> None:
    # RFC 2046 5.2.1: message/rfc822 is 7bit, 8bit or binary; base64 would be
    # M112. Its long line and its 8-bit body are fixed inside it instead.
    inner = (b"From: c@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
             b"Subject: inner\r\n\r\n" + b"word " * 30 + b"\r\ncaf\xc3\xa9\r\n")
    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"Message-ID: <1@example.com>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nfwd\r\n--b\r\n"
           b"Content-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--b--\r\n")
    out = fix(raw).data
    assert b"Content-Type: message/rfc822\r\n\r\nFrom: c@example.com\r\n" in out
    assert [v.code for v in lint(out).violations] == []
    assert meaning(out) == meaning(raw)
    assert fix(out).data == out


def test_parts_nested_past_the_cap_are_left_without_an_error() -> None:
    inner = b"Content-Type: text/plain\r\n\r\nleaf"
    for i in range(3000):
        b = b"n%d" % i
        inner = (b'Content-Type: multipart/mixed; boundary="' + b + b'"\r\n\r\n--' + b
                 + b"\r\n" + inner + b"\r\n--" + b + b"--")
    raw = b"From: a@example.com\r\nMIME-Version: 1.0\r\n" + inner + b"\r\n"
    result = fix(raw)      # it raised RecursionError
    assert "parts nested deeper than 32: left as they are" in result.notes
    assert "M101" in [v.code for v in result.remaining]


def _subject(value: bytes) -> bytes:
    return (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
            b"Message-ID: <1@example.com>\r\nSubject: " + value + b"\r\n\r\nhi\r\n")


def test_encoded_words_readers_read_past_are_written_again() -> None:
    # A character split across two words (RFC 2047 5 forbids it; the stdlib
    # joins the octets), and a word over 75 characters (RFC 2047 2).
    split = _subject(b"Re: =?utf-8?q?caf=C3?= =?utf-8?q?=A9_au_lait?= tomorrow")
    long = _subject(b"=?utf-8?q?" + b"caf=C3=A9_" * 8 + b"?=")
    for raw in (split, long):
        assert {v.code for v in lint(raw).violations} & {"E107", "E109"}
        out = fix(raw)
        assert not lint(out.data).violations, lint(out.data).violations
        assert meaning(out.data) == meaning(raw)
        assert fix(out.data).data == out.data
    assert b"Subject: Re: =?utf-8?b?Y2Fmw6k=?= au lait tomorrow\r\n" in fix(split).data


def test_a_word_that_does_not_decode_even_joined_is_left() -> None:
    raw = _subject(b"=?x-unknown?q?abc?= and =?utf-8?q?caf=C3?=")
    out = fix(raw)
    assert out.data == raw
    assert out.notes == ["Subject: an encoded word that does not decode (unknown charset "
                         "'x-unknown'): left as it is"]
