"""crlf_lines (mailfmt/_lines.py): the C function and its pure-Python twin
give the same answers, and both the answers an octet-by-octet reading gives."""

from __future__ import annotations

import os

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mailfmt import _lines

try:
    from mailfmt._speedups import crlf_lines as crlf_lines_c
except ImportError:     # no compiler at install time: the pure-Python path only
    crlf_lines_c = None

needs_c = pytest.mark.skipif(crlf_lines_c is None, reason="mailfmt._speedups was not built")

# Line breaks, dots, NUL and letters: every case the function tells apart.
_octets = st.binary(max_size=300) | st.lists(
    st.sampled_from([b"\r", b"\n", b"\r\n", b".", b"\r\n.", b"\x00", b"a", b"\xff", b"x" * 9]),
    max_size=80).map(b"".join)

_EDGES = [b"", b"\r", b"\n", b"\r\n", b".", b"\r\n.", b"\r\r\n", b"\r\n\n", b"\n\r",
          b"a\r\n.\r\n..\r\n", b"\r\n\r\n", b"\x00", b"ab\r\ncd\rx\x00", b"ab\r\ncd\x00\r",
          b"x" * 1000 + b"\r\n" + b"y" * 5, b".a\r\n.b", b"a\r\nb\r"]


def _reference(data: bytes) -> tuple[int, int, int, int, int]:
    """The same answers, octet by octet."""
    bad = -1
    lengths = []
    line = 0
    dots = 0
    for i, octet in enumerate(data):
        crlf_cr = octet == 0x0D and data[i + 1:i + 2] == b"\n"
        crlf_lf = octet == 0x0A and i > line and data[i - 1] == 0x0D
        if bad < 0 and (octet == 0 or (octet == 0x0D and not crlf_cr)
                        or (octet == 0x0A and not crlf_lf)):
            bad = i
        if crlf_lf:
            lengths.append(i - 1 - line)
            line = i + 1
            dots += data[line:line + 1] == b"."
    lengths.append(len(data) - line)
    return bad, lengths[0], lengths[-1], max(lengths), dots


@given(_octets)
def test_python_twin_reads_like_the_reference(data: bytes) -> None:
    assert _lines.crlf_lines_py(data) == _reference(data)


@pytest.mark.parametrize("data", _EDGES)
def test_edges(data: bytes) -> None:
    want = _reference(data)
    assert _lines.crlf_lines_py(data) == want
    if crlf_lines_c is not None:
        assert crlf_lines_c(data) == want


def test_what_the_answers_are() -> None:
    # the CR of "\r\r\n" is bad and belongs to the first line; an LF at the
    # start of a line ends none; a dot after a bare LF starts no line
    assert _reference(b"a\r\r\nb") == (1, 2, 1, 2, 0)
    assert _reference(b"a\r\n\n.b") == (3, 1, 3, 3, 0)
    assert _reference(b"\r\n.\r\n..") == (-1, 0, 2, 2, 2)
    assert _reference(b"ab\x00\r") == (2, 4, 4, 4, 0)


@needs_c
@given(_octets)
@example(b"\r\n\n")
@example(b"a\r")
def test_c_agrees_with_python(data: bytes) -> None:
    assert crlf_lines_c is not None
    assert crlf_lines_c(data) == _lines.crlf_lines_py(data)


@needs_c
def test_c_reads_any_buffer_and_refuses_what_is_not_one() -> None:
    assert crlf_lines_c is not None
    raw = b"ab\r\n.c\n"
    want = _lines.crlf_lines_py(raw)
    assert want == (6, 2, 3, 3, 1)
    assert crlf_lines_c(bytearray(raw)) == want
    assert crlf_lines_c(memoryview(raw)) == want
    with pytest.raises(TypeError):
        crlf_lines_c("text")  # type: ignore[arg-type]


def test_the_accelerator_is_used_when_built() -> None:
    if os.environ.get("MAILFMT_REQUIRE_SPEEDUPS") == "1":
        assert crlf_lines_c is not None, "mailfmt._speedups was not built"
    expected = crlf_lines_c is not None and not os.environ.get("MAILFMT_NO_SPEEDUPS")
    assert expected == _lines.SPEEDUPS
    assert (_lines.crlf_lines is not _lines.crlf_lines_py) == expected
