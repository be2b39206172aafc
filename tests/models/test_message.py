import email
import email.policy
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from mailfmt import Attachment, HtmlPart, Message, Multipart, Policy, TextPart
from mailfmt.lint import lint


def errors(**kwargs: object) -> list[tuple[str, tuple[object, ...]]]:
    with pytest.raises(ValidationError) as exc:
        Message(**kwargs)
    return [(e["type"], e["loc"]) for e in exc.value.errors()]


def test_public_api_example() -> None:
    from mailfmt import Address

    msg = Message(
        from_="Alice Example <alice@example.com>",
        to=["bob@example.org", Address(display_name="Zoë", addr_spec="zoe@example.org")],
        subject="Grüße aus Köln",
        text="Hello\n",
        html="<p>Hello</p>",
        attachments=[Attachment(filename="a.pdf", content=b"%PDF-1.7",
                                content_type="application/pdf")],
        headers=[("X-Campaign", "autumn")],
    )
    raw = msg.to_bytes()
    assert b"".join(msg.iter_bytes()) == raw
    assert Message.from_bytes(raw) == msg
    assert msg.text == "Hello\r\n"


def test_from_alias() -> None:
    assert Message(**{"from": "a@example.com"}).from_[0].addr_spec == "a@example.com"
    assert Message.model_validate({"from": "a@example.com"}).from_[0].addr_spec == \
        "a@example.com"


def test_from_is_required() -> None:
    assert errors() == [("missing-from", ("from_",))]
    assert errors(from_=[])[0][0] == "missing-from"


def test_sender_required_with_several_authors() -> None:
    assert errors(from_=["a@example.com", "b@example.com"]) == \
        [("sender-required", ("sender",))]
    Message(from_=["a@example.com", "b@example.com"], sender="a@example.com")


def test_date_defaults_to_now_and_must_be_aware() -> None:
    msg = Message(from_="a@example.com")
    assert msg.date.tzinfo is not None
    assert abs(datetime.now(timezone.utc) - msg.date) < timedelta(minutes=1)
    assert errors(from_="a@example.com", date=datetime(2024, 1, 1))[0][0] == "invalid-date"


def test_message_id_generated_from_the_from_domain() -> None:
    a = Message(from_="a@exämple.com")
    b = Message(from_="a@exämple.com")
    assert a.message_id != b.message_id
    assert a.message_id is not None
    assert a.message_id.endswith("@xn--exmple-cua.com>")


@pytest.mark.parametrize("mid", ["1234", "<a b@c>", "<a@b", "<" + "x" * 1200 + "@example.com>",
                                 "<é@example.com>"])
def test_invalid_message_ids(mid: str) -> None:
    assert errors(from_="a@example.com", message_id=mid)[0] == \
        ("invalid-message-id", ("message_id",))


def test_message_id_brackets_added() -> None:
    assert Message(from_="a@example.com", message_id="x@example.com").message_id == \
        "<x@example.com>"


def test_bcc_is_in_the_envelope_not_the_bytes() -> None:
    msg = Message(from_="a@example.com", to="b@example.org", cc="c@example.org",
                  bcc=["secret@example.net", "b@example.org"])
    assert b"secret" not in msg.to_bytes()
    assert msg.envelope.mail_from == "a@example.com"
    assert msg.envelope.rcpt_to == ("b@example.org", "c@example.org", "secret@example.net")


def test_envelope_uses_sender_and_ascii_forms() -> None:
    msg = Message(from_=["a@example.com", "b@example.com"], sender="s@exämple.com",
                  to="Team: x@example.org, y@example.org;")
    assert msg.envelope.mail_from == "s@xn--exmple-cua.com"
    assert msg.envelope.rcpt_to == ("x@example.org", "y@example.org")


