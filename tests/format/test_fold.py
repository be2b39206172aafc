import email
import email.policy
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailfmt import Message, Policy
from mailfmt.errors import RuleError
from mailfmt.format.encoded_word import decode_words
from mailfmt.format.fold import Chunk, fold, unstructured_chunks


def unfold(field: str) -> str:
    # RFC 5322 2.2.3: unfolding is removing every CRLF that precedes WSP.
    assert field.endswith("\r\n")
    return re.sub(r"\r\n(?=[ \t])", "", field[:-2])


def test_short_value_stays_on_one_line() -> None:
    assert fold("Subject", unstructured_chunks("hello world", utf8=False)) == \
        "Subject: hello world\r\n"


def test_folds_before_whitespace_at_78() -> None:
    value = " ".join(["word"] * 40)
    out = fold("Subject", unstructured_chunks(value, utf8=False))
    lines = out[:-2].split("\r\n")
    assert len(lines) > 1
    assert all(len(line) <= 78 for line in lines)
    assert all(line.startswith(" ") for line in lines[1:])
    assert unfold(out) == "Subject: " + value


def test_unbreakable_token_over_998_is_an_error() -> None:
    with pytest.raises(RuleError) as exc:
        fold("Message-ID", [Chunk("", "<" + "x" * 1200 + "@example.com>")])
    assert exc.value.code == "S101"


@pytest.mark.parametrize(("chunks", "index", "char"), [
    ([Chunk("", "a\nb")], 1, "U+000A"),                   # one line: the quick path
    ([Chunk("", "ab\r")], 2, "U+000D"),
    ([Chunk("", "x\r\ny")], 1, "U+000A"),                 # a CRLF that is no fold
    # in the written field, folded
    ([Chunk("", "w" * 40), Chunk(" ", "w" * 40), Chunk(" ", "a\nb")], 94, "U+000A"),
])
def test_a_line_break_in_a_chunk_is_refused_where_it_is(chunks: list[Chunk], index: int,
                                                        char: str) -> None:
    # The last check before the wire: a break that is not a fold would start
    # a field of its own (header injection).
    with pytest.raises(RuleError) as exc:
        fold("Subject", chunks)
    assert (exc.value.code, exc.value.field) == ("H103", "Subject")
    assert (exc.value.ctx["index"], exc.value.ctx["char"]) == (index, char)


def test_long_ascii_word_is_carried_in_encoded_words() -> None:
    value = "a" * 2000
    out = fold("Subject", unstructured_chunks(value, utf8=False))
    assert all(len(line) <= 78 for line in out[:-2].split("\r\n"))
    assert decode_words(unfold(out)[len("Subject: "):]) == value


def test_encoded_word_lookalike_is_encoded() -> None:
    out = fold("Subject", unstructured_chunks("=?utf-8?q?CEO?=", utf8=False))
    assert decode_words(unfold(out)[len("Subject: "):]) == "=?utf-8?q?CEO?="
    assert "=?utf-8?q?CEO?=" not in out


_value = st.lists(st.sampled_from(["a", "bb", "é", "=?", " ", "  ", "\t", "word" * 30, "日本"]),
                  max_size=60).map("".join).map(lambda s: s.strip(" \t"))


@given(_value)
def test_fold_unfold_decode_round_trip(value: str) -> None:
    out = fold("X-Test", unstructured_chunks(value, utf8=False, room=70))
    assert out.isascii()
    for line in out[:-2].split("\r\n"):
        # Over 78 only when the line is one token that has no fold point.
        assert len(line) <= 78 or (len(line) <= 998 and len(line.split()) <= 2), line
    assert decode_words(unfold(out)[len("X-Test: "):]) == value


@given(_value)
def test_utf8_mode_keeps_text_raw(value: str) -> None:
    out = fold("X-Test", unstructured_chunks(value, utf8=True, room=70))
    text = unfold(out)[len("X-Test: "):]
    assert decode_words(text) == value
    if "=?" not in value and "?=" not in value and all(len(w) < 900 for w in value.split()):
        assert text == value


def test_date_format_matches_the_stdlib() -> None:
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    from mailfmt.format.writer import format_date

    for offset in (0, -6 * 60, 5 * 60 + 30, -(3 * 60 + 30), 14 * 60):
        d = datetime(1997, 11, 21, 9, 5, 6, tzinfo=timezone(timedelta(minutes=offset)))
        assert format_date(d) == format_datetime(d)


