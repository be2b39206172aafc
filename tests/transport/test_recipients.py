"""Who gets the message when recipients are refused (RFC 5321 3.3), over the
sans-IO core: by default a refusal stops the message; with allow_partial
the others get it; past 100 recipients (RFC 5321 4.5.3.1.8) nothing is
withheld from accepted recipients once an earlier transaction delivered it.
Every error carries the first refusal's reply and the whole result. Also
the phase of every write and read, which names a failure and picks its
timeout."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from dataclasses import astuple

import pytest

from mailfmt import Message
from mailfmt.errors import (
    ConnectionLost,
    DataRefused,
    DeliveryStatusUnknown,
    LocalProtocolError,
    MessageRefused,
    RecipientsRefused,
    SenderRefused,
    TransportError,
)
from mailfmt.sink import Sink
from mailfmt.transport import AsyncSMTPClient, SendResult, SMTPClient
from mailfmt.transport._message import Job

from .wire import Outcome, Server, run_session

NO = b"550 5.1.1 no such user\r\n"
# Without PIPELINING the server's replies go: greeting, EHLO, MAIL, one per
# RCPT, DATA, end of data, then the next transaction's MAIL...
FIRST_RCPT = 3


def script(replies: dict[int, bytes]) -> list[bytes | None]:
    """The good reply everywhere but at the indexes given."""
    return [replies.get(i) for i in range(max(replies) + 1)]


def commands(out: Outcome) -> list[bytes]:
    return [line.split(b" ")[0].split(b":")[0]
            for _, data in out.written if not data.startswith(b"Date:")
            for line in data.split(b"\r\n")[:-1]]


def statuses(out: Outcome) -> list[str]:
    assert isinstance(out.error, RecipientsRefused)
    return [r.status for r in out.error.result.recipients]


def test_one_refusal_stops_the_message_by_default() -> None:
    out = run_session(Server(script({FIRST_RCPT + 1: NO})), auth=None, tls=False,
                      many=False, rcpts=3)
    assert isinstance(out.error, RecipientsRefused) and out.error.phase == "rcpt"
    assert out.error.args[0] == ("1 recipient(s) refused; nothing sent "
                                 "(allow_partial=True sends to the others)")
    reply = out.error.reply
    assert (reply.code, reply.enhanced, reply.text) == (550, (5, 1, 1), "no such user")
    assert statuses(out) == ["deferred", "rejected", "deferred"]
    assert out.error.result.recipients[0].text == "not sent: other recipients were refused"
    assert commands(out) == [b"EHLO", b"MAIL", b"RCPT", b"RCPT", b"RCPT", b"RSET"]


def test_with_allow_partial_the_others_get_it() -> None:
    out = run_session(Server(script({FIRST_RCPT + 1: NO})), auth=None, tls=False,
                      many=False, rcpts=3, allow_partial=True)
    assert out.error is None
    assert [r.status for r in out.results[0].recipients] == ["accepted", "rejected",
                                                             "accepted"]
    assert commands(out).count(b"DATA") == 1


def test_every_recipient_refused_means_no_data() -> None:
    out = run_session(Server(script({FIRST_RCPT: NO, FIRST_RCPT + 1: b"551 5.1.6 moved\r\n"})),
                      auth=None, tls=False, many=False, rcpts=2, allow_partial=True)
    assert isinstance(out.error, RecipientsRefused) and out.error.phase == "rcpt"
    assert out.error.args[0] == "every recipient was refused; no message was sent"
    reply = out.error.reply
    assert (reply.code, reply.enhanced, reply.text) == (550, (5, 1, 1), "no such user")
    assert statuses(out) == ["rejected", "rejected"]
    assert b"DATA" not in commands(out) and commands(out)[-1] == b"RSET"


def test_a_refusal_in_the_first_transaction_stops_the_later_ones() -> None:
    out = run_session(Server(script({FIRST_RCPT: NO})), auth=None, tls=False, many=False,
                      rcpts=102)
    assert isinstance(out.error, RecipientsRefused)
    assert out.error.args[0].startswith("1 recipient(s) refused; nothing sent")
    assert Counter(statuses(out)) == {"rejected": 1, "deferred": 101}
    assert [r.text for r in out.error.result.recipients[-2:]] == ["not attempted"] * 2
    assert commands(out).count(b"MAIL") == 1 and b"DATA" not in commands(out)


@pytest.mark.parametrize("many", [False, True])
def test_once_a_transaction_delivered_the_accepted_are_not_held_back(many: bool) -> None:
    # 102 recipients: 100 in the first transaction, which is delivered; the
    # second has user100 accepted and user101 refused. Holding user100 back
    # would keep nothing from happening: the message is out already.
    second = FIRST_RCPT + 100 + 2       # DATA and end of data, then MAIL
    out = run_session(Server(script({second + 2: NO})), auth=None, tls=False, many=many,
                      rcpts=102, allow_partial=False)
    error = out.error if not many else out.results[0]
    assert isinstance(error, RecipientsRefused) and error.phase == "rcpt"
    assert error.args[0] == "1 recipient(s) not accepted; the message went to the other 101"
    assert (error.reply.code, error.reply.enhanced) == (550, (5, 1, 1))
    recipients = error.result.recipients
    assert Counter(r.status for r in recipients) == {"accepted": 101, "rejected": 1}
    assert recipients[-1].address == "user101@example.org"
    assert commands(out).count(b"DATA") == (4 if many else 2)


@pytest.mark.parametrize(("ehlo", "many", "written", "read"), [
    (b"250 mx.example.org\r\n", False,
     ["ehlo", "mail", "rcpt", "rcpt", "data", "message", "quit"],
     ["greeting", "ehlo", "mail", "rcpt", "rcpt", "data", "final", "quit"]),
    # Two recipients and no allow_partial: DATA waits for their replies.
    (b"250-mx.example.org\r\n250 PIPELINING\r\n", False,
     ["ehlo", "mail", "data", "message", "quit"],
     ["greeting", "ehlo", "mail", "rcpt", "rcpt", "data", "final", "quit"]),
    # The second message's envelope goes behind the first one's data.
    (b"250-mx.example.org\r\n250 PIPELINING\r\n", True,
     ["ehlo", "mail", "message", "message", "quit"],
     ["greeting", "ehlo"] + ["mail", "rcpt", "rcpt", "data", "final"] * 2 + ["quit"]),
])
def test_every_write_and_read_names_its_phase(ehlo: bytes, many: bool, written: list[str],
                                              read: list[str]) -> None:
    out = run_session(Server(ehlo=ehlo), auth=None, tls=False, many=many, rcpts=2)
    assert out.error is None
    assert [phase for phase, _ in out.written] == written
    assert out.reads == read


def test_a_refusal_reads_the_rset_reply_in_its_phase() -> None:
    out = run_session(Server(script({FIRST_RCPT: NO})), auth=None, tls=False, many=False,
                      rcpts=2)
    assert [phase for phase, _ in out.written][-1] == "rset"
    assert out.reads[-1] == "rset"


# Without PIPELINING, two recipients: the replies to DATA and to the end of data.
DATA, FINAL = FIRST_RCPT + 2, FIRST_RCPT + 3
NOT_ATTEMPTED = (None, None, "not attempted")


@pytest.mark.parametrize(("replies", "error", "message", "phase", "each", "after"), [
    ({2: b"550 5.7.1 sender rejected\r\n"}, SenderRefused,
     "the server refused the sender: 550 5.7.1 sender rejected", "mail",
     ("deferred", *NOT_ATTEMPTED), [b"RSET"]),
    ({DATA: b"554 5.5.1 no valid recipients\r\n"}, DataRefused,
     "the server refused DATA: 554 5.5.1 no valid recipients", "data",
     ("rejected", 554, (5, 5, 1), "no valid recipients"), [b"DATA", b"RSET"]),
    ({DATA: b"451 4.3.0 try later\r\n"}, DataRefused,
     "the server refused DATA: 451 4.3.0 try later", "data",
     ("deferred", 451, (4, 3, 0), "try later"), [b"DATA", b"RSET"]),
    ({FINAL: b"552 5.3.4 too big\r\n"}, MessageRefused,
     "the server refused the message: 552 5.3.4 too big", "final",
     ("rejected", 552, (5, 3, 4), "too big"), [b"DATA"]),
    ({FINAL: b"451 4.3.0 later\r\n"}, MessageRefused,
     "the server refused the message: 451 4.3.0 later", "final",
     ("deferred", 451, (4, 3, 0), "later"), [b"DATA"]),
    # 452 to every recipient of a transaction: none left to try again with.
    ({FIRST_RCPT: b"452 4.5.3 too many\r\n", FIRST_RCPT + 1: b"452 4.5.3 too many\r\n"},
     RecipientsRefused, "every recipient was refused; no message was sent", "rcpt",
     ("deferred", 452, (4, 5, 3), "too many"), [b"RCPT", b"RSET"]),
    ({FINAL: b""}, DeliveryStatusUnknown,
     "the connection failed after the end of data: the message may or may not have been "
     "delivered; a retry may deliver it twice (RFC 5321 4.5.3.2.6)", "final",
     ("unknown", None, None, "no reply to the end of data"), [b"DATA"]),
])
def test_every_failure_says_what_became_of_each_recipient(
        replies: dict[int, bytes], error: type[TransportError], message: str, phase: str,
        each: tuple[object, ...], after: list[bytes]) -> None:
    out = run_session(Server(script(replies)), auth=None, tls=False, many=False, rcpts=2)
    assert type(out.error) is error
    assert out.error.args[0] == message and out.error.phase == phase
    if replies[max(replies)]:
        assert str(out.error.reply) == replies[max(replies)].decode().strip()
    assert [astuple(r) for r in out.error.result.recipients] == [
        (f"user{i}@example.org", *each) for i in range(2)]
    assert commands(out)[-len(after):] == after


def test_a_delivered_message_says_so_for_each_recipient() -> None:
    out = run_session(Server(), auth=None, tls=False, many=False, rcpts=2)
    assert [astuple(r) for r in out.results[0].recipients] == [
        (f"user{i}@example.org", "accepted", 250, (2, 0, 0), "queued") for i in range(2)]


def test_a_connection_lost_during_data_leaves_every_recipient_deferred() -> None:
    out = run_session(Server(lose_at="message"), auth=None, tls=False, many=False, rcpts=2)
    assert type(out.error) is ConnectionLost and out.error.phase == "message"
    assert [astuple(r) for r in out.error.result.recipients] == [
        (f"user{i}@example.org", "deferred", None, None, "the connection failed during DATA")
        for i in range(2)]


def test_a_first_transaction_refused_whole_does_not_stop_the_next() -> None:
    # 102 recipients: the first 100 all refused, so nothing is sent in that
    # transaction; the last two are still tried, and get the message.
    replies = {FIRST_RCPT + i: NO for i in range(100)}
    out = run_session(Server(script(replies)), auth=None, tls=False, many=False, rcpts=102)
    assert isinstance(out.error, RecipientsRefused)
    assert out.error.args[0] == "100 recipient(s) not accepted; the message went to the other 2"
    assert Counter(statuses(out)) == {"rejected": 100, "accepted": 2}
    assert commands(out).count(b"MAIL") == 2 and commands(out).count(b"DATA") == 1


def test_a_message_sent_to_nobody_has_no_final_reply() -> None:
    out = run_session(Server(script({FIRST_RCPT: NO})), auth=None, tls=False, many=False,
                      rcpts=1)
    assert isinstance(out.error, RecipientsRefused)
    assert out.error.result.reply is None


def test_data_the_stuffer_refuses_after_the_354_is_never_ended() -> None:
    # Unreachable from a Message or linted bytes, but the stuffer's last
    # check stands: a bare LF stops the message before its end of data.
    def source() -> Iterator[bytes]:
        yield b"Subject: x\r\n\r\nfine\r\n"
        yield b"bare\nLF\r\n"
    job = Job("alice@example.com", ["user0@example.org"], source, False, False)
    out = run_session(Server(), auth=None, tls=False, many=False, rcpts=1, messages=[job])
    assert isinstance(out.error, LocalProtocolError) and out.error.phase == "message"
    assert out.error.args[0] == "message data contains a LF that is not part of CRLF"
    assert [astuple(r)[1:] for r in out.error.result.recipients] == [
        ("deferred", None, None, "not sent: the message data failed")]
    assert "message" not in [phase for phase, _ in out.written]


def test_a_message_without_recipients_is_refused_before_anything_is_sent(driver: str) -> None:
    draft = Message(from_="alice@example.com", subject="draft", text="no one yet\n")
    good = Message(from_="alice@example.com", to="bob@example.org", subject="ok", text="hi\n")
    with Sink() as sink:
        if driver == "sync":
            with SMTPClient(sink.host, sink.port, tls="none") as c:
                with pytest.raises(LocalProtocolError, match="no recipient") as info:
                    c.send(draft)
                outcomes = c.send_many([draft, good])
        else:
            async def main() -> list[SendResult | Exception]:
                async with AsyncSMTPClient(sink.host, sink.port, tls="none") as c:
                    with pytest.raises(LocalProtocolError, match="no recipient"):
                        await c.send(draft)
                    return list(await c.send_many([draft, good]))
            outcomes = asyncio.run(main())  # type: ignore[assignment]
        # In a batch it is that message's outcome; the others still go.
        assert isinstance(outcomes[0], LocalProtocolError)
        assert isinstance(outcomes[1], SendResult) and outcomes[1].ok
        assert [m.rcpt_to for m in sink.messages] == [["bob@example.org"]]
    sink.cleanup()
    if driver == "sync":
        assert info.value.phase == "mail"