def test_a_resent_message_goes_to_the_resent_block() -> None:
    """RFC 5322 3.6.6, as smtplib's send_message reads it: the newest block
    (the first; a second Resent-Date starts an older one) gives the envelope;
    Resent-Bcc, like Bcc, is in the envelope only."""
    msg = Message(from_="a@example.com", to="b@example.org", cc="c@example.org", headers=[
        ("Resent-Date", "Mon, 24 Nov 1997 14:22:01 -0800"),
        ("Resent-From", "Mary <mary@example.net>"),
        ("Resent-To", "jane@example.org, Team: t1@example.org, t2@example.org;"),
        ("Resent-Bcc", "hidden@example.net, jane@example.org"),
        ("Resent-Date", "Fri, 21 Nov 1997 10:01:10 -0600"),
        ("Resent-Sender", "old@example.com"),
        ("Resent-Cc", "old-cc@example.com")])
    assert msg.envelope.mail_from == "mary@example.net"
    assert msg.envelope.rcpt_to == ("jane@example.org", "t1@example.org", "t2@example.org",
                                    "hidden@example.net")
    raw = msg.to_bytes()
    assert b"hidden" not in raw and b"Resent-Bcc" not in raw
    # the fields after it are written
    assert b"\r\nResent-Date: Fri, 21 Nov 1997 10:01:10 -0600\r\n" in raw
    assert b"\r\nResent-Cc: old-cc@example.com\r\n" in raw
    assert b"Resent-To: jane@example.org, Team: t1@example.org, t2@example.org;\r\n" in raw
    sender = Message(from_="a@example.com", to="b@example.org",
                     headers=[("Resent-Sender", "s@example.com"), *msg.headers])
    assert sender.envelope.mail_from == "s@example.com"


def test_resent_fields_without_recipients_leave_the_envelope_alone() -> None:
    msg = Message(from_="a@example.com", to="b@example.org", headers=[
        ("Resent-Bcc", ""), ("Resent-Message-ID", "<r@example.com>")])
    assert msg.envelope == Message(from_="a@example.com", to="b@example.org").envelope
    assert b"Resent-Bcc" not in msg.to_bytes()


def test_address_list_string() -> None:
    msg = Message(from_="a@example.com", to='"Doe, John" <j@example.com>, b@example.org')
    assert [a.addr_spec for a in msg.to] == ["j@example.com", "b@example.org"]


def test_too_many_recipients() -> None:
    many = [f"u{i}@example.com" for i in range(1001)]
    assert errors(from_="a@example.com", to=many)[0] == ("too-many-addresses", ("to",))


def test_body_conflict() -> None:
    assert errors(from_="a@example.com", text="x", body=TextPart(content="y"))[0] == \
        ("body-conflict", ("body",))


def test_custom_tree() -> None:
    tree = Multipart(subtype="related", parts=[
        HtmlPart(content='<img src="cid:logo@example.com">'),
        Attachment(content=b"\x89PNG", content_type="image/png", disposition="inline",
                   content_id="logo@example.com", filename="logo.png"),
    ])
    msg = Message(from_="a@example.com", body=tree)
    raw = msg.to_bytes()
    # RFC 2387 3.1: type, the root part's media type, is required
    assert re.search(rb'multipart/related;\s+boundary="[^"]+"; type="text/html"', raw)
    assert b"Content-ID: <logo@example.com>" in raw
    assert Message.from_bytes(raw) == msg
    assert lint(raw).violations == ()
    related = email.message_from_bytes(raw, policy=email.policy.default)
    assert related.get_param("type") == "text/html"


def test_mime_depth_cap() -> None:
    part: TextPart | Multipart = TextPart(content="x")
    with pytest.raises(ValidationError) as exc:
        for _ in range(40):
            part = Multipart(parts=[part])
    assert exc.value.errors()[0]["type"] == "mime-too-deep"


def test_empty_multipart() -> None:
    with pytest.raises(ValidationError) as exc:
        Multipart(parts=[])
    assert exc.value.errors()[0]["type"] == "empty-multipart"


