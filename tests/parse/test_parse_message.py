"""Message.from_bytes: RFC vectors, strictness with rule ids and positions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailfmt import Attachment, Group, Message, Multipart, ParseError, Policy, TextPart
from mailfmt.lint import lint

VECTORS = Path(__file__).parent.parent / "vectors" / "rfc5322"
TEST_DOMAINS = Policy(test_environment=True)


def vector(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def test_a_1_1_simple() -> None:
    msg = Message.from_bytes(vector("A.1.1-simple.eml"))
    assert msg.from_[0].display_name == "John Doe"
    assert msg.from_[0].addr_spec == "jdoe@machine.example"
    assert msg.subject == "Saying Hello"
    assert msg.date == datetime(1997, 11, 21, 9, 55, 6, tzinfo=timezone(timedelta(hours=-6)))
    assert msg.message_id == "<1234@local.machine.example>"
    assert msg.text == 'This is a message just to say hello.\r\nSo, "Hello".\r\n'


def test_a_1_2_quoted_names() -> None:
    msg = Message.from_bytes(vector("A.1.2-different-types.eml"), policy=TEST_DOMAINS)
    assert msg.from_[0].display_name == "Joe Q. Public"
    assert [a.display_name for a in msg.to] == ["Mary Smith", None, "Who?"]
    assert msg.cc[1].display_name == 'Giant; "Big" Box'


def test_a_1_3_groups() -> None:
    msg = Message.from_bytes(vector("A.1.3-group.eml"), policy=TEST_DOMAINS)
    group = msg.to[0]
    assert isinstance(group, Group)
    assert group.display_name == "A Group"
    assert [m.addr_spec for m in group.members] == ["c@a.test", "joe@where.test", "jdoe@one.test"]
    assert msg.cc == [Group(display_name="Undisclosed recipients")]
    assert msg.envelope.rcpt_to == ("c@a.test", "joe@where.test", "jdoe@one.test")


def test_a_2_reply() -> None:
    msg = Message.from_bytes(vector("A.2-reply.eml"))
    assert msg.reply_to[0].display_name == "Mary Smith: Personal Account"
    assert msg.in_reply_to == ["<1234@local.machine.example>"]
    assert msg.references == ["<1234@local.machine.example>"]


def test_a_3_resent_fields_are_kept() -> None:
    msg = Message.from_bytes(vector("A.3-resent.eml"))
    assert [h.name for h in msg.headers][:2] == ["Resent-From", "Resent-To"]


def test_a_4_trace_fields_unfold() -> None:
    msg = Message.from_bytes(vector("A.4-trace.eml"))
    received = [h.value for h in msg.headers if h.name == "Received"]
    assert received[0].startswith("from x.y.test   by example.net   via TCP")
    # Written back, they stay trace fields (no encoded words).
    assert b"=?" not in msg.to_bytes()


def test_a_5_comments_are_read_as_blanks() -> None:
    # RFC 5322 3.2.2: comments are CFWS, which a reader skips
    msg = Message.from_bytes(vector("A.5-comments.eml"), policy=TEST_DOMAINS)
    assert [(a.display_name, a.addr_spec) for a in msg.from_] == [("Pete", "pete@silly.test")]
    (group,) = msg.to
    assert isinstance(group, Group) and group.display_name == "A Group"
    assert [(m.display_name, m.addr_spec) for m in group.members] == [
        ("Chris Jones", "c@public.example"), (None, "joe@example.org"),
        ("John", "jdoe@one.test")]
    (hidden,) = msg.cc
    assert isinstance(hidden, Group) and hidden.members == []
    again = Message.from_bytes(msg.to_bytes(), policy=TEST_DOMAINS)
    assert again == msg and b"(" not in msg.to_bytes().split(b"\r\n\r\n")[0]


@pytest.mark.parametrize(("field", "read"), [
    # a comment after a bare addr-spec is the only name it has: kept as its
    # display name, as the stdlib's parseaddr does
    (b"From: bperson@dom.ain (Barry A. Warsaw)", ("Barry A. Warsaw", "bperson@dom.ain")),
    (b"From: root@example.com (Cron Daemon (nested))", ("Cron Daemon (nested)",
                                                         "root@example.com")),
    (b"From: Name <a@example.com> (a remark)", ("Name", "a@example.com")),
    (b"From: (before) a@example.com", (None, "a@example.com")),
])
def test_a_comment_after_a_bare_address_is_its_name(field: bytes,
                                                    read: tuple[str | None, str]) -> None:
    raw = field + b"\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n\r\nhi\r\n"
    (mailbox,) = Message.from_bytes(raw, policy=TEST_DOMAINS).from_
    assert (mailbox.display_name, mailbox.addr_spec) == read


def base(extra: bytes = b"", body: bytes = b"hi\r\n") -> bytes:
    return (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n" + extra
            + b"\r\n" + body)


@pytest.mark.parametrize(("raw", "code", "line"), [
    (b"From: a@example.com\nDate: Fri, 21 Nov 1997 09:55:06 -0600\n\nhi", "S102", 1),
    (base(body=b"a\r.\r\nb"), "S103", 4),
    (base(body=b"a\x00b"), "S104", 4),
    (base(b"X-Bad \xc3\xa9: v\r\n"), "H101", 3),
    (base(b"X-Test: caf\xc3\xa9\r\n"), "E101", 3),
    (base(b"Subject hello\r\n"), "H108", 3),
    (b" From: a@example.com\r\n\r\n", "H109", 1),
    (base(b"From: b@example.com\r\n"), "H203", 3),
    (b"Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n\r\n", "H201", 1),
    (b"From: a@example.com\r\n\r\n", "H202", 1),
    (base(b"Subject: =?utf-8?q?a=0Ab?=\r\n"), "E107", 3),
    (base(b"To: alice@example.org)<bob@example.org>\r\n"), "A106", 3),
    (base(b"Message-ID: 1234\r\n"), "H205", 3),
    (base(b"Content-Type: multipart/mixed\r\n"), "M109", 3),
    (base(b'Content-Type: multipart/mixed; boundary="b"\r\n', b"--b\r\n\r\nx\r\n"),
     "M110", 3),
    (base(b'Content-Type: multipart/mixed; boundary="b"\r\n', b"no parts\r\n"), "M110", 3),
    (base(b"Content-Transfer-Encoding: base64\r\n", b"not*base64\r\n"), "E102", 5),
    (base(b"Content-Transfer-Encoding: quoted-printable\r\n", b"ok\r\n=ZZ\r\n"), "E103", 6),
    (base(b"Content-Transfer-Encoding: uuencode\r\n"), "E104", 3),
    (base(b"Content-Type: text/plain; charset=x-nonsense\r\n"), "E105", 3),
    (base(body=b"caf\xc3\xa9\r\n"), "E106", 4),
    # RFC 2231 percent-encoding puts a NUL in the name without a NUL octet.
    (base(b"Content-Type: text/plain; charset*=utf-8''us%00ascii\r\n"), "E105", 3),
    # A line counted past earlier parts (the count goes on where it stopped).
    (base(b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n',
          b"--b\r\nContent-Type: text/plain\r\n\r\none\r\n--b\r\nContent-Type: text/plain"
          b"\r\n\r\ntwo\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\nnot*base64\r\n"
          b"--b--\r\n"), "E102", 17),
    # Two Content-Type fields in a body part leave the reader a choice.
    (base(b'Content-Type: multipart/mixed; boundary="b"\r\n',
          b"--b\r\nContent-Type: text/plain\r\ncontent-type: text/html\r\n\r\nx\r\n--b--\r\n"),
     "H203", 7),
])
def test_refusals_name_rule_and_line(raw: bytes, code: str, line: int) -> None:
    with pytest.raises(ParseError) as exc:
        Message.from_bytes(raw)
    assert exc.value.code == code, exc.value
    assert exc.value.line == line, exc.value


def test_invalid_date_and_obs_zone() -> None:
    with pytest.raises(ParseError) as exc:
        Message.from_bytes(base().replace(b"Fri, 21 Nov 1997 09:55:06 -0600", b"yesterday"))
    assert exc.value.code == "H206"
    assert exc.value.line == 2
    msg = Message.from_bytes(base().replace(b"-0600", b"GMT (UTC)"))
    assert msg.date.utcoffset() == timedelta(0)


@pytest.mark.parametrize(("date", "read"), [
    # RFC 5322 4: the obsolete syntax MUST be accepted; 4.3 says how to read it.
    (b"21 Nov 97 09:55:06 GMT", datetime(1997, 11, 21, 9, 55, 6, tzinfo=timezone.utc)),
    (b"Fri, 21 Nov 1997 09:55 EST", datetime(1997, 11, 21, 9, 55,
                                             tzinfo=timezone(timedelta(hours=-5)))),
    (b"1 Jan 49 00:00 PDT", datetime(2049, 1, 1, tzinfo=timezone(timedelta(hours=-7)))),
    (b"1 Jan 101 00:00 (noon) Z", datetime(2001, 1, 1, tzinfo=timezone.utc)),
])
def test_obsolete_dates_are_read(date: bytes, read: datetime) -> None:
    msg = Message.from_bytes(base().replace(b"Fri, 21 Nov 1997 09:55:06 -0600", date))
    assert msg.date == read and msg.date.utcoffset() == read.utcoffset()


@pytest.mark.parametrize(("date", "says"), [
    (b"Sat, 21 Nov 1997 09:55:06 -0600", "is a Friday, not a Saturday"),
    (b"30 Feb 2024 09:55:06 -0600", "day 30 is not in February 2024"),
    (b"1 Jan 2024 23:59:60 +0000", "a leap second cannot be held"),
    (b"1 Jan 2024 23:59 +2400", "a zone of 24 hours or more cannot be held"),
])
def test_dates_that_break_rfc_5322_3_3_or_the_model_are_refused(date: bytes, says: str) -> None:
    with pytest.raises(ParseError) as exc:
        Message.from_bytes(base().replace(b"Fri, 21 Nov 1997 09:55:06 -0600", date))
    assert exc.value.code == "H206" and says in str(exc.value)


def nested(depth: int) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\nleaf"
    for i in range(depth):
        body = (f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode()
                + body + f"\r\n--b{i}--".encode())
    return body


def test_nested_depth_cap() -> None:
    head = base(b"MIME-Version: 1.0\r\n").split(b"\r\n\r\n")[0] + b"\r\n"
    ok = Message.from_bytes(head + nested(32))
    assert ok.body is not None
    with pytest.raises(ParseError) as exc:
        Message.from_bytes(head + nested(40))
    assert exc.value.code == "M101"


def test_not_bytes() -> None:
    with pytest.raises(TypeError):
        Message.from_bytes("text")  # type: ignore[arg-type]


def test_parse_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="S102 bare-lf"):
        Message.from_bytes(b"From: a@example.com\n\n")


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = st.sampled_from([
    b"From: a@example.com\r\n", b"Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n", b"To: ",
    b"Content-Type: multipart/mixed; boundary=b\r\n", b"--b\r\n", b"--b--", b"\r\n",
    b"Content-Transfer-Encoding: base64\r\n", b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"Content-Type: text/plain; charset=utf-8\r\n", b"Content-Disposition: attachment; ",
    b"filename*0*=utf-8''%E2; ", b"=?utf-8?q?x?=", b"\xc3\xa9", b"\xff", b'"', b"<", b">",
    b"@", b",", b";", b":", b"(", b"=", b"=ZZ", b"YWJj", b"x" * 80, b" ", b"\n", b"\r",
])


@given(st.one_of(st.binary(max_size=2000), st.lists(_PIECES, max_size=50).map(b"".join)))
def test_from_bytes_raises_only_parse_error(data: bytes) -> None:
    try:
        msg = Message.from_bytes(data)
    except ParseError:
        return
    # Whatever it accepts it can write again, and read back the same.
    assert Message.from_bytes(msg.to_bytes()) == msg.model_copy(update={"bcc": []})



def test_blanks_before_the_colon_are_read_as_rfc_5322_4_5_says() -> None:
    # obs-optional: a receiver must accept "Name :"; the name has no blanks.
    msg = Message.from_bytes(b"From : a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
                             b"Subject\t: hi\r\nX-Odd  : v\r\n\r\nbody\r\n")
    assert (str(msg.from_[0]), msg.subject) == ("a@example.com", "hi")
    assert [(h.name, h.value) for h in msg.headers] == [("X-Odd", "v")]
    with pytest.raises(ParseError) as exc:
        Message.from_bytes(base(b"X Odd: v\r\n"))
    assert exc.value.code == "H101"


def test_comments_in_mime_fields() -> None:
    # RFC 2045 5.1's own example, and a comment after a transfer encoding
    raw = base(b"MIME-Version: 1.0\r\nContent-type: text/plain; charset=us-ascii (Plain text)"
               b"\r\nContent-Transfer-Encoding: quoted-printable (soft breaks)\r\n",
               body=b"cafe is not=\r\n one line\r\n")
    msg = Message.from_bytes(raw)
    assert msg.text == "cafe is not one line\r\n"     # the soft break is decoded


def test_a_6_2_obsolete_dates() -> None:
    msg = Message.from_bytes(vector("A.6.2-obsolete-dates.eml"))
    assert msg.date == datetime(1997, 11, 21, 9, 55, 6, tzinfo=timezone.utc)


def test_a_6_1_and_a_6_3_obsolete_addressing_is_read() -> None:
    # RFC 5322 4.4: a route (dropped, as RFC 5321 C says), an empty list
    # element, and blanks or comments inside an addr-spec
    msg = Message.from_bytes(vector("A.6.1-obsolete-addressing.eml"), policy=TEST_DOMAINS)
    assert [(a.display_name, a.addr_spec) for a in msg.to] == [
        ("Mary Smith", "mary@example.net"), (None, "jdoe@test.example")]
    msg = Message.from_bytes(vector("A.6.3-obsolete-whitespace.eml"), policy=TEST_DOMAINS)
    assert msg.from_[0].addr_spec == "jdoe@machine.example"
    assert msg.to[0].display_name == "Mary Smith"


def test_rfc_2046_5_1_1_example() -> None:
    # a space in the boundary, a part with no header, a preamble and epilogue,
    # and a comment after the Date's zone
    raw = (VECTORS.parent / "rfc2046" / "5.1.1-simple-boundary.eml").read_bytes()
    # the RFC's example as it is: it has no Message-ID, which RFC 5322 asks for
    assert [v.code for v in lint(raw).violations] == ["H208"]
    msg = Message.from_bytes(raw)
    assert msg.body is not None and msg.body.subtype == "mixed"
    assert [p.content for p in msg.body.parts] == [  # type: ignore[union-attr]
        "This is implicitly typed plain US-ASCII text.\r\nIt does NOT end with a linebreak.",
        "This is explicitly typed plain US-ASCII text.\r\nIt DOES end with a linebreak.\r\n"]


@pytest.mark.parametrize("bcc", [b"Bcc:", b"Bcc:  ", b"Bcc: (undisclosed recipients)"])
def test_an_empty_bcc_is_read(bcc: bytes) -> None:
    # RFC 5322 3.6.3: bcc = "Bcc:" [address-list / CFWS]
    msg = Message.from_bytes(base(bcc + b"\r\n"))
    assert msg.bcc == []


@pytest.mark.parametrize(("field", "read"), [
    # RFC 5322 3.6.4: CFWS around an id; 4.5.4: blanks or comments inside one,
    # next to its dots and "@" (obsolete, which readers must accept)
    (b"Message-ID: <a@b.example> (sent by x)", "<a@b.example>"),
    (b"Message-ID: <1234   @   local(blah)  .machine .example>", "<1234@local.machine.example>"),
])
def test_msg_ids_are_read_without_their_cfws(field: bytes, read: str) -> None:
    refs = b"References: <x@y.example> (c) < z @ w.example >\r\n"
    msg = Message.from_bytes(base(field + b"\r\n" + refs))
    assert msg.message_id == read
    assert msg.references == ["<x@y.example>", "<z@w.example>"]


def test_a_parts_content_id_is_read_without_its_cfws() -> None:
    raw = base(b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=b\r\n",
               body=b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n"
                    b"Content-Type: image/png\r\nContent-ID: <logo@b.example> (the logo)\r\n"
                    b"Content-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--b--\r\n")
    msg = Message.from_bytes(raw)
    assert isinstance(msg.body, Multipart) and isinstance(msg.body.parts[1], Attachment)
    assert msg.body.parts[1].content_id == "<logo@b.example>"


def test_a_message_without_message_id_reads_the_same_each_time() -> None:
    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"Subject: no id\r\n\r\nhi\r\n")
    first, again = Message.from_bytes(raw), Message.from_bytes(raw)
    assert first == again
    assert first.message_id.endswith("@example.com>")
    # written out and read back, it keeps that id
    assert Message.from_bytes(first.to_bytes()).message_id == first.message_id
    # another message gets another id
    assert Message.from_bytes(raw.replace(b"hi", b"ho")).message_id != first.message_id


def test_a_body_parts_own_fields_are_kept() -> None:
    # RFC 2045 8 Content-Description (text, with an encoded word), RFC 3282
    # Content-Language, RFC 2557 Content-Location (structured: kept as it is),
    # and an extension field; the MIME fields the models write are not among them.
    raw = base(b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n",
               body=b"--b\r\nContent-Type: text/plain\r\n"
                    b"Content-Description: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
                    b"Content-Language: de\r\n\r\nhallo\r\n--b\r\n"
                    b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
                    b"Content-Disposition: attachment; filename=a.pdf\r\n"
                    b"X-Attachment-Id: f_abc\r\nContent-Location: http://example.com/a.pdf\r\n"
                    b"\r\nQUJD\r\n--b--\r\n")
    msg = Message.from_bytes(raw)
    assert msg.body is not None and isinstance(msg.body, Multipart)
    text, pdf = msg.body.parts
    assert isinstance(text, TextPart) and text.content == "hallo"
    assert [(h.name, h.value) for h in text.headers] == [
        ("Content-Description", "Grüße"), ("Content-Language", "de")]
    assert [(h.name, h.value) for h in pdf.headers] == [
        ("X-Attachment-Id", "f_abc"), ("Content-Location", "http://example.com/a.pdf")]
    # written again, read again: the same message
    assert Message.from_bytes(msg.to_bytes()) == msg


def test_a_text_part_with_fields_is_not_read_as_the_text_shortcut() -> None:
    # text= has no fields of its own: reading it so would drop them.
    raw = base(b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n",
               body=b"--b\r\nContent-Type: text/plain\r\nContent-Language: en\r\n\r\nhi\r\n"
                    b"--b\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--b--\r\n")
    msg = Message.from_bytes(raw)
    assert msg.text is None and msg.body is not None
    assert Message.from_bytes(msg.to_bytes()) == msg


def test_an_attachments_content_type_parameters_are_kept() -> None:
    raw = base(b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n",
               body=b"--b\r\nContent-Type: text/plain\r\n\r\nsee the file\r\n--b\r\n"
                    b"Content-Type: text/csv; charset=windows-1252; name=a.csv\r\n"
                    b"Content-Disposition: attachment\r\n\r\nna\xefve;1\r\n--b--\r\n",
               ).replace(b"Content-Type: text/csv", b"Content-Transfer-Encoding: 8bit\r\n"
                         b"Content-Type: text/csv")
    msg = Message.from_bytes(raw)
    (csv,) = msg.attachments
    assert csv.filename == "a.csv" and csv.content == b"na\xefve;1"
    assert csv.params == {"charset": "windows-1252", "name": "a.csv"}
    assert Message.from_bytes(msg.to_bytes()) == msg


def test_every_kind_of_part_keeps_its_content_id() -> None:
    # RFC 2045 7: any body part may have a Content-ID; RFC 2387 3.2: start
    # names the root of a multipart/related by it (here the second part).
    raw = base(b"MIME-Version: 1.0\r\nContent-Type: multipart/related; type=\"text/html\";\r\n"
               b" start=\"<root@b.example>\"; boundary=b\r\n",
               body=b"--b\r\nContent-Type: image/png\r\nContent-ID: <img@b.example>\r\n"
                    b"Content-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--b\r\n"
                    b"Content-Type: text/html\r\nContent-ID: <root@b.example>\r\n\r\n"
                    b"<img src=\"cid:img@b.example\">\r\n--b--\r\n")
    msg = Message.from_bytes(raw)
    assert isinstance(msg.body, Multipart)
    root, image = msg.body.parts        # the root first, as the models write it
    assert (root.kind, root.content_id) == ("html", "<root@b.example>")
    assert (image.kind, image.content_id) == ("attachment", "<img@b.example>")
    again = msg.to_bytes()
    assert b"Content-Transfer-Encoding: 7bit\r\nContent-ID: <root@b.example>\r\n" in again
    assert Message.from_bytes(again) == msg
    assert lint(again).violations == ()


_INNER = (b"From: c@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
          b"Subject: inner\r\n\r\ninner body\r\n")


def test_a_forwarded_message_is_read_as_an_attachment() -> None:
    # RFC 2046 5.2.1 message/rfc822, as "forward as attachment" writes it
    raw = base(b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n",
               body=b"--b\r\nContent-Type: text/plain\r\n\r\nsee below\r\n--b\r\n"
                    b"Content-Type: message/rfc822\r\n"
                    b"Content-Disposition: attachment; filename=fwd.eml\r\n\r\n"
                    + _INNER + b"\r\n--b--\r\n")
    msg = Message.from_bytes(raw)
    (fwd,) = msg.attachments
    assert (fwd.content_type, fwd.filename, fwd.content) == ("message/rfc822", "fwd.eml", _INNER)
    again = msg.to_bytes()
    # written as it is (never base64), and read back the same
    assert b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 7bit\r\n" in again
    assert _INNER in again
    assert Message.from_bytes(again) == msg
    assert lint(again).violations == ()


def test_a_delivery_status_notification_is_read() -> None:
    # RFC 3464 / RFC 6522: multipart/report with its report-type, a
    # message/delivery-status part and the returned message's header
    raw = base(b"MIME-Version: 1.0\r\nContent-Type: multipart/report;"
               b" report-type=delivery-status; boundary=b\r\n",
               body=b"--b\r\nContent-Type: text/plain\r\n\r\nundeliverable\r\n--b\r\n"
                    b"Content-Type: message/delivery-status\r\n\r\n"
                    b"Reporting-MTA: dns; mx.example.com\r\n\r\n"
                    b"Final-Recipient: rfc822; x@example.org\r\nAction: failed\r\n"
                    b"Status: 5.1.1\r\n\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
                    b"Subject: inner\r\n\r\n--b--\r\n")
    msg = Message.from_bytes(raw)
    assert isinstance(msg.body, Multipart) and msg.body.subtype == "report"
    assert msg.body.params == {"report-type": "delivery-status"}
    status = msg.body.parts[1]
    assert isinstance(status, Attachment) and status.content_type == "message/delivery-status"
    again = msg.to_bytes()
    assert b'report-type="delivery-status"' in again
    assert Message.from_bytes(again) == msg


def test_a_calendar_invitation_keeps_its_method() -> None:
    # RFC 6047 2.4: without method=REQUEST a client shows no invitation
    raw = base(b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n",
               body=b"--b\r\nContent-Type: text/plain\r\n\r\nMeeting\r\n--b\r\n"
                    b'Content-Type: text/calendar; charset="UTF-8"; method=REQUEST\r\n\r\n'
                    b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n--b--\r\n")
    msg = Message.from_bytes(raw)
    assert isinstance(msg.body, Multipart)
    invite = msg.body.parts[1]
    assert isinstance(invite, TextPart) and invite.subtype == "calendar"
    assert invite.params == {"method": "REQUEST"}     # the charset is the writer's
    again = msg.to_bytes()
    assert b'Content-Type: text/calendar; charset="us-ascii"; method="REQUEST"' in again
    assert Message.from_bytes(again) == msg
