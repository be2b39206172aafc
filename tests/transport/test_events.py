"""Commands build their own lines and refuse what no command line may hold."""

import pytest

from mailfmt.errors import LocalProtocolError
from mailfmt.transport import (
    NEED_DATA,
    Auth,
    AuthResponse,
    ClientConnection,
    Ehlo,
    Mail,
    Noop,
    Rcpt,
    Reply,
    State,
)
from mailfmt.transport._events import Helo


@pytest.mark.parametrize(("cmd", "line", "shown"), [
    (Mail("a@example.com", ("SIZE=10", "BODY=8BITMIME")),
     "MAIL FROM:<a@example.com> SIZE=10 BODY=8BITMIME", None),
    (Mail(""), "MAIL FROM:<>", None),       # the null reverse-path (RFC 5321 4.5.5)
    (Rcpt("b@example.org", ("NOTIFY=NEVER", "ORCPT=rfc822;b@example.org")),
     "RCPT TO:<b@example.org> NOTIFY=NEVER ORCPT=rfc822;b@example.org", None),
    (Helo("client.example.com"), "HELO client.example.com", None),
    # RFC 4954 4: "=" is an initial response of zero length; none at all is no argument
    (Auth("PLAIN", ""), "AUTH PLAIN =", "AUTH PLAIN ****"),
    (Auth("LOGIN"), "AUTH LOGIN", "AUTH LOGIN"),
    (AuthResponse("c2VjcmV0"), "c2VjcmV0", "****"),
    (AuthResponse("*"), "*", "*"),          # the cancellation is no secret (RFC 4954 4)
])
def test_lines_and_what_the_transcript_shows(cmd: object, line: str, shown: str | None) -> None:
    assert cmd.line() == line  # type: ignore[attr-defined]
    assert cmd.redacted() == (line if shown is None else shown)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("make", "says"), [
    (lambda: Ehlo(""), "invalid EHLO name ''"),
    (lambda: Ehlo("two words"), "invalid EHLO name 'two words'"),
    (lambda: Helo(""), "invalid HELO name ''"),
    (lambda: Helo("two words"), "invalid HELO name 'two words'"),
    (lambda: Helo("x\r\nQUIT"), "HELO name contains a control character: 'x\\r\\nQUIT'"),
    (lambda: Ehlo("x\nQUIT"), "EHLO name contains a control character: 'x\\nQUIT'"),
    (lambda: Auth("plain"), "invalid SASL mechanism 'plain'"),
    (lambda: Auth("PLAIN", "a\rb"), "AUTH initial response contains a control character"),
    (lambda: AuthResponse("a\nb"), "AUTH response contains a control character"),
    (lambda: Mail("a@example.com\r\nRCPT TO:<x@example.org>"),
     "reverse-path contains a control character"),
    (lambda: Mail("a b@example.com"),
     "reverse-path 'a b@example.com' contains '<', '>' or whitespace"),
    (lambda: Rcpt("<b@example.org>"),
     "forward-path '<b@example.org>' contains '<', '>' or whitespace"),
    (lambda: Rcpt(""), "empty forward-path"),
    (lambda: Mail("a@example.com", ("SIZE=1 RCPT",)), "invalid ESMTP parameter 'SIZE=1 RCPT'"),
    (lambda: Rcpt("b@example.org", ("=x",)), "invalid ESMTP parameter '=x'"),
])
def test_refusals_say_what_and_which_argument(make: object, says: str) -> None:
    with pytest.raises(LocalProtocolError) as exc:
        make()  # type: ignore[operator]
    assert str(exc.value).startswith(says)


def test_reprs_hide_secrets() -> None:
    assert repr(AuthResponse("c2VjcmV0")) == "AuthResponse(<redacted>)"
    assert repr(Auth("PLAIN", "c2VjcmV0")) == "Auth(mechanism='PLAIN', initial_response=<redacted>)"
    assert repr(NEED_DATA) == "NEED_DATA"


def test_noop_is_answered_and_changes_nothing() -> None:
    c = ClientConnection()
    c.receive_data(b"220 mx.example.com ESMTP\r\n")
    c.next_event()
    c.send(Ehlo("client.example.com"))
    c.receive_data(b"250 mx.example.com\r\n")
    c.next_event()
    c.send(Mail("a@example.com"))
    c.receive_data(b"250 ok\r\n")
    c.next_event()
    assert c.state is State.TRANSACTION
    assert c.send(Noop()) == b"NOOP\r\n"
    c.receive_data(b"250 2.0.0 ok\r\n")
    reply = c.next_event()
    assert isinstance(reply, Reply) and isinstance(reply.command, Noop)
    assert c.state is State.TRANSACTION
    assert c.transcript[-2:] == ["C: NOOP", "S: 250 2.0.0 ok"]


@pytest.mark.parametrize(("reply", "text"), [
    (Reply(550, ("no such user",), (5, 1, 2)), "550 5.1.2 no such user"),
    (Reply(452, ("too many", "recipients"), (4, 5, 3)), "452 4.5.3 too many / recipients"),
    (Reply(250, ("",)), "250 "),
    (Reply(250, ("mx", "PIPELINING")), "250 mx / PIPELINING"),
])
def test_a_reply_as_the_transcript_shows_it(reply: Reply, text: str) -> None:
    assert str(reply) == text
