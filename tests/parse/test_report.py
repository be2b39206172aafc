"""read_report (RFC 3464): a report Postfix wrote (stored as Postfix's
Maildir keeps it, with LF line ends), a failure report with CRLF and two
recipients in every transfer encoding, and a clear error for each thing a
report cannot do without."""

from __future__ import annotations

import base64
import binascii
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailfmt.errors import ReportError
from mailfmt.transport import DeliveryReport, read_report

VECTORS = Path(__file__).parents[1] / "vectors" / "dsn"

STATUS = (
    "Reporting-MTA: dns; mx.example.net\r\n"
    "Original-Envelope-Id: invoice 42\r\n"
    "Arrival-Date: Sat, 28 Nov 2026 17:03:23 +0000\r\n"
    "\r\n"
    "Final-Recipient: rfc822; Bob@Example.org\r\n"
    "Original-Recipient: rfc822;bob@example.org\r\n"
    "Action: failed (permanent)\r\n"
    "Status: 5.1.1\r\n"
    "Remote-MTA: dns; mail.example.org\r\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.org>: Recipient address\r\n"
    "    rejected: User unknown\r\n"
    "\r\n"
    "Final-Recipient: rfc822; carol@example.org\r\n"
    "Action: delayed\r\n"
    "Status: 4.2.2\r\n"
    "Diagnostic-Code: smtp; 452 4.2.2 mailbox full\r\n"
    "Will-Retry-Until: Wed, 2 Dec 2026 17:03:23 +0000\r\n"
)


def failure_report(status: bytes, cte: str = "7bit",
                   ctype: str = "message/delivery-status") -> bytes:
    return (b"From: MAILER-DAEMON@mx.example.net\r\nTo: alice@example.com\r\n"
            b"Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/report; report-type=delivery-status;\r\n"
            b"\tboundary=\"=_b 1\"\r\n\r\npreamble\r\n"
            b"--=_b 1\r\nContent-Type: text/plain\r\n\r\nYour message could not be "
            b"delivered.\r\n"
            b"--=_b 1  \r\nContent-Type: " + ctype.encode() + b"\r\n"
            b"Content-Transfer-Encoding: " + cte.encode() + b"\r\n\r\n" + status +
            b"\r\n--=_b 1\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: hi\r\n"
            b"--=_b 1--\r\nepilogue\r\n")


def test_a_report_postfix_wrote() -> None:
    report = read_report((VECTORS / "postfix-delivered.eml").read_bytes())
    assert (report.envid, report.reporting_mta) == ("batch 42", "mx.mailfmt.example.com")
    [r] = report.recipients
    assert (r.final_recipient, r.original_recipient, r.action, r.status) == (
        "bob@example.org", "bob@example.org", "delivered", (2, 0, 0))
    assert r.diagnostic == "delivery via virtual: delivered to maildir"
    assert ("X-Postfix-Queue-ID", "A0A16213FD7") in report.fields
    assert DeliveryReport.from_bytes((VECTORS / "postfix-delivered.eml").read_bytes()) == report


@pytest.mark.parametrize("cte", ["7bit", "base64", "quoted-printable"])
def test_a_failure_report_in_every_transfer_encoding(cte: str) -> None:
    body = STATUS.encode()
    if cte == "base64":
        body = base64.encodebytes(body).replace(b"\n", b"\r\n")
    elif cte == "quoted-printable":
        body = binascii.b2a_qp(body, istext=True)
    report = read_report(failure_report(body, cte))
    assert report.envid == "invoice 42" and report.reporting_mta == "mx.example.net"
    bob, carol = report.recipients
    assert bob.failed and (bob.action, bob.status) == ("failed", (5, 1, 1))
    assert bob.final_recipient == "Bob@Example.org" and bob.remote_mta == "mail.example.org"
    assert bob.diagnostic == ("550 5.1.1 <bob@example.org>: Recipient address "
                              "rejected: User unknown")      # unfolded
    assert not carol.failed and (carol.action, carol.status) == ("delayed", (4, 2, 2))
    assert carol.original_recipient is None
    assert ("Will-Retry-Until", "Wed, 2 Dec 2026 17:03:23 +0000") in carol.fields


def test_recipients_are_found_by_the_address_the_send_gave() -> None:
    report = read_report(failure_report(STATUS.encode()))
    assert report.recipient("bob@example.org") is report.recipients[0]     # by ORCPT
    assert report.recipient("carol@EXAMPLE.ORG") is report.recipients[1]   # domain case
    assert report.recipient("<carol@example.org>") is report.recipients[1]
    assert report.recipient("Carol@example.org") is None                   # local part: exact
    assert report.recipient("dave@example.org") is None


def test_global_delivery_status_may_be_utf8() -> None:
    status = STATUS.replace("carol@", "élise@").encode()
    report = read_report(failure_report(status, ctype="message/global-delivery-status"))
    assert report.recipients[1].final_recipient == "élise@example.org"


@pytest.mark.parametrize(("raw", "says"), [
    (b"Content-Type: text/plain\r\n\r\nhi\r\n",
     "not a delivery status notification: the message is text/plain, not multipart/report"),
    (b"Subject: no type\r\n\r\nhi\r\n",
     "the message is text/plain, not multipart/report"),
    (b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\n--x--\r\n",
     "the multipart/report has no boundary parameter"),
    (b"Content-Type: multipart/report; boundary=x; report-type=disposition-notification"
     b"\r\n\r\n--x\r\nContent-Type: message/disposition-notification\r\n\r\nFinal-Recipient:"
     b" rfc822; a@example.org\r\n--x--\r\n",
     "has no message/delivery-status part (report-type=disposition-notification)"),
    (b"Content-Type: multipart/report; boundary=\"x\r\n\r\n",
     "the message: its Content-Type cannot be read"),
])
def test_what_is_not_a_report_says_why(raw: bytes, says: str) -> None:
    with pytest.raises(ReportError, match=says.replace("(", r"\(").replace(")", r"\)")):
        read_report(raw)


