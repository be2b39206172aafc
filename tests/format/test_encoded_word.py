import email.header
import email.policy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailfmt import Address, Message
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


@pytest.mark.parametrize(("word", "reason"), [
    ("=?utf-8?q?a=0Ab?=", "decodes to a control character or line break"),  # CVE-2024-6923
    ("=?utf-8?q?a=0Db?=", "decodes to a control character or line break"),  # CR
    ("=?utf-8?b?aGkKQmNjOiB4?=", "decodes to a control character or line break"),  # "hi\nBcc: x"
    ("=?utf-8?q?a=00b?=", "decodes to a control character or line break"),  # NUL
    ("=?x-nonsense?q?a?=", "unknown charset 'x-nonsense'"),
    ("=?utf-8?b?!!!!?=", "invalid base64 text"),
    ("=?utf-8?q?=ZZ?=", "'=' not followed by two hex digits"),
    ("=?utf-8?q?=C3?=", "text is not valid utf-8"),    # truncated UTF-8
])
def test_unsafe_or_malformed_words_are_refused(word: str, reason: str) -> None:
    # The parser and the linter report the word and the reason: both are kept.
    with pytest.raises(EncodedWordError) as exc:
        decode_words(f"Re: {word} x")
    assert (exc.value.word, exc.value.reason, str(exc.value)) == (word, reason, reason)


def test_lower_case_hex_in_q_words() -> None:
    # RFC 2047 4.2 writes upper case; readers take both, as the stdlib does.
    assert decode_words("=?utf-8?q?caf=c3=a9?=") == "café"


def test_a_character_split_across_words() -> None:
    # RFC 2047 5 forbids it: refused, unless the caller reads as readers do.
    split = "=?utf-8?q?caf=C3?= =?utf-8?q?=A9_au_lait?="
    with pytest.raises(EncodedWordError, match="text is not valid utf-8"):
        decode_words(split)
    assert decode_words(split, join_split=True) == "café au lait"


def test_joined_words_keep_their_own_charsets() -> None:
    # Only adjacent words in one charset are decoded together.
    assert decode_words("=?utf-8?q?caf=C3=A9?= =?iso-8859-1?q?_cr=E8me?=",
                        join_split=True) == "café crème"
    with pytest.raises(EncodedWordError) as exc:
        decode_words("=?utf-8?q?caf=C3?= =?iso-8859-1?q?=A9?=", join_split=True)
    assert exc.value.word == "=?utf-8?q?caf=C3?="


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


@pytest.mark.parametrize(("text", "head"), [("a" * 150 + "é", "=?utf-8?q?"),
                                            ("é" * 80, "=?utf-8?b?")])
@pytest.mark.parametrize("first", [20, 40, 75])
def test_words_fill_the_room_they_have(text: str, head: str, first: int) -> None:
    # Each word but the last takes what its line leaves, less than one
    # character's encoding: no field is folded more than it must be.
    words = encode_words(text, first)
    assert all(w.startswith(head) for w in words)
    assert first - 6 < len(words[0]) <= first
    assert all(75 - 6 < len(w) <= 75 for w in words[1:-1])
    assert decode_words(" ".join(words)) == text


def test_charset_names_no_codec_takes_are_word_errors() -> None:
    # A lone surrogate (surrogateescape-decoded bytes) makes codecs.lookup
    # raise UnicodeEncodeError, a ValueError, not LookupError.
    with pytest.raises(EncodedWordError, match="unknown charset"):
        decode_words("=?\udcff?q?x?=")


@pytest.mark.parametrize("text", [("Ünïcödé " * 12).strip(),            # B words
                                  ("Unicode text é " * 12).strip()])     # Q words
def test_words_are_cut_after_a_blank(text: str) -> None:
    # CPython 3.11 keeps the blanks between adjacent encoded words of a display
    # name (RFC 2047 6.2 drops them): cut after a blank, it shows the same
    # words, never a word cut in two.
    words = encode_words(text, 60)
    assert len(words) > 2
    assert all(decode_words(w).endswith(" ") for w in words[:-1])
    assert decode_words(" ".join(words)) == text
    msg = Message(from_=Address(display_name=text, addr_spec="a@example.com"), text="x")
    parsed = email.message_from_bytes(msg.to_bytes(), policy=email.policy.default)
    assert parsed["From"].addresses[0].display_name.split() == text.split()