@pytest.mark.parametrize(("kwargs", "rule"), [
    ({"filename": "../../etc/passwd", "content": b"x"}, "invalid-filename"),
    ({"filename": "a\r\nContent-Type: text/html", "content": b"x"}, "line-break-in-value"),
    ({"filename": "   ", "content": b"x"}, "invalid-filename"),
    # readers unquote the decoded name once more: saved as 'a.pdf' (fuzz_format found it)
    ({"filename": '"a.pdf"', "content": b"x"}, "invalid-filename"),
    ({"filename": '"""', "content": b"x"}, "invalid-filename"),
    ({"filename": "<a.pdf>", "content": b"x"}, "invalid-filename"),
    ({"filename": "a", "content": b"x", "content_type": "pdf"}, "invalid-content-type"),
    ({"filename": "a", "content": b"x", "content_type": "multipart/mixed"},
     "invalid-content-type"),
    ({"filename": "a"}, "body-conflict"),
    ({"filename": "a", "content": b"x", "content_id": "no-at-sign"}, "invalid-content-id"),
])
def test_attachment_rules(kwargs: dict[str, object], rule: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Attachment(**kwargs)
    assert exc.value.errors()[0]["type"] == rule


@pytest.mark.parametrize("name", ['"', '"a', 'a"b', "<a", "a>", "a<b>c", '"a" b'])
def test_a_filename_with_quotes_or_brackets_inside_reads_back_as_given(name: str) -> None:
    import email
    import email.policy

    raw = Message(from_="a@example.com", to="b@example.org",
                  attachments=[Attachment(filename=name, content=b"x")]).to_bytes()
    [att] = email.message_from_bytes(raw, policy=email.policy.default).iter_attachments()
    assert att.get_filename() == name
    assert Message.from_bytes(raw).attachments[0].filename == name


def test_attachment_path_checked_at_construction(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as exc:
        Attachment.from_path(tmp_path / "missing.pdf")
    assert exc.value.errors()[0]["type"] == "attachment-unreadable"
    with pytest.raises(ValidationError):
        Attachment.from_path(tmp_path)


def test_attachment_from_path_matches_in_memory(tmp_path: Path) -> None:
    data = bytes(range(256)) * 4000
    f = tmp_path / "data.bin"
    f.write_bytes(data)
    common = {"from_": "a@example.com", "message_id": "<1@example.com>",
              "date": "2024-01-01T00:00:00Z", "text": "see attached"}
    streamed = Message(**common, attachments=[Attachment.from_path(f)]).to_bytes()
    memory = Message(**common, attachments=[
        Attachment(filename="data.bin", content=data)]).to_bytes()
    assert streamed == memory
    assert Message.from_bytes(streamed).attachments[0].content == data


def test_policy_through_context() -> None:
    data = {"from": "zoë@example.org", "subject": "Grüße"}
    msg = Message.model_validate(data, context={"policy": Policy(utf8=True)})
    assert msg.policy.utf8
    assert "Subject: Grüße".encode() in msg.to_bytes()


def test_policy_max_line_length() -> None:
    msg = Message(from_="a@example.com", subject=" ".join(["word"] * 60),
                  policy=Policy(max_line_length=120))
    lines = msg.to_bytes().split(b"\r\n\r\n")[0].split(b"\r\n")
    assert max(map(len, lines)) > 78
    assert max(map(len, lines)) <= 120
    with pytest.raises(ValidationError):
        Policy(max_line_length=2000)


def test_json_schema_and_json_round_trip() -> None:
    schema = Message.model_json_schema()
    assert "from" in schema["properties"]
    json.dumps(schema)
    msg = Message(from_="a@example.com", to="b@example.org", text="hi",
                  attachments=[Attachment(filename="a.bin", content=b"\x00\xff")])
    again = Message.model_validate_json(msg.model_dump_json(by_alias=True))
    assert again == msg


def test_errors_are_machine_readable() -> None:
    with pytest.raises(ValidationError) as exc:
        Message(from_="a@example.com", subject="hi\r\nBcc: x@example.com")
    err = exc.value.errors()[0]
    assert err["type"] == "line-break-in-value"
    assert err["loc"] == ("subject",)
    assert err["ctx"]["code"] == "H103"
    assert err["ctx"]["index"] == 2


def test_json_schema_validates_real_payloads() -> None:
    import jsonschema

    schema = Message.model_json_schema()
    payload = {"from": "Alice <alice@example.com>", "to": ["bob@example.org"],
               "subject": "Hi", "text": "Hello",
               "attachments": [{"filename": "a.txt", "content": "aGVsbG8="}]}
    jsonschema.validate(payload, schema)
    msg = Message.model_validate_json(json.dumps(payload))
    assert msg.attachments[0].content == b"hello"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"from": "a@example.com", "to": 5}, schema)


