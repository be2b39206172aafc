"""The line rules (mailfmt/lint/checks/lines.py) at their edges: the words of
their findings, the exact limits, and counts that add up across the spans
the MIME walk proved regular."""

from __future__ import annotations

import base64

from mailfmt.lint import LintConfig, lint

_HEAD = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
         b"Message-ID: <1@example.com>\r\n")


def _found(raw: bytes, *codes: str, config: LintConfig | None = None
           ) -> list[tuple[str, int, str]]:
    return [(v.code, v.offset, v.message) for v in lint(raw, config).violations
            if v.code in codes]


def test_long_lines_say_where_they_are_and_how_long() -> None:
    header = b"X-Note: " + b"n" * 92 + b"\r\n"
    raw = _HEAD + header + b"\r\n" + b"b" * 1203 + b"\r\n" + b"c" * 80 + b"\r\n"
    body = len(_HEAD + header) + 2
    assert _found(raw, "S101", "S106") == [
        ("S106", len(_HEAD) + 78, "A header line is 100 octets long (should be at most 78)"),
        ("S101", body + 998, "A body line is 1203 octets long (max 998)"),
        ("S106", body + 1205 + 78, "A body line is 80 octets long (should be at most 78)"),
    ]


def test_998_octets_is_the_longest_line_that_is_no_error() -> None:
    at = len(_HEAD) + 2
    assert _found(_HEAD + b"\r\n" + b"x" * 998 + b"\r\n", "S101", "S106") == [
        ("S106", at + 78, "A body line is 998 octets long (should be at most 78)")]
    assert _found(_HEAD + b"\r\n" + b"x" * 999 + b"\r\n", "S101", "S106") == [
        ("S101", at + 998, "A body line is 999 octets long (max 998)")]


def test_a_wider_warning_limit_is_the_one_reported() -> None:
    raw = _HEAD + b"\r\n" + b"x" * 101 + b"\r\n" + b"y" * 100 + b"\r\n"
    assert _found(raw, "S106", config=LintConfig(line_length=100)) == [
        ("S106", len(_HEAD) + 2 + 100, "A body line is 101 octets long (should be at most 100)")]


def test_utf8_mode_counts_characters_on_every_line() -> None:
    # 78 characters in 156 octets is within the limit with SMTPUTF8; the
    # 79-character line after it is still read and reported.
    e78, e79 = "é".encode() * 78, "é".encode() * 79
    raw = _HEAD + b"\r\n" + e78 + b"\r\n" + e79 + b"\r\n"
    at = len(_HEAD) + 2 + len(e78) + 2
    assert _found(raw, "S106", config=LintConfig(utf8=True)) == [
        ("S106", at + len("é".encode()) * 78,
         "A body line is 79 characters long (should be at most 78)")]


def _with_two_base64_parts(text: bytes) -> bytes:
    """A message whose two attachments are regular base64 (spans the walk
    proves and the line rules only count), with ``text`` in the part before
    them."""
    # Over 100 lines each: a count that strays shows past the per-rule cap.
    b64 = base64.encodebytes(bytes(range(256)) * 30).replace(b"\n", b"\r\n")
    att = (b"--b\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n" + b64)
    return (_HEAD + b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
            b"--b\r\nContent-Type: text/plain\r\n\r\n" + text + b"\r\n"
            + att + att + b"--b--\r\n")


def test_bare_line_endings_are_counted_across_proven_spans() -> None:
    clean = _with_two_base64_parts(b"one\r\ntwo")
    assert lint(clean).violations == ()
    text = b"line\r\n" * 120 + b"x" * 90 + b"\r\none\ntwo\nthree\rfour\rfive\nsix"
    raw = _with_two_base64_parts(text)
    lf = [i for i, c in enumerate(raw) if c == 0x0A and raw[i - 1] != 0x0D]
    cr = [i for i, c in enumerate(raw) if c == 0x0D and raw[i + 1] != 0x0A]
    report = lint(raw)
    assert [v.offset for v in report.violations if v.code == "S102"] == lf
    assert [v.offset for v in report.violations if v.code == "S103"] == cr
    assert (len(lf), len(cr)) == (3, 2)
    assert [v.offset for v in report.violations if v.code == "S106"] == [
        raw.index(b"x" * 90) + 78]
    assert not report.suppressed


def test_one_crlf_among_bare_lf_endings_is_not_reported() -> None:
    raw = (_HEAD + b"\r\n").replace(b"\r\n", b"\n") + b"a\nb\r\nc\n"
    lf = [i for i, c in enumerate(raw) if c == 0x0A and raw[i - 1] != 0x0D]
    assert [v.offset for v in lint(raw).violations if v.code == "S102"] == lf
    assert len(lf) == raw.count(b"\n") - 1


def test_every_nul_is_reported_where_it_is() -> None:
    raw = _HEAD + b"\r\nab\x00cd\r\nef\x00\r\n"
    at = len(_HEAD) + 2
    assert _found(raw, "S104") == [("S104", at + 2, "a NUL octet at line 5"),
                                   ("S104", at + 9, "a NUL octet at line 6")]


def test_a_smuggling_sequence_is_named_as_the_rfcs_write_it() -> None:
    raw = _HEAD + b"\r\nhello\n.\nMAIL FROM:<x@example.com>\r\n"
    assert _found(raw, "S107") == [
        ("S107", len(_HEAD) + 7,
         "a non-standard end-of-data sequence <LF>.<LF> at line 5")]
