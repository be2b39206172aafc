import re

import pytest
from pydantic import ValidationError

from mailfmt import Header, Message, Policy


@pytest.mark.parametrize(("name", "rule"), [
    ("Bad Name", "header-name-invalid"),
    ("Bad:Name", "header-name-invalid"),
    ("", "header-name-invalid"),
    ("X-\u00e9", "header-name-invalid"),
    ("Bad\r\nBcc", "header-name-invalid"),
    ("X-" + "a" * 80, "header-name-too-long"),
])
def test_invalid_names(name: str, rule: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Header(name=name, value="v")
    assert exc.value.errors()[0]["type"] == rule


@pytest.mark.parametrize(("value", "rule"), [
    ("a\r\nBcc: victim@example.com", "line-break-in-value"),
    ("a\nb", "line-break-in-value"),
    ("a\rb", "line-break-in-value"),
    ("a\r\n b", "line-break-in-value"),   # pre-folded
    ("a\x0bb", "line-break-in-value"),
    ("a\x85b", "line-break-in-value"),
    ("a\u2029b", "line-break-in-value"),
    ("a\x00b", "control-character"),
    ("a\x1bb", "control-character"),
    ("a\x7fb", "control-character"),
    ("\ud800", "invalid-unicode"),
    ("x" * 20000, "header-value-too-long"),
])
def test_values_are_rejected_not_stripped(value: str, rule: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Header(name="X-Test", value=value)
    assert exc.value.errors()[0]["type"] == rule


def test_tab_is_allowed() -> None:
    assert Header(name="X-Test", value="a\tb").value == "a\tb"


def test_tuple_form() -> None:
    assert Message(from_="a@example.com", headers=[("X-Campaign", "autumn")]).headers == [
        Header(name="X-Campaign", value="autumn")]


@pytest.mark.parametrize("name", ["From", "subject", "To", "BCC", "Content-Type",
                                  "MIME-Version", "Message-ID", "Date"])
def test_managed_fields_cannot_come_as_extra_headers(name: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Message(from_="a@example.com", headers=[(name, "x@example.com")])
    err = exc.value.errors()[0]
    assert err["type"] == "managed-header"
    assert err["loc"][0] == "headers"


def test_raw_trace_headers_are_written_as_they_are() -> None:
    value = "from mx.example.com (mx.example.com [192.0.2.1]) by example.org; " \
            "Fri, 21 Nov 1997 09:55:06 -0600"
    raw = Message(from_="a@example.com", headers=[("Received", value)]).to_bytes()
    assert b"=?" not in raw.split(b"\r\n\r\n")[0]
    with pytest.raises(ValidationError) as exc:
        Message(from_="a@example.com", headers=[("Received", "from hôte")])
    assert exc.value.errors()[0]["type"] == "non-ascii-header"


LONG_ADDR = "u" * 40 + "@" + "d" * 50 + ".example.com"
LONG_ID = "<" + "i" * 80 + "@example.com>"


@pytest.mark.parametrize(("name", "value", "stdlib_reads"), [
    ("Resent-From", LONG_ADDR, LONG_ADDR),
    ("Resent-Message-ID", LONG_ID, LONG_ID),
    ("Resent-To", "=?utf-8?q?Zo=C3=AB?= <z@example.com>, a@example.org",
     "Zoë <z@example.com>, a@example.org"),
    ("Disposition-Notification-To", LONG_ADDR, LONG_ADDR),
    ("Mail-Followup-To", LONG_ADDR + ", list@example.org", LONG_ADDR + ", list@example.org"),
])
def test_structured_extra_fields_are_never_encoded(name: str, value: str,
                                                    stdlib_reads: str) -> None:
    """Resent- fields (RFC 5322 3.6.6: addresses, a date, a msg-id) and other
    address fields given as extra fields: a word too long for the field's
    line is folded to the next, never written as encoded words (RFC 2047 5),
    and reads back as it was given."""
    import email
    import email.policy

    msg = Message(from_="a@example.com", to="b@example.org", text="x",
                  headers=[(name, value)])
    raw = msg.to_bytes()
    assert raw.count(b"=?") == value.count("=?")
    assert Message.from_bytes(raw).headers == msg.headers
    read = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(read[name]).strip() == stdlib_reads


@pytest.mark.parametrize("name", ["Resent-From", "Resent-To", "Disposition-Notification-To",
                                  "Mail-Followup-To", "Mail-Reply-To"])
def test_an_extra_address_field_is_written_as_to_is(name: str) -> None:
    """A non-ASCII display name goes out as encoded words, the addresses as
    they are; every reader gets the name back, and the linter finds nothing."""
    import email
    import email.policy

    from mailfmt import lint

    msg = Message(from_="a@example.com", to="b@example.org", text="x",
                  headers=[(name, "Zoë  Brown <z@example.com>, c@example.org")])
    assert msg.headers[0].value == "Zoë Brown <z@example.com>, c@example.org"
    raw = msg.to_bytes()
    assert f"{name}: =?utf-8?".encode() in raw
    assert Message.from_bytes(raw) == msg
    read = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(read[name]) == "Zoë Brown <z@example.com>, c@example.org"
    assert lint(raw).violations == ()
    utf8 = Message(from_="a@example.com", to="b@example.org", text="x",
                   policy=Policy(utf8=True), headers=[(name, "Zoë <zoë@example.com>")])
    assert f"{name}: Zoë <zoë@example.com>\r\n".encode() in utf8.to_bytes()


@pytest.mark.parametrize(("name", "value", "rule"), [
    ("Resent-To", "garbage here", "invalid-address-list"),
    ("Resent-To", "", "invalid-address-list"),
    ("Resent-Cc", "Alice <alice@example.com", "invalid-address-list"),
    ("Resent-From", "G: a@example.com;", "invalid-address-list"),
    ("Resent-Sender", "a@example.com, b@example.org", "invalid-address-list"),
    ("Disposition-Notification-To", "Team: a@example.com;", "invalid-address-list"),
    ("Mail-Followup-To", "a@b", "invalid-address"),
    ("Resent-To", "x@example.test", "invalid-address"),
    ("Resent-From", "zoë@example.com", "non-ascii-local-part"),
    ("Resent-To", ", ".join(f"u{i}@ex.co" for i in range(1001)), "too-many-addresses"),
    ("Resent-Date", "yesterday", "invalid-date"),
    ("Resent-Date", "Mon, 31 Feb 2025 10:00:00 +0000", "invalid-date"),
    ("Resent-Date", "21 Nov 97 09:55 EST", "invalid-date"),
    ("Resent-Message-ID", "<one@example.com> <two@example.com>", "invalid-message-id"),
    ("Resent-Message-ID", "no id", "invalid-message-id"),
])
def test_an_extra_field_with_a_grammar_is_held_to_it(name: str, value: str, rule: str) -> None:
    """Each of these would make a message the linter reports (A106, A101,
    H206, H205 ...): the model refuses it, naming the field."""
    with pytest.raises(ValidationError) as exc:
        Message(from_="a@example.com", to="b@example.org", text="x", headers=[(name, value)])
    err = exc.value.errors()[0]
    assert err["type"] == rule
    assert err["ctx"]["field"] == name


@pytest.mark.parametrize("length", range(30, 70, 3))
@pytest.mark.parametrize("name", ["Resent-To", "Disposition-Notification-To"])
def test_an_extra_address_field_folds_within_the_line(name: str, length: int) -> None:
    """The encoded display name starts on the field's own line, with the
    room the name leaves (RFC 5322 2.1.1: 78); a longer policy line is kept to."""
    display = ("Zoë " * 30)[:length].strip()
    value = f"{display} <zoe@example.com>, b@example.org, c@example.org"
    for limit in (78, 120):
        msg = Message(from_="a@example.com", to="b@example.org", text="x",
                      policy=Policy(max_line_length=limit), headers=[(name, value)])
        head = msg.to_bytes().split(b"\r\n\r\n")[0].split(b"\r\n")
        assert all(len(line) <= limit for line in head)
        # the name's first encoded word fills the field's own line
        [first] = [line for line in head if line.startswith(name.encode() + b":")]
        assert first.startswith(name.encode() + b": =?utf-8?")
        assert len(first) > 68 or limit > 78
        assert Message.from_bytes(msg.to_bytes()).headers == msg.headers


def test_the_policy_line_length_folds_every_kind_of_extra_field() -> None:
    long_list = ", ".join(f"user{i}@example.com" for i in range(6))
    trace = " ".join(f"hop{i}.example.net" for i in range(8))
    for limit in (78, 120):
        msg = Message(from_="a@example.com", to="b@example.org", text="x",
                      policy=Policy(max_line_length=limit),
                      headers=[("Resent-To", long_list), ("Received", trace)])
        head = msg.to_bytes().split(b"\r\n\r\n")[0].decode()
        for name in ("Resent-To", "Received"):
            field = re.search(rf"^{name}:.*?\r\n(?! )", head, re.S | re.M)
            assert field is not None
            longest = max(len(line) for line in field.group().split("\r\n"))
            # each fills the lines the policy allows, and no more
            assert limit - 20 < longest <= limit, (name, limit, field.group())


def test_an_address_field_in_a_body_part_is_the_part_s_own_text() -> None:
    """A body part's fields say nothing of the envelope: Resent-Bcc there is
    written, and any field is written as it is."""
    from mailfmt import Multipart, TextPart

    part = TextPart(content="x", headers=[("Resent-Bcc", "list@example.org"),
                                          ("Mail-Followup-To", "not an address")])
    msg = Message(from_="a@example.com", to="b@example.org",
                  body=Multipart(subtype="mixed", parts=[part, TextPart(content="y")]))
    raw = msg.to_bytes()
    assert b"\r\nResent-Bcc: list@example.org\r\n" in raw
    assert b"\r\nMail-Followup-To: not an address\r\n" in raw
    assert msg.envelope.rcpt_to == ("b@example.org",)


def test_an_obsolete_resent_date_says_so() -> None:
    with pytest.raises(ValidationError) as exc:
        Message(from_="a@example.com", headers=[("Resent-Date", "24 Nov 97 14:22 PST")])
    reason = exc.value.errors()[0]["ctx"]["reason"]
    assert reason == "it is in the obsolete form of RFC 5322 4.3, which must not be written"
    with pytest.raises(ValidationError) as exc:
        Message(from_="a@example.com", headers=[("Resent-Date", "Sat, 21 Nov 1997 09:55 +0000")])
    assert exc.value.errors()[0]["ctx"]["reason"] == \
        "21 November 1997 is a Friday, not a Saturday"


def test_valid_resent_fields_are_kept_and_lint_clean() -> None:
    from mailfmt import lint

    block = [("Resent-Date", "Mon, 24 Nov 1997 14:22:01 -0800"),
             ("Resent-From", "Mary Smith <mary@example.net>"),
             ("Resent-To", "Jane Brown <j-brown@example.org>"),
             ("Resent-Message-ID", "78910@example.net")]
    msg = Message(from_="a@example.com", to="b@example.org", text="x", headers=block)
    assert msg.headers[3].value == "<78910@example.net>"     # as Message-ID is
    raw = msg.to_bytes()
    assert lint(raw).violations == ()
    assert Message.from_bytes(raw) == msg


def test_the_parser_gives_the_written_form_of_obsolete_and_lenient_fields() -> None:
    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"Resent-Date: 24 Nov 97 14:22 PST\r\n"
           b"Resent-From: mary@example.net (Mary Smith)\r\n"
           b"Resent-To: <@relay.example.com:jane@example.org>\r\n"
           b"Resent-Message-ID: <78910 @ example.net>\r\n\r\nx\r\n")
    msg = Message.from_bytes(raw)
    assert [h.value for h in msg.headers] == [
        "Mon, 24 Nov 1997 14:22:00 -0800", "Mary Smith <mary@example.net>",
        "jane@example.org", "<78910@example.net>"]


def test_the_parser_refuses_a_broken_extra_field_at_its_line() -> None:
    from mailfmt.errors import ParseError

    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"X-Note: hello\r\nResent-From: Team: a@example.com;\r\n\r\nx\r\n")
    with pytest.raises(ParseError) as exc:
        Message.from_bytes(raw)
    assert exc.value.code == "A106"
    assert exc.value.line == 4


def test_a_mapping_gives_fields_in_order_and_is_checked_as_pairs_are() -> None:
    from mailfmt import TextPart

    m = Message(from_="a@example.com", to="b@example.org", text="x",
                headers={"X-Campaign": "autumn", "X-Note": "café"})
    assert m.headers == [Header(name="X-Campaign", value="autumn"),
                         Header(name="X-Note", value="café")]
    assert b"\r\nX-Campaign: autumn\r\nX-Note: =?utf-8?" in m.to_bytes()
    assert TextPart(content="x", headers={"Content-Language": "de"}).headers == [
        Header(name="Content-Language", value="de")]
    with pytest.raises(ValidationError) as exc:
        Message(from_="a@example.com", text="x", headers={"Subject": "x"})
    assert exc.value.errors()[0]["type"] == "managed-header"
