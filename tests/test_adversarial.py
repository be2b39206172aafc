"""Attacks from the security research, each one named, each one refused.

Every string that reaches the wire is tried with CR, LF and the other line
breaks; every refusal must be a validation error with a rule id, and nothing
may ever appear on the wire as an extra header.
"""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from pydantic import ValidationError

from mailfmt import Address, Attachment, Group, Message, ParseError

INJECTIONS = ["\r\nBcc: victim@example.com", "\nBcc: victim@example.com",
              "\rBcc: victim@example.com", "\u2028Bcc: victim@example.com",
              "\x85Bcc: victim@example.com", "\x00", "\r\n\r\n<html>"]


def refused(build: object) -> str:
    with pytest.raises(ValidationError) as exc:
        build()  # type: ignore[operator]
    return exc.value.errors()[0]["type"]


@pytest.mark.parametrize("payload", INJECTIONS)
@pytest.mark.parametrize("field", ["subject", "display_name", "addr_spec", "filename",
                                   "header_name", "header_value", "message_id",
                                   "references", "group_name", "content_id"])
def test_header_injection_through_every_field(field: str, payload: str) -> None:
    base: dict[str, object] = {"from_": "a@example.com"}
    builders = {
        "subject": lambda: Message(**base, subject="Hi" + payload),
        "display_name": lambda: Message(from_=[Address(display_name="Eve" + payload,
                                                       addr_spec="a@example.com")]),
        "addr_spec": lambda: Message(from_="a@example.com" + payload),
        "filename": lambda: Attachment(filename="a.pdf" + payload, content=b"x"),
        "header_name": lambda: Message(**base, headers=[("X-A" + payload, "v")]),
        "header_value": lambda: Message(**base, headers=[("X-A", "v" + payload)]),
        "message_id": lambda: Message(**base, message_id="<a@example.com>" + payload),
        "references": lambda: Message(**base, references=["<a@example.com>" + payload]),
        "group_name": lambda: Group(display_name="G" + payload),
        "content_id": lambda: Attachment(content=b"x", content_id="<a@example.com>" + payload),
    }
    rule = refused(builders[field])
    assert rule in {"line-break-in-value", "control-character", "header-name-invalid",
                    "invalid-address-list", "invalid-message-id", "invalid-address"}


@pytest.mark.parametrize("word", [
    "=?utf-8?q?x=0D=0ABcc:_victim@example.com?=",
    "=?utf-8?b?eA0KQmNjOiB2aWN0aW1AZXhhbXBsZS5jb20=?=",
    "=?utf-8?q?=00?=",
])
def test_encoded_words_that_decode_to_line_breaks(word: str) -> None:
    # CVE-2024-6923: refused on parse, in Subject, extra headers and names.
    for line in (f"Subject: {word}", f"X-Note: {word}", f"To: {word} <b@example.org>"):
        raw = (f"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n{line}\r\n"
               "\r\nbody").encode()
        with pytest.raises(ParseError) as exc:
            Message.from_bytes(raw)
        assert exc.value.code in ("E107", "A106")
    # Given as literal text, it is encoded, never emitted as a decodable word.
    msg = Message(from_="a@example.com", subject=word)
    parsed = email.message_from_bytes(msg.to_bytes(), policy=email.policy.default)
    assert str(parsed["Subject"]) == word
    assert "Bcc" not in parsed


@pytest.mark.parametrize("name", ["Doe, John", "a<b>c", "x@evil.example", "a;b:c",
                                  '"quoted"', "back\\slash", "=?utf-8?q?CEO?=",
                                  "Group: a@example.com;", "(comment)"])
def test_display_names_with_specials_stay_one_mailbox(name: str) -> None:
    msg = Message(from_=[Address(display_name=name, addr_spec="real@example.com")])
    parsed = email.message_from_bytes(msg.to_bytes(), policy=email.policy.default)
    addrs = parsed["From"].addresses
    assert len(addrs) == 1
    assert addrs[0].addr_spec == "real@example.com"
    assert addrs[0].display_name == name
    assert Message.from_bytes(msg.to_bytes()).from_[0].display_name == name


@pytest.mark.parametrize("text", [
    "alice@example.org)<bob@example.org>",   # CVE-2023-27043
    "alice@example.org(<bob@example.org>",
    "a@malicious.org@important.com",         # CVE-2019-16056
    '"xclow3n@gmail.com x"@internal.domain',  # nodemailer CVE-2025-13033
    "a@example.com,victim@example.org",      # NextAuth CVE-2022-35924 (as one address)
    "a＠example.com",                         # full-width @ (NextAuth CVE-2026-73420)
    "-oQ/tmp/ -X/var/www/x.php@example.com",  # PHPMailer CVE-2016-10033 shape
])
def test_address_confusion(text: str) -> None:
    with pytest.raises(ValidationError):
        Address.parse(text)


def test_oversize_inputs_are_refused_fast() -> None:
    import time

    cases = [
        lambda: Message(from_="a@example.com", subject="x" * 10_000_000),
        lambda: Address.parse("a" * 10_000_000 + "@example.com"),
        lambda: Message(from_="a@example.com", to=",".join(["a@example.com"] * 100_000)),
        lambda: Message(from_="a@example.com", headers=[("X-N", "v")] * 10_000),
        lambda: Message(from_="a@example.com", references=["<a@b.c>"] * 10_000),
    ]
    for case in cases:
        t = time.perf_counter()
        refused(case)
        # A bound, not a benchmark: refusal must not scale with the input.
        assert time.perf_counter() - t < 5


def test_oversize_parse_input() -> None:
    raw = b"From: a@example.com\r\nTo: " + b"(" * 10_000 + b"\r\n\r\n"
    with pytest.raises(ParseError):
        Message.from_bytes(raw)


def test_unfoldable_message_id_is_an_error_not_a_long_line() -> None:
    rule = refused(lambda: Message(from_="a@example.com",
                                   message_id="<" + "x" * 1200 + "@example.com>"))
    assert rule == "invalid-message-id"


def test_raw_header_with_unfoldable_token() -> None:
    rule = refused(lambda: Message(from_="a@example.com",
                                   headers=[("DKIM-Signature", "b=" + "A" * 1200)]))
    assert rule == "line-too-long"


@pytest.mark.parametrize("seq", ["\n.\n", "\r.\r\n", "\n.\r\n", "\r\n.\r", "\r\n.\r\n",
                                 "\r\n\x00.\r\n", "\r\n.\x00\r\n", "\r\r\n.\r\r\n"])
def test_smuggling_sequences_in_text_never_reach_the_wire_raw(seq: str) -> None:
    # Line breaks in text become CRLF and NUL is encoded, so no bare CR/LF or
    # NUL reaches the bytes; a CRLF "." CRLF line left is ordinary content
    # that the SMTP transport dot-stuffs.
    msg = Message(from_="a@example.com", text="before" + seq + "MAIL FROM:<x@example.com>")
    raw = msg.to_bytes()
    assert not re.search(rb"\r(?!\n)|(?<!\r)\n|\x00", raw)
    assert b"\r\r" not in raw
