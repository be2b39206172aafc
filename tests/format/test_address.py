"""Writing mailboxes and groups (RFC 5322 3.4): the bytes, and how readers take them."""

import email
import email.policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailfmt import Address, Group, Message, Policy
from mailfmt.format.address import address_list_chunks, address_list_line
from mailfmt.format.fold import field_line, fold

from ..strategies import addr_specs, address_lists


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


bare_lists = st.lists(st.builds(Address, addr_spec=addr_specs), min_size=1, max_size=6)


@given(items=st.one_of(bare_lists, address_lists), utf8=st.booleans(),
       name=st.sampled_from(["To", "From", "Reply-To"]), limit=st.sampled_from([40, 78, 998]))
@settings(max_examples=300)
def test_the_bare_address_line_is_what_folding_writes(
        items: list[Address | Group], utf8: bool, name: str, limit: int) -> None:
    """The writer's shortcut for a list of bare addresses that fits on one
    line gives what folding the list's chunks gives; any other list (a
    group, a display name) gets no shortcut."""
    line = address_list_line(items, utf8=utf8)
    if any(isinstance(i, Group) or i.display_name for i in items):
        assert line is None
        return
    assert line is not None
    folded = fold(name, address_list_chunks(items, utf8=utf8, room=limit - len(name) - 2),
                  limit=limit)
    if len(name) + 2 + len(line) <= limit and line.isascii():
        assert field_line(name, line) == folded
    else:
        assert folded.replace("\r\n ", " ") == f"{name}: {line}\r\n"


@given(items=bare_lists, utf8=st.booleans())
def test_a_message_writes_bare_addresses_as_folding_would(
        items: list[Address], utf8: bool) -> None:
    msg = Message(from_="a@example.com", to=items, text="x", policy=Policy(utf8=utf8))
    expected = fold("To", address_list_chunks(items, utf8=utf8, room=74), limit=78)
    assert expected.encode("utf-8") in msg.to_bytes()
