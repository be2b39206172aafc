"""Properties every serialized message has, on generated messages.

The stdlib parser is the independent oracle: it must read our bytes with no
defects and see the same fields and content.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.headerregistry import Address as StdAddress

from hypothesis import given
from hypothesis import strategies as st

from mailfmt import Group, Message, Multipart, TextPart
from mailfmt.lint import LintConfig, lint
from mailfmt.models._extra import ADDRESS_EXTRAS, extra_addresses

from .strategies import assert_clean, messages, tree_messages

BOUNDARY = re.compile(rb'boundary="([^"]+)"')


def header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def encoded_sections(raw: bytes) -> list[bytes]:
    """The body sections of parts declared quoted-printable or base64."""
    out = []
    for m in re.finditer(
        rb"Content-Transfer-Encoding: (quoted-printable|base64)\r\n(?:[^\r\n]+\r\n)*\r\n"
        rb"(.*?)(?=\r\n--=_|\Z)", raw, re.S):
        out.append(m.group(2))
    return out


@given(messages())
def test_wire_invariants(msg: Message) -> None:
    raw = msg.to_bytes()
    # ASCII only, CRLF only, no NUL.
    assert raw.isascii()
    assert not re.search(rb"\r(?!\n)|(?<!\r)\n|\x00", raw)
    # No line over 998 octets, ever.
    lines = raw.split(b"\r\n")
    assert max(map(len, lines)) <= 998
    # A blank line separates header and body; every header line is <= 78
    # (the strategies make no unfoldable token that long).
    head = header_block(raw)
    assert b"\r\n\r\n" in raw
    assert all(len(line) <= 78 for line in head.split(b"\r\n")), head
    # Encoded lines are at most 76 characters.
    for section in encoded_sections(raw):
        assert all(len(line) <= 76 for line in section.split(b"\r\n"))
    # Boundaries: at most 70 characters, never inside any part's content.
    for b in BOUNDARY.findall(raw):
        assert 1 <= len(b) <= 70
    # Bcc never appears in the bytes.
    assert not re.search(rb"(?im)^bcc:", raw)


@given(messages())
def test_iter_bytes_equals_to_bytes_and_is_deterministic(msg: Message) -> None:
    assert b"".join(msg.iter_bytes()) == msg.to_bytes() == msg.to_bytes()


@given(messages())
def test_round_trip(msg: Message) -> None:
    raw = msg.to_bytes()
    again = Message.from_bytes(raw)
    # Bcc lives in the envelope only, so it cannot come back from the bytes.
    assert again == msg.model_copy(update={"bcc": []})
    assert again.to_bytes() == raw


@given(messages(utf8=True))
def test_round_trip_utf8(msg: Message) -> None:
    raw = msg.to_bytes()
    assert not re.search(rb"\r(?!\n)|(?<!\r)\n|\x00", raw)
    assert max(map(len, raw.split(b"\r\n"))) <= 998
    assert Message.from_bytes(raw, policy=msg.policy) == msg.model_copy(update={"bcc": []})


def _ws(name: str) -> str:
    # CPython 3.11 keeps the whitespace between adjacent encoded words in a
    # display name (RFC 2047 6.2 drops it) and drops an NBSP after a space
    # ("0 \xa00" reads as "0 0"). Our own parser reads every name exactly
    # (test_round_trip); here the oracle compares names without whitespace.
    return "".join(name.split())


def _std_mailboxes(items: list) -> list[tuple[str, str]]:
    out = []
    for item in items:
        if isinstance(item, Group):
            out.extend((_ws(m.display_name or ""), m.ascii_addr_spec) for m in item.members)
        else:
            out.append((_ws(item.display_name or ""), item.ascii_addr_spec))
    return out


def _std_addresses(header: object) -> list[tuple[str, str]]:
    out = []
    for a in header.addresses:  # type: ignore[attr-defined]
        assert isinstance(a, StdAddress)
        # The stdlib decodes IDNA domains back to Unicode; compare A-labels.
        domain = a.domain.encode("idna").decode("ascii") if not a.domain.isascii() else a.domain
        out.append((_ws(a.display_name), f"{a.username}@{domain}"))
    return out


@given(messages())
def test_stdlib_oracle(msg: Message) -> None:
    raw = msg.to_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.defects == []
    for part in parsed.walk():
        assert part.defects == [], (part.get_content_type(), part.defects)
    for name in ("From", "To", "Cc", "Reply-To"):
        ours = getattr(msg, {"From": "from_", "Reply-To": "reply_to"}.get(name, name.lower()))
        if ours:
            h = parsed[name]
            assert h.defects == ()
            assert _std_addresses(h) == _std_mailboxes(ours)
    if msg.subject is not None:
        assert str(parsed["Subject"]) == msg.subject
    assert parsed["Date"].datetime == msg.date
    assert parsed["Message-ID"] == msg.message_id
    for h in msg.headers:
        if h.name.lower() in ADDRESS_EXTRAS:
            # Resent- address fields: the stdlib reads them as address fields
            [std] = parsed.get_all(h.name)
            assert std.defects == ()
            assert _std_addresses(std) == _std_mailboxes(
                list(extra_addresses(h.name, h.value, msg.policy)))
        else:
            assert any(str(v) == h.value for v in parsed.get_all(h.name))
    # Body content: the same text, html and attachments.
    tree = msg.mime_tree()
    std_parts = [p for p in parsed.walk() if not p.is_multipart()]
    ours = list(_leaves(tree))
    assert len(std_parts) == len(ours)
    for std, mine in zip(std_parts, ours, strict=False):
        for h in mine.headers:
            assert any(str(v) == h.value for v in std.get_all(h.name))
        if mine.kind in ("text", "html"):
            assert std.get_content() == mine.content
        else:
            assert std.get_payload(decode=True) == mine.content
            # The header object's params, not the legacy get_filename(), which
            # takes a name in angle brackets for quoting ("<x>" reads as "x").
            for name, value in mine.params.items():
                assert std["Content-Type"].params[name] == value
            disposition = std["Content-Disposition"]
            name = disposition.params.get("filename") if disposition else None
            assert name == mine.filename


def _leaves(part: object):  # type: ignore[no-untyped-def]
    if isinstance(part, Multipart):
        for p in part.parts:
            yield from _leaves(p)
    else:
        yield part


def test_long_text_lines_are_encoded() -> None:
    msg = Message(from_="a@example.com", text="x" * 2000 + "\n" + "é" * 50)
    raw = msg.to_bytes()
    assert b"Content-Transfer-Encoding: quoted-printable" in raw
    assert max(map(len, raw.split(b"\r\n"))) <= 76
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_content() == "x" * 2000 + "\r\n" + "é" * 50


def test_body_given_as_tree_equals_shortcut_form() -> None:
    a = Message(from_="a@example.com", text="hi", message_id="<1@example.com>",
                date="2024-01-01T00:00:00Z")
    b = Message(from_="a@example.com", body=TextPart(content="hi"),
                message_id="<1@example.com>", date="2024-01-01T00:00:00Z")
    assert a == b
    assert a.to_bytes() == b.to_bytes()
    c = Message(from_="a@example.com", text="other", message_id="<1@example.com>",
                date="2024-01-01T00:00:00Z")
    assert a != c


@given(st.booleans().flatmap(lambda utf8: tree_messages(utf8=utf8)))
def test_explicit_trees_write_clean_and_read_back(msg: Message) -> None:
    # Every kind of part with its own fields, Content-ID and parameters: the
    # bytes lint clean, the stdlib reads them without a defect, and the
    # parser reads back the same message.
    raw = msg.to_bytes()
    config = LintConfig(utf8=True) if msg.policy.utf8 else None
    assert_clean(lint(raw, config), msg)
    if not msg.policy.utf8:
        # (the stdlib's headers do not read RFC 6532 UTF-8 without defects)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        for part in parsed.walk():
            assert part.defects == [], (part.get_content_type(), part.defects)
            for _, value in part.items():
                assert not getattr(value, "defects", ()), value
    assert Message.from_bytes(raw, policy=msg.policy) == msg


def test_the_stdlib_finds_the_boundary_after_a_value_ending_in_a_backslash() -> None:
    # CPython's get_boundary() loses every parameter after one whose value
    # ends in a backslash: the boundary goes first.
    inner = Multipart(parts=[TextPart(content="x")], params={"x-a": "\\"})
    raw = Message(from_="a@example.com", body=Multipart(parts=[inner])).to_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert all(part.defects == [] for part in parsed.walk())
    assert [p.get_content_type() for p in parsed.walk()] == [
        "multipart/mixed", "multipart/mixed", "text/plain"]