def test_an_address_list_item_error_names_the_field_and_the_item() -> None:
    def first(**kwargs: object) -> tuple[str, str]:
        with pytest.raises(ValidationError) as exc:
            Message(**kwargs)
        e = exc.value.errors()[0]
        return e["type"], e["msg"]
    kind, msg = first(from_="a@example.com", to=["b@example.org", "c@@example.org"])
    assert kind == "invalid-address-list"
    assert msg.startswith("To, item 2: expected a domain after '@'")
    kind, msg = first(from_="a@example.com", cc=[{"addr_spec": "x@@example.org"}])
    assert kind == "invalid-address" and msg.startswith("Cc: 'x@@example.org'")


def test_sender_group_is_refused_by_rule() -> None:
    with pytest.raises(ValidationError) as exc:
        Message(from_="a@example.com", sender="Team: s@example.com;")
    err = exc.value.errors()[0]
    assert err["type"] == "invalid-address-list"
    assert err["msg"].startswith("Sender: Sender takes one mailbox, not a group")


def test_body_parts_carry_their_own_fields() -> None:
    pdf = Attachment(filename="a.pdf", content=b"%PDF", headers=[("X-Attachment-Id", "f_1")])
    text = TextPart(content="hi", headers=[("Content-Description", "Grüße")])
    msg = Message(from_="a@example.com", body=Multipart(parts=[text, pdf]))
    raw = msg.to_bytes()
    # after the fields the model writes, encoded where the text needs it
    assert b'filename="a.pdf"\r\nX-Attachment-Id: f_1\r\n\r\n' in raw
    assert b"Content-Transfer-Encoding: 7bit\r\nContent-Description: =?utf-8?" in raw


@pytest.mark.parametrize(("part", "name", "attribute"), [
    (lambda h: TextPart(content="x", headers=h), "Content-Type", "subtype"),
    (lambda h: TextPart(content="x", headers=h), "content-disposition", "kind"),
    (lambda h: Attachment(content=b"x", headers=h), "Content-ID", "content_id"),
    (lambda h: Attachment(content=b"x", headers=h), "Content-Transfer-Encoding", "content"),
    (lambda h: Multipart(parts=[TextPart(content="x")], headers=h), "MIME-Version", "body"),
])
def test_a_part_refuses_the_fields_its_model_writes(part, name, attribute) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        part([(name, "x")])
    err = info.value.errors()[0]
    assert err["type"] == "managed-header"
    assert err["ctx"]["attribute"] == attribute


def test_the_root_parts_fields_belong_to_the_message() -> None:
    with pytest.raises(ValidationError) as info:
        Message(from_="a@example.com", body=TextPart(content="x", headers=[("X-A", "1")]))
    assert info.value.errors()[0]["type"] == "managed-header"
    assert info.value.errors()[0]["ctx"]["attribute"] == "headers"


