"""Writing mailboxes and groups (RFC 5322 3.4): the bytes, and how readers take them."""

import email
import email.policy

import pytest

from mailfmt import Address, Group, Message, Policy


def header(msg: Message, name: str) -> str:
    head = msg.to_bytes().split(b"\r\n\r\n", 1)[0].decode("utf-8")
    return next(f for f in head.replace("\r\n ", "\n ").split("\r\n")
                if f.startswith(name + ":"))


def test_group_with_an_encoded_name() -> None:
    # RFC 2047 5 (3): an encoded word in a phrase is followed by whitespace
    # before a special, here the group's ":".
    msg = Message(from_="a@example.com", subject="x", text="x", to=[
        Group(display_name="Équipe", members=["b@example.org", "c@example.org"]),
        Group(display_name="Öde", members=[]),
        Group(display_name="Team", members=[]),
    ])
    assert header(msg, "To") == ("To: =?utf-8?q?=C3=89quipe?= : b@example.org, c@example.org;,"
                                 "\n =?utf-8?q?=C3=96de?= :;, Team:;")
    parsed = email.message_from_bytes(msg.to_bytes(), policy=email.policy.default)
    groups = parsed["To"].groups
    assert [(g.display_name, [a.addr_spec for a in g.addresses]) for g in groups] == [
        ("Équipe", ["b@example.org", "c@example.org"]), ("Öde", []), ("Team", [])]
    assert Message.from_bytes(msg.to_bytes()) == msg


def test_group_under_smtputf8_keeps_names_and_addresses_raw() -> None:
    msg = Message(from_="a@example.com", subject="x", text="x", policy=Policy(utf8=True),
                  to=[Group(display_name="Équipe", members=["jörg@example.org"])])
    assert header(msg, "To") == "To: Équipe: jörg@example.org;"
    assert Message.from_bytes(msg.to_bytes(), policy=msg.policy) == msg


@pytest.mark.parametrize("name", ["Ünïcödé" * 12,        # B words
                                  "Ünicodetext" * 12])   # Q words, longer than B's 72
def test_an_encoded_name_starts_on_the_field_line(name: str) -> None:
    # The first word takes the room left after "From: ": no fold is wasted
    # before it. No blank to cut after: each word is as long as it may be.
    msg = Message(from_=Address(display_name=name, addr_spec="a@example.com"), text="x")
    lines = header(msg, "From").split("\n")
    assert lines[0].startswith("From: =?utf-8?")
    assert all(70 <= len(line) <= 78 for line in lines[:-1])
    parsed = email.message_from_bytes(msg.to_bytes(), policy=email.policy.default)
    assert "".join(parsed["From"].addresses[0].display_name.split()) == "".join(name.split())


def test_encoded_word_markers_split_across_names_are_encoded() -> None:
    # Quoted as they are, '"=?utf-8?q?Eve" <a@example.com>, "?=" <b@example.org>'
    # reads in CPython as one mailbox named 'Eve" <a@example.com>, "': each
    # marker alone is enough to encode a name.
    names = ["=?utf-8?q?Eve", "?="]
    msg = Message(from_="x@example.com", subject="x", text="x", to=[
        Address(display_name=names[0], addr_spec="a@example.com"),
        Address(display_name=names[1], addr_spec="b@example.org")])
    assert '"' not in header(msg, "To")
    parsed = email.message_from_bytes(msg.to_bytes(), policy=email.policy.default)
    assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == [
        (names[0], "a@example.com"), (names[1], "b@example.org")]


def test_group_with_a_quoted_name() -> None:
    msg = Message(from_="x@example.com", subject="x", text="x",
                  to=[Group(display_name="Doe, John", members=["b@example.org"])])
    assert header(msg, "To") == 'To: "Doe, John": b@example.org;'
    assert Message.from_bytes(msg.to_bytes()) == msg