@pytest.mark.parametrize(("status", "says"), [
    ("Reporting-MTA: dns; mx\r\n",
     "part 2: the delivery status names no recipient"),
    ("Reporting-MTA: dns; mx\r\n\r\nAction: failed\r\nStatus: 5.0.0\r\n",
     "part 2, the recipient group at line 19: no Final-Recipient"),
    ("Reporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; a@example.org\r\nStatus: 5.0.0\r\n",
     "part 2, the recipient group at line 19: no Action"),
    ("Reporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; a@example.org\r\n"
     "Action: failed\r\nStatus: 550\r\n",
     "part 2, the recipient group at line 19: Status '550' is not a status code"),
    ("Reporting-MTA: dns; mx\r\nthis is no field\r\n",
     "part 2, line 18: not a field: 'this is no field'"),
])
def test_a_report_without_what_it_needs_says_where(status: str, says: str) -> None:
    with pytest.raises(ReportError, match=f"^{says.replace('(', '[(]')}"):
        read_report(failure_report(status.encode()))


def test_an_undecodable_part_says_which() -> None:
    with pytest.raises(ReportError, match=r"^part 2: its base64 cannot be decoded"):
        read_report(failure_report(b"not base64 at all!", "base64"))


_PIECES = [b"\r\n", b"\n", b"--=_b 1", b"--=_b 1--", b"Content-Type: ", b"message/delivery-status",
           b"multipart/report; boundary=\"=_b 1\"", b"Final-Recipient: rfc822; a@example.org",
           b"Action: failed", b"Status: 5.1.1", b"Content-Transfer-Encoding: base64", b":",
           b";", b" ", b"\t", b"\xff", b"=", b"\"", b"(", b"rfc822"]


@given(st.one_of(st.binary(max_size=400),
                 st.lists(st.sampled_from(_PIECES), max_size=60).map(b"".join),
                 st.tuples(st.integers(0, 2000), st.binary(max_size=8)).map(
                     lambda cut: failure_report(STATUS.encode())[:cut[0]] + cut[1])))
def test_any_bytes_give_a_report_or_a_report_error(raw: bytes) -> None:
    try:
        report = read_report(raw)
    except ReportError as exc:
        message = str(exc)
        report = None
    if report is None:
        assert message      # says why
        return
    assert report.recipients
    assert all(r.final_recipient and r.action for r in report.recipients)


# ---- mailfmt report -----------------------------------------------------------------


def cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailfmt.cli", "report", *args],
                          input=None if stdin is None else stdin.decode("latin-1"),
                          capture_output=True, text=True, check=False, timeout=60)


def test_cli_prints_a_line_per_recipient_and_exits_by_their_fate(tmp_path: Path) -> None:
    delivered = str(VECTORS / "postfix-delivered.eml")
    res = cli(delivered)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        "envelope id batch 42",
        "delivered bob@example.org  2.0.0  delivery via virtual: delivered to maildir"]
    bounce = tmp_path / "bounce.eml"
    bounce.write_bytes(failure_report(STATUS.encode()))
    res = cli(delivered, str(bounce))
    assert res.returncode == 1         # a recipient failed: findings
    lines = res.stdout.splitlines()
    assert lines[2:] == [
        f"{bounce}: envelope id invoice 42",
        f"{bounce}: failed    bob@example.org  5.1.1  550 5.1.1 <bob@example.org>: Recipient "
        "address rejected: User unknown",
        f"{bounce}: delayed   carol@example.org  4.2.2  452 4.2.2 mailbox full"]


def test_cli_json_and_standard_input() -> None:
    res = cli("--json", "-", stdin=failure_report(STATUS.encode()))
    assert res.returncode == 1, res.stderr
    out = json.loads(res.stdout)
    assert out["file"] == "-" and out["envid"] == "invoice 42"
    assert [(r["original_recipient"], r["action"], r["status"]) for r in out["recipients"]] == [
        ("bob@example.org", "failed", "5.1.1"), (None, "delayed", "4.2.2")]


def test_cli_says_why_a_file_is_no_report(tmp_path: Path) -> None:
    plain = tmp_path / "plain.eml"
    plain.write_bytes(b"Subject: hi\r\n\r\nhello\r\n")
    res = cli(str(plain), str(tmp_path / "missing.eml"), str(VECTORS / "postfix-delivered.eml"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.splitlines() == [
        f"mailfmt report: {plain}: not a delivery status notification: the message is "
        "text/plain, not multipart/report (RFC 6522)",
        f"mailfmt report: cannot read {tmp_path / 'missing.eml'}: No such file or directory"]
    assert "delivered bob@example.org" in res.stdout     # the others are still read


def test_a_form_feed_in_a_field_does_not_break_its_line() -> None:
    """Lines end at LF or CRLF only (str.splitlines would also break at a
    form feed, a vertical tab or U+2028, and lose the field)."""
    status = STATUS.replace("mailbox full", "mailbox\x0cfull\u2028again").encode()
    report = read_report(failure_report(status, ctype="message/global-delivery-status"))
    assert report.recipients[1].diagnostic == "452 4.2.2 mailbox\x0cfull\u2028again"