def test_a_parts_field_written_as_it_is_follows_the_messages_policy() -> None:
    att = Attachment(content=b"x", headers=[("Content-Location", "http://exämple.com/")])
    with pytest.raises(ValidationError) as info:
        Message(from_="a@example.com", attachments=[att])
    assert info.value.errors()[0]["type"] == "non-ascii-header"
    msg = Message(from_="a@example.com", attachments=[att], policy=Policy(utf8=True))
    assert "Content-Location: http://exämple.com/\r\n".encode() in msg.to_bytes()


def test_an_attachments_content_type_takes_parameters() -> None:
    # An invitation needs its method (RFC 6047 2.4); text needs its charset.
    invite = Attachment(filename="invite.ics", content=b"BEGIN:VCALENDAR",
                        content_type="Text/Calendar; method=REQUEST; charset=utf-8",
                        params={"charset": "UTF-8"})
    assert invite.content_type == "text/calendar"
    assert invite.params == {"method": "REQUEST", "charset": "UTF-8"}   # given ones win
    msg = Message(from_="a@example.com", attachments=[invite])
    assert b'Content-Type: text/calendar; method="REQUEST"; charset="UTF-8"\r\n' in msg.to_bytes()
    assert Message.from_bytes(msg.to_bytes()) == msg


@pytest.mark.parametrize(("kw", "says"), [
    ({"content_type": "text/csv; charset"}, "expected ';name=value'"),
    ({"params": {"char set": "x"}}, "a parameter name is a MIME token"),
    ({"params": {"title*": "x"}}, "a parameter name is a MIME token"),
    ({"params": {"charset": "a\r\nb"}}, "line break"),
    ({"params": {f"p{i}": "x" for i in range(65)}}, "at most 64 parameters"),
])
def test_bad_attachment_parameters_are_refused(kw: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError) as info:
        Attachment(content=b"x", **kw)  # type: ignore[arg-type]
    assert says in str(info.value)


def test_any_part_may_have_a_content_id() -> None:
    html = HtmlPart(content="<p>hi</p>", content_id="root@example.com")
    tree = Multipart(subtype="related", content_id="<tree@example.com>", parts=[
        html, Attachment(content=b"x", content_id="<img@example.com>")])
    raw = Message(from_="a@example.com", body=Multipart(parts=[tree])).to_bytes()
    assert b"charset=\"us-ascii\"\r\nContent-Transfer-Encoding: 7bit\r\n" \
           b"Content-ID: <root@example.com>\r\n" in raw
    assert b"boundary=" in raw and b"\r\nContent-ID: <tree@example.com>\r\n" in raw
    with pytest.raises(ValidationError):
        TextPart(content="x", content_id="not an id")


def test_a_message_attachment_goes_as_it_is(tmp_path: Path) -> None:
    eml = tmp_path / "fwd.eml"
    eml.write_bytes(b"From: c@example.com\nSubject: inner\n\nbody\n")   # LF endings
    fwd = Attachment.from_path(eml)
    # guessed from .eml, read now (it is checked whole), with CRLF line ends
    assert (fwd.content_type, fwd.path) == ("message/rfc822", None)
    assert fwd.content == b"From: c@example.com\r\nSubject: inner\r\n\r\nbody\r\n"
    raw = Message(from_="a@example.com", attachments=[fwd]).to_bytes()
    assert b"Content-Transfer-Encoding: 7bit\r\nContent-Disposition: attachment;" \
           b' filename="fwd.eml"\r\n\r\nFrom: c@example.com\r\n' in raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    inner = parsed.get_payload()[0].get_payload()[0]
    assert inner["Subject"] == "inner" and inner.get_content().rstrip() == "body"
    with pytest.raises(ValidationError) as info:
        Attachment.from_path(tmp_path / "missing.eml")
    assert info.value.errors()[0]["type"] == "attachment-unreadable"


