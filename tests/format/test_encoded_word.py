import email.header

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailfmt._grammar import FORBIDDEN_IN_VALUE
from mailfmt.format.encoded_word import EncodedWordError, decode_words, encode_words

# RFC 2047 section 8: encoded-word examples and how they display.
RFC2047_SECTION_8 = [
    ("=?ISO-8859-1?Q?a?=", "a"),
    ("=?ISO-8859-1?Q?a?= b", "a b"),
    ("=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=", "ab"),
    ("=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=", "ab"),
    ("=?ISO-8859-1?Q?a?=\t  =?ISO-8859-1?Q?b?=", "ab"),
    ("=?ISO-8859-1?Q?a_b?=", "a b"),
    ("=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=", "a b"),
    ("=?US-ASCII?Q?Keith_Moore?=", "Keith Moore"),
    ("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=", "Keld Jørn Simonsen"),
    ("=?ISO-8859-1?Q?Andr=E9?= Pirard", "André Pirard"),
    ("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?= "
     "=?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
     "If you can read this you understand the example."),
    ("=?ISO-8859-1?Q?Olle_J=E4rnefors?=", "Olle Järnefors"),
    ("=?ISO-8859-1?Q?Patrik_F=E4ltstr=F6m?=", "Patrik Fältström"),
]


@pytest.mark.parametrize(("encoded", "text"), RFC2047_SECTION_8)
def test_rfc2047_section_8(encoded: str, text: str) -> None:
    assert decode_words(encoded) == text


def test_rfc2231_language_suffix() -> None:
    # RFC 2231 section 5: "=?US-ASCII*EN?Q?Keith_Moore?="
    assert decode_words("=?US-ASCII*EN?Q?Keith_Moore?=") == "Keith Moore"


@pytest.mark.parametrize("word", [
    "=?utf-8?q?a=0Ab?=",         # decodes to LF: CVE-2024-6923
    "=?utf-8?q?a=0Db?=",         # CR
    "=?utf-8?b?aGkKQmNjOiB4?=",  # "hi\nBcc: x"
    "=?utf-8?q?a=00b?=",         # NUL
    "=?x-nonsense?q?a?=",        # unknown charset
    "=?utf-8?b?!!!!?=",          # invalid base64
    "=?utf-8?q?=ZZ?=",           # invalid escape
    "=?utf-8?q?=C3?=",           # truncated UTF-8
])
def test_unsafe_or_malformed_words_are_refused(word: str) -> None:
    with pytest.raises(EncodedWordError):
        decode_words(word)


@given(st.text(min_size=1).filter(
    lambda s: not FORBIDDEN_IN_VALUE.search(s) and not any(0xD800 <= ord(c) < 0xE000 for c in s)),
       st.integers(20, 75))
def test_encode_round_trip_and_lengths(text: str, first: int) -> None:
    words = encode_words(text, first)
    assert all(len(w) <= 75 for w in words)
    assert all(w.isascii() and " " not in w for w in words)
    assert decode_words(" ".join(words)) == text
    # The stdlib decoder agrees.
    parts = email.header.decode_header(" ".join(words))
    assert "".join(b.decode(c or "ascii") if isinstance(b, bytes) else b
                   for b, c in parts) == text


def test_first_word_fits_the_room() -> None:
    words = encode_words("é" * 40, 30)
    assert len(words[0]) <= 30
    assert all(len(w) <= 75 for w in words[1:])


def test_charset_names_no_codec_takes_are_word_errors() -> None:
    # A lone surrogate (surrogateescape-decoded bytes) makes codecs.lookup
    # raise UnicodeEncodeError, a ValueError, not LookupError.
    with pytest.raises(EncodedWordError, match="unknown charset"):
        decode_words("=?\udcff?q?x?=")
