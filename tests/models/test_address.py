import email.utils

import pytest
from hypothesis import given
from pydantic import ValidationError

from mailfmt import Address, Group, Message, Policy

from ..strategies import addresses


def rule_of(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return exc.value.errors()[0]["type"]


@pytest.mark.parametrize(("text", "name", "spec"), [
    ("alice@example.com", None, "alice@example.com"),
    ("Alice <alice@example.com>", "Alice", "alice@example.com"),
    ('"Doe, John" <john@example.com>', "Doe, John", "john@example.com"),
    ('"a\\"b" <a@example.com>', 'a"b', "a@example.com"),
    ("=?utf-8?q?Zo=C3=AB?= <zoe@example.org>", "Zoë", "zoe@example.org"),
    ("  Bob   Smith   <bob@EXAMPLE.org> ", "Bob Smith", "bob@example.org"),
    ("<bare@example.com>", None, "bare@example.com"),
])
def test_parse(text: str, name: str | None, spec: str) -> None:
    a = Address.parse(text)
    assert (a.display_name, a.addr_spec) == (name, spec)


# CVE-2023-27043, CVE-2019-16056 and friends: every one is refused, none is
# "recovered" into some other address.
@pytest.mark.parametrize("text", [
    "alice@example.org)<bob@example.org>",
    "alice@example.org(<bob@example.org>",
    "a@malicious.org@important.com",
    "alice@example.org, bob@example.org",
    "Doe, John <john@example.com>",
    "alice",
    "<alice@example.com",
    'x"@example.com',
    "alice@[127.0.0.1]",
    "<@route.example:alice@example.com>",
    "alice@example.com (comment)",
    "alice@localhost",
    "-oQ/tmp/@example.com x",
    "",
])
def test_ambiguous_or_invalid_is_refused(text: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Address.parse(text)
    assert rule_of(exc) in ("invalid-address-list", "invalid-address")


@pytest.mark.parametrize(("kwargs", "rule"), [
    ({"addr_spec": "a" * 65 + "@example.com"}, "invalid-address"),
    ({"addr_spec": "a@" + "b" * 300 + ".com"}, "address-too-long"),
    ({"addr_spec": "a@example.com\r\nBcc: x@example.com"}, "line-break-in-value"),
    ({"addr_spec": "a@example.com", "display_name": "Eve\r\nBcc: x@example.com"},
     "line-break-in-value"),
    ({"addr_spec": "a@example.com", "display_name": "Eve\x00"}, "control-character"),
    ({"addr_spec": "a@example.com", "display_name": "E\u2028ve"}, "line-break-in-value"),
    ({"addr_spec": "a@example.com", "display_name": "x" * 300}, "display-name-too-long"),
    ({"addr_spec": "a@x.test"}, "invalid-address"),
])
def test_rules(kwargs: dict[str, str], rule: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Address(**kwargs)
    assert rule_of(exc) == rule


def test_idn_domain_has_an_ascii_form() -> None:
    a = Address(addr_spec="a@exämple.com")
    assert a.addr_spec == "a@exämple.com"
    assert a.ascii_addr_spec == "a@xn--exmple-cua.com"
    assert not a.needs_smtputf8


def test_non_ascii_local_part_needs_utf8_policy() -> None:
    a = Address(addr_spec="zoë@example.org")
    assert a.needs_smtputf8
    assert a.ascii_addr_spec is None
    with pytest.raises(ValidationError) as exc:
        Address.model_validate({"addr_spec": "zoë@example.org"}, context={"policy": Policy()})
    assert rule_of(exc) == "non-ascii-local-part"
    with pytest.raises(ValidationError) as exc:
        Message(from_="zoë@example.org")
    assert rule_of(exc) == "non-ascii-local-part"
    msg = Message(from_="zoë@example.org", policy=Policy(utf8=True))
    assert "From: zoë@example.org\r\n".encode() in msg.to_bytes()


def test_test_domains_need_test_environment() -> None:
    assert Message(from_="a@x.test", policy=Policy(test_environment=True)).from_[0].domain == \
        "x.test"


def test_group() -> None:
    g = Group.model_validate("Friends: a@example.com, Bob <b@example.org>;")
    assert g.display_name == "Friends"
    assert len(g.members) == 2
    assert str(Group(display_name="undisclosed-recipients")) == "undisclosed-recipients:;"


def test_str_quotes_specials() -> None:
    # pydantic's NameEmail writes `Doe, John <j@x>`, which is two mailboxes.
    assert str(Address(display_name="Doe, John", addr_spec="j@example.com")) == \
        '"Doe, John" <j@example.com>'


@given(addresses)
def test_serialized_mailbox_is_exactly_one_for_the_stdlib(addr: Address) -> None:
    msg = Message(from_=[addr])
    head = msg.to_bytes().split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ")
    line = head.split(b"\r\nFrom: ", 1)[1].split(b"\r\n", 1)[0].decode()
    # Every RFC 5322 reader must see exactly one mailbox, the same one.
    parsed = email.utils.getaddresses([line])
    assert len(parsed) == 1
    assert parsed[0][1] == addr.ascii_addr_spec
