"""SASL mechanisms for AUTH (RFC 4954): PLAIN (RFC 4616), LOGIN, CRAM-MD5
(RFC 2195) and XOAUTH2. Each answers by step, not by the challenge's text,
and holds the secret only as long as the exchange lasts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from pydantic import SecretStr

from ..errors import AuthError

__all__ = ["MECHANISMS", "Mechanism", "make_mechanism"]

#: preference order when the server offers several (all are sent over TLS)
MECHANISMS = ("PLAIN", "LOGIN", "CRAM-MD5")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Mechanism:
    name = ""

    def initial(self) -> str | None:
        """The initial response sent with AUTH, or None to wait for a challenge."""
        return None

    def respond(self, step: int, challenge: bytes) -> str:  # pragma: no cover
        raise AuthError(f"{self.name}: unexpected challenge", phase="auth")


class Plain(Mechanism):
    name = "PLAIN"

    def __init__(self, user: str, password: SecretStr) -> None:
        # RFC 4616 3: NUL separates the fields, so a NUL inside one would
        # inject an authorization identity.
        if "\x00" in user or "\x00" in password.get_secret_value():
            raise AuthError("a NUL in the username or password", phase="auth")
        self._user = user
        self._password = password

    def initial(self) -> str:
        raw = f"\x00{self._user}\x00{self._password.get_secret_value()}".encode()
        return _b64(raw)


class Login(Mechanism):
    name = "LOGIN"

    def __init__(self, user: str, password: SecretStr) -> None:
        self._user = user
        self._password = password

    def respond(self, step: int, challenge: bytes) -> str:
        # Step 1 is the username, step 2 the password, whatever the prompt says
        # (the password never goes out as the answer to the first challenge).
        if step == 1:
            return _b64(self._user.encode())
        if step == 2:
            return _b64(self._password.get_secret_value().encode())
        raise AuthError("LOGIN: more than two challenges", phase="auth")


class CramMD5(Mechanism):
    name = "CRAM-MD5"

    def __init__(self, user: str, password: SecretStr) -> None:
        self._user = user
        self._password = password

    def respond(self, step: int, challenge: bytes) -> str:
        if step != 1:
            raise AuthError("CRAM-MD5: more than one challenge", phase="auth")
        digest = hmac.new(self._password.get_secret_value().encode(), challenge,
                          hashlib.md5).hexdigest()
        return _b64(f"{self._user} {digest}".encode())


class XOAuth2(Mechanism):
    name = "XOAUTH2"

    def __init__(self, user: str, token: SecretStr) -> None:
        self._user = user
        self._token = token

    def initial(self) -> str:
        raw = f"user={self._user}\x01auth=Bearer {self._token.get_secret_value()}\x01\x01"
        return _b64(raw.encode())

    def respond(self, step: int, challenge: bytes) -> str:
        # On failure the server sends a JSON error as a 334 challenge; the
        # client answers with an empty line and then gets the 5xx.
        return ""


def make_mechanism(offered: frozenset[str], user: str, password: SecretStr | None,
                   token: SecretStr | None, forced: str | None) -> Mechanism:
    """The mechanism to use: the forced one, XOAUTH2 for a token, else the first
    of MECHANISMS that the server offers."""
    if token is not None:
        if "XOAUTH2" not in offered:
            raise AuthError("the server does not offer XOAUTH2", phase="auth")
        return XOAuth2(user, token)
    assert password is not None
    choices = [forced.upper()] if forced else list(MECHANISMS)
    for name in choices:
        if name in offered:
            cls = {"PLAIN": Plain, "LOGIN": Login, "CRAM-MD5": CramMD5}.get(name)
            if cls is None:
                raise AuthError(f"mechanism {name} is not supported", phase="auth")
            return cls(user, password)
    raise AuthError(f"no usable AUTH mechanism: the server offers "
                    f"{', '.join(sorted(offered)) or 'none'}, mailfmt supports "
                    f"{', '.join(choices)}", phase="auth")
