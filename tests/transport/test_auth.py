"""AUTH (RFC 4954) over the sans-IO core: which mechanism is chosen, what
each refusal says and in which phase, how many challenges a server may
send, and what a challenge that is not base64 gets. The secret is checked
by wire.py's harness; here, what goes out and what comes back."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from pydantic import SecretStr

from mailfmt.errors import AuthError, RemoteProtocolError
from mailfmt.transport._auth import CramMD5, Login, Plain, XOAuth2, make_mechanism
from mailfmt.transport._session import SessionOptions

from .wire import PASSWORD, Outcome, Server, open_only

SECRET = SecretStr(PASSWORD)
PLAINTEXT_REFUSED = ("refusing to send credentials without TLS (only a loopback server with "
                     "allow_insecure_auth=True may have them in plaintext)")


def opts(**kw: Any) -> SessionOptions:
    base: dict[str, Any] = {"local_hostname": "client.example.com", "tls": "none",
                            "timeout": 5.0, "username": "user", "password": SECRET,
                            "allow_insecure_auth": True, "loopback": True}
    return SessionOptions(**{**base, **kw})


def commands(out: Outcome) -> list[bytes]:
    """Every line the client wrote, in order."""
    return [line for _, data in out.written for line in data.split(b"\r\n")[:-1]]


def phases(out: Outcome) -> list[str]:
    return [phase for phase, _ in out.written]


# ---- the mechanisms ------------------------------------------------------------------


@pytest.mark.parametrize(("user", "password"), [("us\x00er", PASSWORD), ("user", "pa\x00ss")])
def test_plain_refuses_a_nul_in_either_field(user: str, password: str) -> None:
    # RFC 4616 3: NUL separates authzid, authcid and password.
    with pytest.raises(AuthError) as exc:
        Plain(user, SecretStr(password))
    assert exc.value.args[0] == "a NUL in the username or password"
    assert exc.value.phase == "auth"


def test_plain_sends_an_empty_authorization_identity() -> None:
    sent = Plain("user", SECRET).initial()
    assert base64.b64decode(sent, validate=True) == b"\x00user\x00" + PASSWORD.encode()


def test_login_answers_by_step_and_stops_after_two() -> None:
    mech = Login("user", SECRET)
    assert mech.initial() is None
    # The prompts are ignored: step 1 is the user even if it asks for the password.
    assert base64.b64decode(mech.respond(1, b"Password:")) == b"user"
    assert base64.b64decode(mech.respond(2, b"Username:")) == PASSWORD.encode()
    with pytest.raises(AuthError) as exc:
        mech.respond(3, b"Username:")
    assert exc.value.args[0] == "LOGIN: more than two challenges" and exc.value.phase == "auth"


def test_cram_md5_answers_one_challenge_only() -> None:
    mech = CramMD5("user", SECRET)
    challenge = b"<12345@example.org>"
    digest = hmac.new(PASSWORD.encode(), challenge, hashlib.md5).hexdigest()
    assert base64.b64decode(mech.respond(1, challenge)) == f"user {digest}".encode()
    with pytest.raises(AuthError) as exc:
        mech.respond(2, challenge)
    assert exc.value.args[0] == "CRAM-MD5: more than one challenge" and exc.value.phase == "auth"


def test_xoauth2_initial_response_and_empty_answer_to_its_error() -> None:
    mech = XOAuth2("user", SecretStr("tok"))
    assert base64.b64decode(mech.initial()) == b"user=user\x01auth=Bearer tok\x01\x01"
    assert mech.respond(1, b'{"status":"401"}') == ""


@pytest.mark.parametrize(("offered", "forced", "chosen"), [
    ({"PLAIN", "LOGIN", "CRAM-MD5"}, None, Plain),
    ({"LOGIN", "CRAM-MD5"}, None, Login),
    ({"CRAM-MD5", "GSSAPI"}, None, CramMD5),
    ({"PLAIN", "LOGIN", "CRAM-MD5"}, "cram-md5", CramMD5),
    ({"PLAIN", "LOGIN"}, "LOGIN", Login),
])
def test_the_first_offered_mechanism_in_preference_order(
        offered: set[str], forced: str | None, chosen: type) -> None:
    mech = make_mechanism(frozenset(offered), "user", SECRET, None, forced)
    assert type(mech) is chosen


def test_a_token_means_xoauth2_or_nothing() -> None:
    mech = make_mechanism(frozenset({"XOAUTH2", "PLAIN"}), "user", SECRET, SecretStr("t"), None)
    assert type(mech) is XOAuth2
    with pytest.raises(AuthError) as exc:
        make_mechanism(frozenset({"PLAIN"}), "user", None, SecretStr("t"), None)
    assert exc.value.args[0] == "the server does not offer XOAUTH2" and exc.value.phase == "auth"


@pytest.mark.parametrize(("offered", "forced", "message"), [
    ({"GSSAPI", "NTLM"}, None, "no usable AUTH mechanism: the server offers GSSAPI, NTLM, "
                               "mailfmt supports PLAIN, LOGIN, CRAM-MD5"),
    (set(), None, "no usable AUTH mechanism: the server offers none, mailfmt supports "
                  "PLAIN, LOGIN, CRAM-MD5"),
    ({"PLAIN"}, "login", "no usable AUTH mechanism: the server offers PLAIN, mailfmt "
                         "supports LOGIN"),
    ({"DIGEST-MD5", "PLAIN"}, "digest-md5", "mechanism DIGEST-MD5 is not supported"),
])
def test_no_usable_mechanism_says_what_each_side_has(
        offered: set[str], forced: str | None, message: str) -> None:
    with pytest.raises(AuthError) as exc:
        make_mechanism(frozenset(offered), "user", SECRET, None, forced)
    assert exc.value.args[0] == message and exc.value.phase == "auth"


# ---- the exchange ----------------------------------------------------------------------


@pytest.mark.parametrize(("insecure", "loopback"), [(False, True), (True, False), (False, False)])
def test_no_credentials_in_plaintext_without_the_loopback_opt_in(insecure: bool,
                                                                 loopback: bool) -> None:
    out = open_only(Server(ehlo=b"250-mx\r\n250 AUTH PLAIN\r\n"),
                    opts(allow_insecure_auth=insecure, loopback=loopback))
    assert isinstance(out.error, AuthError)
    assert out.error.args[0] == PLAINTEXT_REFUSED and out.error.phase == "auth"
    assert commands(out) == [b"EHLO client.example.com"]


def test_with_the_opt_in_on_loopback_auth_goes_out() -> None:
    out = open_only(Server(ehlo=b"250-mx\r\n250 AUTH PLAIN\r\n"), opts())
    assert out.error is None
    assert commands(out)[1].startswith(b"AUTH PLAIN ")
    assert phases(out) == ["ehlo", "auth"]


def test_credentials_but_no_auth_offered() -> None:
    out = open_only(Server(ehlo=b"250-mx\r\n250 SIZE 100\r\n"), opts())
    assert isinstance(out.error, AuthError) and out.error.phase == "auth"
    assert out.error.args[0] == "credentials were given but the server offers no AUTH"
    assert commands(out) == [b"EHLO client.example.com"]


def _challenges(n: int) -> Server:
    """A server that sends ``n`` empty challenges (``334 e30=`` is "{}") to
    XOAUTH2, then 235."""
    return Server([None, None, *[b"334 e30=\r\n"] * n, b"235 2.7.0 ok\r\n"],
                  ehlo=b"250-mx\r\n250 AUTH XOAUTH2\r\n")


def test_five_challenges_are_answered() -> None:
    out = open_only(_challenges(5), opts(password=None, oauth_token=SecretStr("t")))
    assert out.error is None
    assert commands(out)[2:] == [b""] * 5      # XOAUTH2 answers its error with an empty line
    assert phases(out) == ["ehlo"] + ["auth"] * 6


def test_a_sixth_challenge_ends_the_exchange() -> None:
    out = open_only(_challenges(6), opts(password=None, oauth_token=SecretStr("t")))
    assert isinstance(out.error, RemoteProtocolError)
    assert out.error.args[0] == "more than 5 AUTH challenges" and out.error.phase == "auth"
    assert commands(out)[2:] == [b""] * 5


def test_a_challenge_that_is_not_base64_is_cancelled() -> None:
    # "!!" holds no base64 character: a lenient decoder reads it as b"" and
    # would answer it. RFC 4954 4: "*" cancels the exchange.
    out = open_only(Server([None, None, b"334 !!\r\n", b"501 5.7.0 cancelled\r\n"],
                           ehlo=b"250-mx\r\n250 AUTH LOGIN\r\n"), opts())
    assert isinstance(out.error, RemoteProtocolError)
    assert out.error.args[0] == "an AUTH challenge is not base64" and out.error.phase == "auth"
    assert commands(out) == [b"EHLO client.example.com", b"AUTH LOGIN", b"*"]
    assert phases(out) == ["ehlo", "auth", "auth"]


@pytest.mark.parametrize(("reply", "message"), [
    (b"535 5.7.8 credentials invalid\r\n", "authentication failed: 535 5.7.8"),
    (b"535 no\r\n", "authentication failed: 535"),
    (b"454 4.7.0 try later\r\n", "authentication failed: 454 4.7.0"),
])
def test_a_refused_auth_names_the_code_once(reply: bytes, message: str) -> None:
    out = open_only(Server([None, None, reply], ehlo=b"250-mx\r\n250 AUTH PLAIN LOGIN\r\n"),
                    opts())
    assert isinstance(out.error, AuthError)
    assert out.error.args[0] == message and out.error.phase == "auth"
    assert out.error.reply is not None and out.error.reply.code == int(reply[:3])
    # One attempt: the secret is not sent again with LOGIN.
    assert [c.split(b" ")[:2] for c in commands(out)][1:] == [[b"AUTH", b"PLAIN"]]

