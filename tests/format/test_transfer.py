import binascii

from hypothesis import given
from hypothesis import strategies as st

from mailfmt.format.transfer import (
    b64_lines,
    choose_text_encoding,
    decode_base64,
    decode_qp,
    encode_qp,
    normalize_newlines,
)


def test_newlines_normalised_to_crlf() -> None:
    assert normalize_newlines("a\nb\rc\r\nd") == "a\r\nb\r\nc\r\nd"


def test_short_ascii_stays_7bit() -> None:
    assert choose_text_encoding(b"hello\r\n", allow_8bit=False, max_line=78) == \
        ("7bit", b"hello\r\n")


def test_long_line_is_encoded() -> None:
    cte, body = choose_text_encoding(b"x" * 1000, allow_8bit=False, max_line=78)
    assert cte == "quoted-printable"
    assert max(map(len, body.split(b"\r\n"))) <= 76


def test_mostly_binary_prefers_base64() -> None:
    cte, _ = choose_text_encoding("日本語のテキスト".encode() * 20, allow_8bit=False, max_line=78)
    assert cte == "base64"


def test_8bit_only_when_allowed() -> None:
    data = "café\r\n".encode()
    assert choose_text_encoding(data, allow_8bit=True, max_line=78)[0] == "8bit"
    assert choose_text_encoding(data, allow_8bit=False, max_line=78)[0] == "quoted-printable"


def test_nul_is_never_sent_raw() -> None:
    cte, body = choose_text_encoding(b"a\x00b", allow_8bit=True, max_line=78)
    assert cte in ("quoted-printable", "base64")
    assert b"\x00" not in body


def test_qp_trailing_whitespace_lines_stay_within_76() -> None:
    # binascii.b2a_qp alone writes 77 characters here.
    assert len(binascii.b2a_qp(b" " * 600 + b"\r\n", istext=True).split(b"\r\n")[-2]) > 76
    out = encode_qp(b" " * 600 + b"\r\n")
    assert max(map(len, out.split(b"\r\n"))) <= 76
    assert decode_qp(out) == b" " * 600 + b"\r\n"


@given(st.lists(st.sampled_from([b"a", b" ", b"\t", b"\r\n", b"=", b".", b"\xc3\xa9", b"\x00",
                                 b"x" * 90]), max_size=200).map(b"".join))
def test_qp_round_trip_and_shape(data: bytes) -> None:
    out = encode_qp(data)
    assert out.isascii()
    assert b"\n" not in out.replace(b"\r\n", b"")
    assert max(map(len, out.split(b"\r\n"))) <= 76
    # No line ends in whitespace (RFC 2045 6.7 rule 3).
    assert not any(line.endswith((b" ", b"\t")) for line in out.split(b"\r\n"))
    assert decode_qp(out) == data


@given(st.binary(max_size=3000))
def test_base64_round_trip(data: bytes) -> None:
    out = b64_lines(data)
    assert all(len(line) <= 76 for line in out.split(b"\r\n"))
    assert decode_base64(out) == data


def test_strict_base64_refuses_garbage() -> None:
    import pytest

    for bad in (b"not*base64", b"YWJj=", b"YQ"):
        with pytest.raises(ValueError):
            decode_base64(bad)