@given(st.text(alphabet=st.sampled_from(list("ab =?\t\u00e9")), max_size=90),
       st.sampled_from([40, 78]))
def test_written_subject_is_what_fold_gives(value: str, limit: int) -> None:
    """The writer's shortcut for short ASCII fields gives fold's own output."""
    from mailfmt.format.writer import message_headers

    try:
        msg = Message(from_="a@example.com", to="b@example.org", subject=value, text="x",
                      policy=Policy(max_line_length=limit))
    except ValueError:
        return      # a value the model refuses never reaches the writer
    assert msg.subject is not None
    expected = fold("Subject", unstructured_chunks(msg.subject, utf8=False,
                                                   room=limit - len("Subject") - 2),
                    limit=limit)
    assert expected in message_headers(msg)


def test_encoded_word_markers_in_separate_words_are_encoded() -> None:
    # CPython reads "=?utf-8?q?Eve ?=" as one encoded word across the blank:
    # a word with either marker is encoded, so the text reads as written.
    for subject in ("=?utf-8?q?Eve ?=", "x =?utf-8?q?Eve y ?= z"):
        msg = Message(from_="a@example.com", subject=subject, text="x")
        parsed = email.message_from_bytes(msg.to_bytes(), policy=email.policy.default)
        assert str(parsed["Subject"]) == subject


@pytest.mark.parametrize(("length", "ok"), [(998, True), (999, False)])
def test_a_header_line_may_be_998_octets_long(length: int, ok: bool) -> None:
    # A token longer than the fold limit goes on a line of its own, after a blank.
    token = "<" + "x" * (length - len(" <@example.com>")) + "@example.com>"
    if ok:
        assert fold("Message-ID", [Chunk("", token)], limit=78) == f"Message-ID:\r\n {token}\r\n"
        return
    with pytest.raises(RuleError) as exc:
        fold("Message-ID", [Chunk("", token)], limit=78)
    assert (exc.value.code, exc.value.field) == ("S101", "Message-ID")
    # No line can hold it: it is measured where it stands, after the name.
    written = len("Message-ID: ") + len(token)
    assert (exc.value.ctx["length"], exc.value.ctx["limit"]) == (written, 998)
    assert str(exc.value).startswith(
        f"S101 line-too-long: a Message-ID header line is {written} octets long (max 998)")


@pytest.mark.parametrize(("n", "on_line_two"), [(66, False), (67, True)])
def test_an_unbreakable_first_token_moves_to_line_two_only_when_it_must(
        n: int, on_line_two: bool) -> None:
    # RFC 5322 3.2.2: FWS may open the value, so a token that would make line
    # one longer than 78 octets ("Message-ID: " is 12) starts line two instead.
    token = "<" + "x" * (n - len("<@example.com>")) + "@example.com>"
    sep = "\r\n " if on_line_two else " "
    assert fold("Message-ID", [Chunk("", token)], limit=78) == f"Message-ID:{sep}{token}\r\n"


@pytest.mark.parametrize("name", ["Subject", "X-Note"])
def test_a_first_word_longer_than_the_line_reads_as_written(name: str) -> None:
    # Folded before it, the text would open with a blank that unstructured
    # text keeps: CPython read " FFF...". Encoded words cut to fit the line.
    value = "F" * 75 + " and more words after it"
    fields = {"subject": value} if name == "Subject" else {"headers": [(name, value)]}
    msg = Message(from_="a@example.com", text="x", **fields)  # type: ignore[arg-type]
    raw = msg.to_bytes()
    written = field(raw, name)
    assert written.startswith(name.encode() + b": =?utf-8?q?FFF")
    assert all(len(line) <= 78 for line in written.split(b"\n"))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(parsed[name]) == value
    assert Message.from_bytes(raw) == msg
    # With SMTPUTF8 the text stays raw, on the field's own line.
    msg = Message(from_="a@example.com", text="x", policy=Policy(utf8=True),
                  **fields)  # type: ignore[arg-type]
    raw = msg.to_bytes()
    assert field(raw, name) == f"{name}: {'F' * 75}\n and more words after it".encode()
    assert Message.from_bytes(raw, policy=msg.policy) == msg


def field(raw: bytes, name: str) -> bytes:
    """The field ``name`` of the message ``raw``, its folds as LF."""
    head = raw.split(b"\r\n\r\n")[0].replace(b"\r\n ", b"\n ")
    return next(f for f in head.split(b"\r\n") if f.startswith(name.encode() + b":"))
