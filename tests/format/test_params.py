import email
import email.policy
import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailfmt._grammar import FORBIDDEN_IN_VALUE
from mailfmt.format.fold import fold
from mailfmt.format.params import ParamError, nonstandard_params, param_chunks, parse_params


def header(name: str, value: str) -> str:
    chunks = param_chunks(name, value)
    from mailfmt.format.fold import Chunk

    return fold("Content-Disposition", [Chunk("", "attachment;"), *chunks])


def test_short_ascii_value_is_quoted() -> None:
    assert header("filename", "a b.pdf") == \
        'Content-Disposition: attachment; filename="a b.pdf"\r\n'
    # Quotes and backslashes go %-encoded: readers disagree on quoted-pairs.
    assert "filename*=utf-8''a%20%22b%22.pdf" in header("filename", 'a "b".pdf')


def test_non_ascii_uses_rfc2231() -> None:
    out = header("filename", "Résumé.pdf")
    assert "filename*=utf-8''R%C3%A9sum%C3%A9.pdf" in out


def test_long_value_uses_numbered_continuations() -> None:
    name = "é" * 80 + ".txt"
    out = header("filename", name)
    assert "filename*0*=utf-8''" in out
    assert "filename*1*=" in out
    assert all(len(line) <= 78 for line in out[:-2].split("\r\n"))
    _, params = parse_params(out.split(":", 1)[1].replace("\r\n", ""))
    assert params["filename"] == name


# RFC 2231 sections 3 and 4 examples.
@pytest.mark.parametrize(("value", "expected"), [
    ('message/external-body; access-type=URL; '
     'URL*0="ftp://";URL*1="cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"',
     "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"),
    ("application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A",
     "This is ***fun***"),
    ("application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; "
     'title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2="isn\'t it!"',
     "This is even more ***fun*** isn't it!"),
])
def test_rfc2231_examples(value: str, expected: str) -> None:
    _, params = parse_params(value)
    key = "url" if "URL" in value else "title"
    assert params[key] == expected


@pytest.mark.parametrize("value", [
    'text/plain; charset="unterminated',
    "text/plain; charset",
    "text/plain; a=1; a=2",
    "text/plain; name*1*=x",
    "text/plain; name*0*=no-quote-prefix",
])
def test_malformed_parameters_are_refused(value: str) -> None:
    with pytest.raises(ParamError):
        parse_params(value)


@given(st.text(min_size=1, max_size=300).filter(
    lambda s: not FORBIDDEN_IN_VALUE.search(s) and not any(0xD800 <= ord(c) < 0xE000 for c in s)))
def test_round_trip_and_stdlib_agrees(value: str) -> None:
    out = header("filename", value)
    assert out.isascii()
    assert all(len(line) <= 78 for line in out[:-2].split("\r\n"))
    _, params = parse_params(out.split(":", 1)[1].replace("\r\n", ""))
    assert params["filename"] == value
    msg = email.message_from_string(out + "\r\n", policy=email.policy.default)
    # CPython's get_filename() unquotes its result, so a name wrapped in "..."
    # or <...> loses those characters whatever the encoding; our own parser
    # (above) reads every value exactly.
    if value.strip()[:1] + value.strip()[-1:] not in ('""', "<>"):
        assert msg.get_filename() == value.strip()


def test_the_view_is_shared_and_read_only_and_copies_are_not() -> None:
    from mailfmt.format.params import parse_params_view

    value = 'text/plain; charset="utf-8"'
    head, view = parse_params_view(value)
    assert head == "text/plain" and view["charset"] == "utf-8"
    assert parse_params_view(value)[1] is view          # one cache, no copy
    with pytest.raises(TypeError):
        view["charset"] = "x"  # type: ignore[index]
    copy = parse_params(value)[1]
    copy["charset"] = "x"                                # a caller's own dict
    assert parse_params(value)[1]["charset"] == "utf-8"
    with pytest.raises(ParamError):
        parse_params_view("")


@given(st.text(alphabet='"\\ab \r\n;=', max_size=16))
def test_quoted_string_pattern_reads_what_the_grammar_says(text: str) -> None:
    # The unrolled pattern against the grammar written plainly: a quote,
    # then plain characters or quoted pairs, then a quote.
    import re

    from mailfmt.format.params import _QUOTED

    plain = re.compile(r'"((?:[^"\\\r\n]|\\.)*)"')
    got, want = _QUOTED.match(text), plain.match(text)
    assert (got and got.groups()) == (want and want.groups())


def test_rfc2231_charset_with_a_nul_is_a_param_error() -> None:
    with pytest.raises(ParamError, match="not valid"):
        parse_params("text/plain; name*=\"a\x00b''abc\"")


def test_a_value_that_reads_as_an_encoded_word_goes_as_rfc_2231() -> None:
    # Quoted, readers decode it (CPython among them): the name would change.
    chunks = param_chunks("filename", "=?utf-8?q?evil?=.pdf")
    assert [c.text for c in chunks] == ["filename*=utf-8''%3D%3Futf-8%3Fq%3Fevil%3F%3D.pdf"]
    field = "Content-Disposition: attachment;" + "".join(c.ws + c.text for c in chunks)
    msg = email.message_from_string(field + "\n\n", policy=email.policy.default)
    assert msg.get_filename() == "=?utf-8?q?evil?=.pdf"
    assert parse_params(field.split(": ", 1)[1])[1] == {"filename": "=?utf-8?q?evil?=.pdf"}


@pytest.mark.parametrize(("value", "says"), [
    ("attachment; filename=\"=?utf-8?q?caf=C3=A9.pdf?=\"", "an RFC 2047 encoded word"),
    ("text/plain; title*0*=\"us-ascii'en'a%20b\"", "'title*0*' is an RFC 2231 extended value"),
    ("text/plain; title*=\"us-ascii''a\"", "'title*' is an RFC 2231 extended value"),
    ("text/plain; title*0=\"a b\"; title*1=\"c\"", None),     # RFC 2231 3: may be quoted
    ("attachment; filename*=utf-8''caf%C3%A9.pdf", None),
    ("text/plain (=?utf-8?q?a?= in a comment); charset=us-ascii", None),
])
def test_nonstandard_params(value: str, says: str | None) -> None:
    found = nonstandard_params(value)
    assert (found is None) if says is None else (found is not None and says in found)


@pytest.mark.parametrize("value", ["日本語のファイル名" * 6, "\U00010000" * 30, "é" * 40 + "x"])
def test_no_section_ends_inside_a_character(value: str) -> None:
    # CPython decodes each RFC 2231 section alone: a character split between
    # two sections is an UndecodableBytesDefect there.
    chunks = param_chunks("filename", value)
    assert len(chunks) > 1
    for c in chunks:
        encoded = c.text.split("=", 1)[1].rstrip(";").split("''")[-1]
        urllib.parse.unquote_to_bytes(encoded).decode("utf-8")     # whole characters
    field = "Content-Disposition: attachment;" + "".join(c.ws + c.text for c in chunks)
    msg = email.message_from_string(field + "\n\n", policy=email.policy.default)
    assert msg["Content-Disposition"].defects == ()
    assert msg.get_filename() == value
