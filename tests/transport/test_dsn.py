"""Delivery status notifications (RFC 3461): the request, its parameters on
MAIL and RCPT over the sans-IO core, and its refusal by a server that does
not offer DSN. Real reports from Postfix: test_postfix.py."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailfmt import Message
from mailfmt.errors import ExtensionMissing, LocalProtocolError
from mailfmt.transport import DSN, Mail, Rcpt
from mailfmt.transport._common import message_job, raw_job
from mailfmt.transport._dsn import unxtext, xtext

from .conftest import Server, deliver
from .test_connection import ready
from .wire import Outcome, run_session
from .wire import Server as WireServer

DATE = datetime(1997, 11, 21, tzinfo=timezone.utc)


@given(st.text(st.characters(min_codepoint=0, max_codepoint=127)))
def test_xtext_is_xchars_and_hexchars_and_decodes_back(value: str) -> None:
    # RFC 3461 4: xchar is "!" to "~" but "+" and "="; hexchar is "+" HEX HEX.
    out = xtext(value)
    assert re.fullmatch(r"(?:[!-*,-<>-~]|\+[0-9A-F]{2})*", out)
    assert unxtext(out) == value
    # and only what must be encoded is
    assert len(out) == len(value) + 2 * sum(not ("!" <= c <= "~") or c in "+=" for c in value)


@pytest.mark.parametrize("bad", ["a+2b", "a+", "+4", "a b", "a=b", "caf\u00e9", "a\x00"])
def test_what_is_not_xtext_is_not_read(bad: str) -> None:
    with pytest.raises(ValueError, match="is not xtext"):
        unxtext(bad)


def test_xtext_leaves_every_xchar_as_it_is() -> None:
    xchars = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "+=")
    assert xtext(xchars) == xchars
    assert xtext(" +=\x7f\x00") == "+20+2B+3D+7F+00"


@pytest.mark.parametrize(("notify", "want"), [
    ("never", ("never",)), ("NEVER", ("never",)), ("success", ("success",)),
    (["delay", "failure", "success"], ("success", "failure", "delay")),
    (("FAILURE", "delay"), ("failure", "delay")), ("delay,Success", ("success", "delay")),
    (None, None)])
def test_notify_is_read_case_blind_in_rfc_order(notify: Any, want: Any) -> None:
    assert DSN(notify=notify).notify == want


@pytest.mark.parametrize(("kw", "says"), [
    ({"notify": ["never", "success"]}, "DSN notify must be 'never', or one or more"),
    ({"notify": []}, "'never', or one or more"),
    ({"notify": "sometimes"}, "not 'sometimes'"),
    ({"notify": "success,,delay"}, "not 'success,,delay'"),
    ({"notify": "never,success"}, "not 'never,success'"),
    ({"notify": ["success", 1]}, "one or more"),
    ({"ret": "body"}, "ret must be 'full' or 'hdrs', not 'body'"),
    ({"envid": ""}, "printable ASCII"),
    ({"envid": "caf\u00e9"}, "printable ASCII"),
    ({"envid": "a\r\nRCPT TO:<x@example.com>"}, "printable ASCII"),
    ({"envid": "+" * 34}, "102 characters as xtext (max 100"),
])
def test_a_bad_request_is_refused_saying_what_is_wrong(kw: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        DSN(**kw)


def test_an_envid_of_exactly_100_xtext_characters_goes() -> None:
    assert DSN(envid="+" * 33 + "x").mail_params() == ("ENVID=" + "+2B" * 33 + "x",)


def test_parameters() -> None:
    assert DSN(ret="hdrs", envid=" ~").mail_params() == ("RET=HDRS", "ENVID=+20~")
    d = DSN(notify="never", ret="full", envid="id-1")
    assert d.mail_params() == ("RET=FULL", "ENVID=id-1")
    assert d.rcpt_params("a+b@example.org") == ("NOTIFY=NEVER", "ORCPT=rfc822;a+2Bb@example.org")
    assert DSN().mail_params() == () and DSN().rcpt_params("b@example.org") == (
        "ORCPT=rfc822;b@example.org",)
    assert DSN(orcpt=False).rcpt_params("b@example.org") == ()
    # RFC 3461 4.2 carries US-ASCII addresses only
    assert DSN(notify="success").rcpt_params("zoë@example.org") == ("NOTIFY=SUCCESS",)


def test_an_orcpt_over_500_characters_is_refused() -> None:
    # send_raw takes any address the command line can carry
    assert len(DSN().rcpt_params("+" * 158 + "@" + "x" * 18)[0]) == len("ORCPT=") + 500
    with pytest.raises(LocalProtocolError, match=r"is 501 characters \(max 500") as exc:
        DSN().rcpt_params("+" * 158 + "@" + "x" * 19)
    assert exc.value.phase == "rcpt"


def test_dsn_parameters_give_mail_and_rcpt_lines_their_rfc_3461_room() -> None:
    # RFC 3461 4: 110 more octets for MAIL, 520 more for RCPT; without
    # those parameters the 512 of RFC 5321 4.5.3.1.4 holds.
    def line(cmd: Mail | Rcpt) -> bytes:
        conn = ready()
        if isinstance(cmd, Rcpt):
            conn.send(Mail("a@example.com"))
        return conn.send(cmd)
    addr = "a" * 64 + "@" + "b" * 180 + ".com"
    envid = "E" * 100
    assert len(line(Mail(addr, ("RET=HDRS", f"ENVID={envid}", "SIZE=" + "9" * 237)))) == 622
    with pytest.raises(LocalProtocolError, match=r"Mail line is 623 octets \(max 622\)"):
        line(Mail(addr, ("RET=HDRS", f"ENVID={envid}", "SIZE=" + "9" * 238)))
    with pytest.raises(LocalProtocolError, match=r"Mail line is 513 octets \(max 512\)"):
        line(Mail(addr, ("SIZE=" + "9" * 244,)))
    orcpt = "ORCPT=rfc822;" + "x" * 487
    assert len(line(Rcpt(addr, ("NOTIFY=SUCCESS,FAILURE,DELAY", orcpt, "X=" + "y" * 238)))) \
        == 1032
    with pytest.raises(LocalProtocolError, match=r"Rcpt line is 1033 octets \(max 1032\)"):
        line(Rcpt(addr, ("NOTIFY=SUCCESS,FAILURE,DELAY", orcpt, "X=" + "y" * 239)))
    with pytest.raises(LocalProtocolError, match=r"Rcpt line is 513 octets \(max 512\)"):
        line(Rcpt(addr, ("X=" + "y" * 249,)))


def message(i: int = 0, to: tuple[str, ...] = ("bob@example.org", "carol@example.net")) -> Message:
    return Message(from_="alice@example.com", to=list(to), subject=f"m{i}", text="hi\n",
                   date=DATE, message_id=f"<m{i}@example.com>")


def commands(out: Outcome, verb: str) -> list[str]:
    return [line[3:] for line in out.transcript if line.startswith("C: " + verb)]


def ask() -> DSN:
    return DSN(notify=("success", "failure"), ret="hdrs", envid="batch 7")


@pytest.mark.parametrize("pipelining", [True, False])
@pytest.mark.parametrize("many", [False, True])
def test_the_request_goes_on_mail_and_every_rcpt(pipelining: bool, many: bool) -> None:
    ehlo = (b"250-mx.example.org\r\n" + (b"250-PIPELINING\r\n" if pipelining else b"")
            + b"250 DSN\r\n")
    jobs = [message_job(message(i), None, None, ask()) for i in range(2 if many else 1)]
    out = run_session(WireServer(ehlo=ehlo), auth=None, tls=False, many=many, rcpts=2,
                      messages=list(jobs), allow_partial=True)
    assert out.error is None
    assert commands(out, "MAIL") == ["MAIL FROM:<alice@example.com> RET=HDRS ENVID=batch+207"
                                     ] * len(jobs)
    assert commands(out, "RCPT") == [
        "RCPT TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.org",
        "RCPT TO:<carol@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;carol@example.net",
    ] * len(jobs)
    assert all(r.ok for r in out.results)


def test_send_raw_carries_the_request_too() -> None:
    raw = message().to_bytes()
    job = raw_job(raw, "alice@example.com", ["bob@example.org"], DSN(notify="never"))
    out = run_session(WireServer(ehlo=b"250-mx.example.org\r\n250 DSN\r\n"), auth=None,
                      tls=False, many=False, rcpts=1, messages=[job])
    assert out.error is None
    assert commands(out, "RCPT") == ["RCPT TO:<bob@example.org> NOTIFY=NEVER "
                                     "ORCPT=rfc822;bob@example.org"]


@pytest.mark.parametrize("many", [False, True])
def test_a_server_without_dsn_gets_nothing(many: bool) -> None:
    # It would not pass the request on: the reports the sender counts on
    # might never come. Refused before MAIL, with nothing sent.
    jobs = [message_job(message(i), None, None, ask()) for i in range(2 if many else 1)]
    out = run_session(WireServer(ehlo=b"250-mx.example.org\r\n250 PIPELINING\r\n"),
                      auth=None, tls=False, many=many, rcpts=2, messages=list(jobs))
    errors = [r for r in out.results if isinstance(r, Exception)] if many else [out.error]
    assert len(errors) == len(jobs)
    for err in errors:
        assert isinstance(err, ExtensionMissing) and err.phase == "mail"
        assert str(err.args[0]) == ("delivery status notifications (DSN) were asked for "
                                    "and the server does not offer them")
    assert [phase for phase, _ in out.written] == ["ehlo"] + (["quit"] if many else [])
    assert commands(out, "MAIL") == []


def test_without_a_request_no_dsn_parameter_goes(driver: str, smtpd: Server) -> None:
    deliver(driver, smtpd, [message()])
    env = smtpd.sink.envelopes[0]
    assert env.mail_options == [f"SIZE={len(message().to_bytes())}"]
    assert env.rcpt_options == []


def test_aiosmtpd_offers_no_dsn_and_gets_nothing(driver: str, smtpd: Server) -> None:
    import asyncio

    from mailfmt.transport import AsyncSMTPClient, SMTPClient

    if driver == "sync":
        with SMTPClient(smtpd.host, smtpd.port, tls="none", timeout=10) as c, \
                pytest.raises(ExtensionMissing, match="DSN"):
            c.send(message(), dsn=ask())
    else:
        async def main() -> None:
            async with AsyncSMTPClient(smtpd.host, smtpd.port, tls="none", timeout=10) as c:
                with pytest.raises(ExtensionMissing, match="DSN"):
                    await c.send(message(), dsn=ask())
        asyncio.run(main())
    assert smtpd.sink.envelopes == []
