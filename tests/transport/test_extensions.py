"""MAIL's parameters over the sans-IO core: SIZE (RFC 1870), BODY=8BITMIME
(RFC 6152) and SMTPUTF8 (RFC 6531) go out when the message needs them and
the server offers them; a message the server cannot take is refused before
MAIL, with a clear error."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from mailfmt import Message, Policy
from mailfmt.errors import ExtensionMissing, MessageTooLarge

from .wire import Outcome, Server, run_session

DATE = datetime(1997, 11, 21, tzinfo=timezone.utc)


def message(text: str = "hello\n", sender: str = "alice@example.com", *,
            utf8: bool = True) -> Message:
    return Message(from_=sender, to="bob@example.org", subject="s", text=text, date=DATE,
                   message_id="<x@example.com>", policy=Policy(utf8=utf8))


def send(msg: Message | bytes, ehlo: bytes) -> Outcome:
    return run_session(Server(ehlo=b"250-mx.example.org\r\n" + ehlo), auth=None, tls=False,
                       many=False, rcpts=1, messages=[msg])


def mail_line(out: Outcome) -> str:
    return next(line for line in out.transcript if line.startswith("C: MAIL"))


RAW_8BIT = (b"From: alice@example.com\r\nTo: user0@example.org\r\n"
            b"Date: Fri, 21 Nov 1997 00:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\nh\xc3\xa9llo\r\n")


def test_8bit_data_gets_body_8bitmime_without_size() -> None:
    out = send(RAW_8BIT, b"250 8BITMIME\r\n")
    assert out.error is None
    assert mail_line(out) == "C: MAIL FROM:<alice@example.com> BODY=8BITMIME"


def test_8bit_data_without_8bitmime_is_refused_before_mail() -> None:
    out = send(RAW_8BIT, b"250 SIZE 100000\r\n")
    assert isinstance(out.error, ExtensionMissing) and out.error.phase == "mail"
    assert out.error.args[0] == ("the message has 8-bit content and the server does not "
                                 "offer 8BITMIME")
    assert [phase for phase, _ in out.written] == ["ehlo"]


@pytest.mark.parametrize(("ehlo", "params"), [(b"250 SIZE 100000\r\n", " SIZE={size}"),
                                              (b"250 PIPELINING\r\n", "")])
def test_an_ascii_message_needs_no_8bitmime_whatever_its_policy(ehlo: bytes,
                                                                 params: str) -> None:
    # A UTF-8 policy that happens to write only ASCII: a 7-bit message.
    msg = message("hello\n")
    out = send(msg, ehlo)
    assert out.error is None
    size = len(msg.to_bytes())
    assert mail_line(out) == "C: MAIL FROM:<alice@example.com>" + params.format(size=size)


@pytest.mark.parametrize("msg", [message("héllo\n"), message(sender="zoë@example.org")],
                         ids=["utf8-text", "utf8-address"])
def test_utf8_without_smtputf8_is_refused_before_mail(msg: Message) -> None:
    out = send(msg, b"250 8BITMIME\r\n")
    assert isinstance(out.error, ExtensionMissing) and out.error.phase == "mail"
    assert out.error.args[0] == ("the message needs SMTPUTF8 (UTF-8 addresses or headers) "
                                 "and the server does not offer it")
    assert [phase for phase, _ in out.written] == ["ehlo"]


@pytest.mark.parametrize("room", [0, 1])
def test_a_message_of_exactly_the_size_limit_goes(room: int) -> None:
    msg = message(utf8=False)
    size = len(msg.to_bytes())
    out = send(msg, b"250 SIZE %d\r\n" % (size + room))
    assert out.error is None
    assert mail_line(out) == f"C: MAIL FROM:<alice@example.com> SIZE={size}"


def test_one_octet_over_the_size_limit_is_refused_before_mail() -> None:
    msg = message(utf8=False)
    size = len(msg.to_bytes())
    out = send(msg, b"250 SIZE %d\r\n" % (size - 1))
    assert isinstance(out.error, MessageTooLarge) and out.error.phase == "mail"
    assert out.error.args[0] == (f"the message is {size} octets; the server takes at most "
                                 f"{size - 1} (SIZE)")
    assert [phase for phase, _ in out.written] == ["ehlo"]


def test_size_zero_means_no_limit() -> None:
    out = send(message(utf8=False), b"250 SIZE 0\r\n")
    assert out.error is None and " SIZE=" in mail_line(out)
