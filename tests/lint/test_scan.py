"""The line scanner (mailfmt/lint/_scan.py): its C accelerator and its
pure-Python twin give the same answers, and both the answers a plain line by
line reading gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mailfmt.lint import _scan, lint, plain
from mailfmt.lint.checks import lines as line_checks

from ..strategies import messages

FIXTURES = Path(__file__).parent / "fixtures"

try:
    from mailfmt._speedups import scan_lines as scan_lines_c
except ImportError:     # no compiler at install time: the pure-Python path only
    scan_lines_c = None

needs_c = pytest.mark.skipif(scan_lines_c is None, reason="mailfmt._speedups was not built")

# Line breaks, NUL and a letter: every case the scanner tells apart.
_octets = st.binary(max_size=300) | st.lists(
    st.sampled_from([b"\r", b"\n", b"\r\n", b"\x00", b"a", b"bb", b"\xff", b"x" * 9]),
    max_size=80).map(b"".join)


def _reference(data: bytes, start: int, end: int,
               limit: int) -> tuple[int, int, int, list[tuple[int, int]]]:
    """The same answers, octet by octet."""
    start = max(start, 0)
    end = max(min(end, len(data)), start)
    lf = cr = crlf = 0
    longs = []
    line = start
    for i in range(start, end):
        if data[i] == 0x0D:
            cr += 1
        elif data[i] == 0x0A:
            lf += 1
            crlf += i > start and data[i - 1] == 0x0D
            n = i - line - (i > line and data[i - 1] == 0x0D)
            if n > limit:
                longs.append((line, n))
            line = i + 1
    n = end - line - (end > line and data[end - 1] == 0x0D)
    if n > limit:
        longs.append((line, n))
    return lf, cr, crlf, longs


@given(_octets, st.integers(-3, 310), st.integers(-3, 310), st.integers(-1, 12))
@example(b"ab\r\nxxxxx\ncd\r", 0, 99, 4)
@example(b"a\r\nb", 0, 2, 0)           # the span ends between CR and LF
@example(b"\r\n", 1, 2, 0)             # and starts between them
@example(b"abc", 2, 1, 0)              # an empty span
@example(b"", 0, 0, -1)                # an empty line over a limit below zero
@example(b"\r\n\r", 2, 3, 0)            # a CRLF before the span is not the span's
def test_python_scanner_reads_like_the_reference(data: bytes, start: int, end: int,
                                                 limit: int) -> None:
    assert _scan.scan_lines_py(data, start, end, limit) == _reference(data, start, end, limit)


@needs_c
@given(_octets, st.integers(-3, 310), st.integers(-3, 310), st.integers(-1, 12))
@example(b"a\r\nb", 0, 2, 0)
@example(b"\r\n", 1, 2, 0)
@example(b"abc", 2, 1, 0)
@example(b"", 0, 0, -1)
@example(b"\r\n\r", 2, 3, 0)
def test_c_scanner_agrees_with_python(data: bytes, start: int, end: int, limit: int) -> None:
    assert scan_lines_c is not None
    assert scan_lines_c(data, start, end, limit) == _scan.scan_lines_py(data, start, end, limit)


@needs_c
def test_c_scanner_reads_any_buffer_and_refuses_what_is_not_one() -> None:
    assert scan_lines_c is not None
    raw = b"ab\r\n" + b"x" * 100 + b"\n"
    want = _scan.scan_lines_py(raw, 0, len(raw), 78)
    assert want == (2, 1, 1, [(4, 100)])
    assert scan_lines_c(bytearray(raw), 0, len(raw), 78) == want
    assert scan_lines_c(memoryview(raw), 0, len(raw), 78) == want
    with pytest.raises(TypeError):
        scan_lines_c("text", 0, 4, 78)  # type: ignore[arg-type]


def test_the_accelerator_is_used_when_built() -> None:
    # CI builds it and sets MAILFMT_REQUIRE_SPEEDUPS: a build that silently
    # fell back to pure Python would go unnoticed otherwise.
    # So does the plain-header proof's (tests/lint/test_plain.py).
    if os.environ.get("MAILFMT_REQUIRE_SPEEDUPS") == "1":
        assert scan_lines_c is not None, "mailfmt._speedups was not built"
    expected = scan_lines_c is not None and not os.environ.get("MAILFMT_NO_SPEEDUPS")
    assert expected == _scan.SPEEDUPS == plain.SPEEDUPS
    assert (plain.prove_section is not plain.match_section) == expected


def test_no_speedups_variable_selects_pure_python() -> None:
    code = ("from mailfmt.lint import _scan, plain; print(_scan.SPEEDUPS, plain.SPEEDUPS, "
            "_scan.scan_lines.__module__, plain.prove_section.__name__)")
    env = {**os.environ, "MAILFMT_NO_SPEEDUPS": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["False", "False", "mailfmt.lint._scan", "match_section"]


def _with_python_scanner(raw: bytes) -> list[tuple[str, int, str]]:
    saved = line_checks.scan_lines
    line_checks.scan_lines = _scan.scan_lines_py
    try:
        return [(v.code, v.offset, v.message) for v in lint(raw).violations]
    finally:
        line_checks.scan_lines = saved


def _same(raw: bytes) -> None:
    got = [(v.code, v.offset, v.message) for v in lint(raw).violations]
    assert got == _with_python_scanner(raw)


@needs_c
@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.eml")), ids=lambda p: p.stem)
def test_lint_findings_do_not_depend_on_the_scanner(path: Path) -> None:
    _same(path.read_bytes())


@needs_c
@given(messages(), st.lists(st.tuples(st.integers(0, 10_000),
                                      st.sampled_from([b"\n", b"\r", b"\x00", b"x" * 90])),
                            max_size=4))
def test_lint_findings_do_not_depend_on_the_scanner_on_damaged_messages(
        msg: object, damage: list[tuple[int, bytes]]) -> None:
    raw = msg.to_bytes()  # type: ignore[attr-defined]
    for at, octets in damage:
        at %= len(raw) + 1
        raw = raw[:at] + octets + raw[at:]
    _same(raw)
