"""Who gets the message when recipients are refused (RFC 5321 3.3), over the
sans-IO core: by default a refusal stops the message; with allow_partial
the others get it; past 100 recipients (RFC 5321 4.5.3.1.8) nothing is
withheld from accepted recipients once an earlier transaction delivered it.
Every error carries the first refusal's reply and the whole result. Also
the phase of every write and read, which names a failure and picks its
timeout."""

from __future__ import annotations

from collections import Counter

import pytest

from mailfmt.errors import RecipientsRefused

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