@pytest.mark.parametrize(("content", "rule"), [
    (b"From: c@example.com\r\n\r\na\x00b\r\n", "nul-byte"),
    (b"From: c@example.com\r\n\r\n" + b"x" * 999 + b"\r\n", "line-too-long"),
])
def test_a_message_attachment_that_cannot_go_unencoded_is_refused(content: bytes,
                                                                   rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        Attachment(content=content, content_type="message/rfc822")
    assert info.value.errors()[0]["type"] == rule


def test_an_8bit_message_attachment_needs_utf8() -> None:
    fwd = Attachment(content="Subject: café\r\n\r\nhi\r\n".encode(), content_type="message/rfc822")
    with pytest.raises(ValidationError) as info:
        Message(from_="a@example.com", attachments=[fwd])
    assert info.value.errors()[0]["type"] == "8bit-without-declaration"
    raw = Message(from_="a@example.com", attachments=[fwd], policy=Policy(utf8=True)).to_bytes()
    assert b"Content-Transfer-Encoding: 8bit" in raw


def test_multipart_parameters() -> None:
    report = Multipart(subtype="report", params={"Report-Type": "delivery-status"},
                       parts=[TextPart(content="x")])
    raw = Message(from_="a@example.com", body=report).to_bytes()
    assert re.search(rb'multipart/report; boundary="[^"]+";\s+report-type="delivery-status"', raw)
    for sub, name in (("mixed", "boundary"), ("related", "type"), ("related", "start")):
        with pytest.raises(ValidationError, match="the writer makes this parameter"):
            Multipart(subtype=sub, params={name: "x"}, parts=[TextPart(content="x")])


def test_a_text_parts_parameters_are_its_own_but_the_charset() -> None:
    cal = TextPart(content="BEGIN:VCALENDAR\n", subtype="calendar", params={"method": "REQUEST"})
    raw = Message(from_="a@example.com", body=Multipart(parts=[cal])).to_bytes()
    assert b'text/calendar; charset="us-ascii"; method="REQUEST"' in raw
    for name in ("charset", "format", "delsp"):
        with pytest.raises(ValidationError, match="the writer makes this parameter"):
            TextPart(content="x", params={name: "x"})


def test_a_message_attachment_given_as_a_bytearray_gets_crlf_too() -> None:
    fwd = Attachment(content=bytearray(b"From: c@example.com\n\nhi\n"),
                     content_type="message/rfc822")
    assert fwd.content == b"From: c@example.com\r\n\r\nhi\r\n"


@given(st.lists(st.text(alphabet="ab :.\t", max_size=60), min_size=1, max_size=20),
       st.sampled_from(["\n", "\r\n", "\r"]), st.sampled_from([bytes, bytearray]))
def test_any_embedded_message_is_written_with_crlf_and_lints_clean(
        lines: list[str], end: str, kind: type) -> None:
    inner = "From: c@example.com" + end + end + end.join(lines) + end
    fwd = Attachment(content=kind(inner.encode()), content_type="message/rfc822")
    raw = Message(from_="a@example.com", attachments=[fwd]).to_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    assert [v.code for v in lint(raw).violations if v.severity.value == "error"] == []


def test_the_writer_refuses_an_injected_header_line_in_any_block() -> None:
    # Models made without validation (model_construct) reach the writer's
    # last check, for the message's block and every body part's.
    from mailfmt.errors import FormatError
    from mailfmt.models.header import Header

    evil = Header.model_construct(name="X-A", value="a\r\nBcc: victim@example.com")
    part = TextPart.model_construct(content="x", headers=[evil])
    msg = Message(from_="a@example.com", body=Multipart(parts=[TextPart(content="y")]))
    for m in (msg.model_copy(update={"headers": [evil]}),
              msg.model_copy(update={"body": Multipart.of("mixed", [part])})):
        with pytest.raises(FormatError) as info:
            m.to_bytes()
        assert info.value.rule.name == "line-break-in-value"
