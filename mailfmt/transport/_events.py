"""Events: the commands a client sends and the replies it receives (RFC 5321 4.1).

Commands are small frozen value objects that check their own arguments, so no
CR, LF or other control character can reach a command line (bpo-43124,
nodemailer GHSA-c7w3-x93f-qmm8 and GHSA-vvjj-xcjg-gr5g).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from ..errors import LocalProtocolError

__all__ = [
    "NEED_DATA",
    "Auth",
    "AuthResponse",
    "Command",
    "Data",
    "Ehlo",
    "EndOfMessage",
    "Greeting",
    "Helo",
    "Lhlo",
    "Mail",
    "MessageData",
    "Noop",
    "Quit",
    "Rcpt",
    "Reply",
    "Rset",
    "StartTLS",
]


class _NeedData:
    """Sentinel: more bytes are needed before the next event."""

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = _NeedData()

# Printable ASCII and (for SMTPUTF8 paths, RFC 6531) UTF-8; never a control.
_UNSAFE = re.compile("[\x00-\x1f\x7f]")
_ESMTP_PARAM = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*(?:=[\x21-\x3c\x3e-\x7e]+)?")


def _safe(what: str, value: str) -> str:
    if _UNSAFE.search(value):
        raise LocalProtocolError(f"{what} contains a control character: {value!r}")
    return value


class Command:
    """A client command. ``line()`` is the command line without CRLF."""

    def line(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def redacted(self) -> str:
        """The line as a transcript shows it (secrets hidden)."""
        return self.line()


@dataclass(frozen=True, slots=True)
class Greeting(Command):
    """Pseudo-command: what the server's 220 on connecting answers."""

    def line(self) -> str:
        return ""


@dataclass(frozen=True, slots=True)
class _Hello(Command):
    """What EHLO, HELO and LHLO share: the client's name, one word."""

    name: str
    verb: ClassVar[str] = "EHLO"

    def __post_init__(self) -> None:
        _safe(f"{self.verb} name", self.name)
        if not self.name or " " in self.name:
            raise LocalProtocolError(f"invalid {self.verb} name {self.name!r}")

    def line(self) -> str:
        return f"{self.verb} {self.name}"


@dataclass(frozen=True, slots=True)
class Ehlo(_Hello):
    """EHLO (RFC 5321 4.1.1.1).

    >>> Ehlo("client.example.com").line()
    'EHLO client.example.com'
    """


@dataclass(frozen=True, slots=True)
class Lhlo(_Hello):
    """LHLO, which opens an LMTP session in place of EHLO (RFC 2033 4.1).

    >>> Lhlo("client.example.com").line()
    'LHLO client.example.com'
    """

    verb: ClassVar[str] = "LHLO"


@dataclass(frozen=True, slots=True)
class Helo(_Hello):
    """HELO, for servers that answer EHLO with 500/502.

    >>> Helo("client.example.com").line()
    'HELO client.example.com'
    """

    verb: ClassVar[str] = "HELO"


@dataclass(frozen=True, slots=True)
class StartTLS(Command):
    """STARTTLS (RFC 3207).

    >>> StartTLS().line()
    'STARTTLS'
    """

    def line(self) -> str:
        return "STARTTLS"


@dataclass(frozen=True, slots=True, repr=False)
class Auth(Command):
    """AUTH mechanism [initial-response]; the response is a secret (base64 text).

    >>> Auth("PLAIN", "AGFsaWNlAHNlY3JldA==").redacted()
    'AUTH PLAIN ****'
    """

    mechanism: str
    initial_response: str | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z0-9_-]{1,20}", self.mechanism):
            raise LocalProtocolError(f"invalid SASL mechanism {self.mechanism!r}")
        if self.initial_response is not None:
            _safe("AUTH initial response", self.initial_response)

    def line(self) -> str:
        if self.initial_response is None:
            return f"AUTH {self.mechanism}"
        return f"AUTH {self.mechanism} {self.initial_response or '='}"

    def redacted(self) -> str:
        return f"AUTH {self.mechanism}" + (" ****" if self.initial_response is not None else "")

    def __repr__(self) -> str:
        return f"Auth(mechanism={self.mechanism!r}, initial_response=<redacted>)"


@dataclass(frozen=True, slots=True, repr=False)
class AuthResponse(Command):
    """A response line to a 334 challenge (base64 text, or "*" to cancel).

    >>> AuthResponse("c2VjcmV0").redacted()
    '****'
    """

    data: str

    def __post_init__(self) -> None:
        _safe("AUTH response", self.data)

    def line(self) -> str:
        return self.data

    def redacted(self) -> str:
        return "*" if self.data == "*" else "****"

    def __repr__(self) -> str:
        return "AuthResponse(<redacted>)"


_PATH_BAD = re.compile("[\x00-\x20\x7f<>]")


def _path(kind: str, address: str) -> str:
    if _PATH_BAD.search(address):    # one scan for the usual, valid case
        _safe(kind, address)
        raise LocalProtocolError(f"{kind} {address!r} contains '<', '>' or whitespace")
    return address


def _params(params: tuple[str, ...]) -> tuple[str, ...]:
    for p in params:
        if not _ESMTP_PARAM.fullmatch(p):
            raise LocalProtocolError(f"invalid ESMTP parameter {p!r}")
    return params


@dataclass(frozen=True, slots=True)
class Mail(Command):
    """MAIL FROM:<reverse-path> [params]; "" is the null reverse-path.

    >>> Mail("alice@example.com", ("SIZE=1024",)).line()
    'MAIL FROM:<alice@example.com> SIZE=1024'
    """

    reverse_path: str
    params: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _path("reverse-path", self.reverse_path)
        _params(self.params)

    def line(self) -> str:
        return " ".join([f"MAIL FROM:<{self.reverse_path}>", *self.params])


@dataclass(frozen=True, slots=True)
class Rcpt(Command):
    """RCPT TO:<forward-path> [params].

    >>> Rcpt("bob@example.org").line()
    'RCPT TO:<bob@example.org>'
    """

    forward_path: str
    params: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _path("forward-path", self.forward_path)
        if not self.forward_path:
            raise LocalProtocolError("empty forward-path")
        _params(self.params)

    def line(self) -> str:
        return " ".join([f"RCPT TO:<{self.forward_path}>", *self.params])


@dataclass(frozen=True, slots=True)
class Data(Command):
    """DATA; message bytes follow the 354 as MessageData events.

    >>> Data().line()
    'DATA'
    """

    def line(self) -> str:
        return "DATA"


@dataclass(frozen=True, slots=True, repr=False)
class MessageData(Command):
    """A chunk of the message; the connection dot-stuffs and checks it.

    >>> MessageData(b".hidden\\r\\n")
    MessageData(<9 octets>)
    """

    data: bytes

    def line(self) -> str:
        return f"<{len(self.data)} octets of message data>"

    def __repr__(self) -> str:
        return f"MessageData(<{len(self.data)} octets>)"


@dataclass(frozen=True, slots=True)
class EndOfMessage(Command):
    """The end of the message data: the connection writes CRLF "." CRLF.

    In an LMTP session each accepted recipient gets its own reply to it
    (RFC 2033 4.2); the reply's ``command`` is then an EndOfMessage naming
    that ``recipient``.

    >>> EndOfMessage().line()
    '.'
    """

    recipient: str | None = None

    def line(self) -> str:
        return "."


@dataclass(frozen=True, slots=True)
class Rset(Command):
    """RSET: abandon the current transaction.

    >>> Rset().line()
    'RSET'
    """

    def line(self) -> str:
        return "RSET"


@dataclass(frozen=True, slots=True)
class Noop(Command):
    """NOOP.

    >>> Noop().line()
    'NOOP'
    """

    def line(self) -> str:
        return "NOOP"


@dataclass(frozen=True, slots=True)
class Quit(Command):
    """QUIT (RFC 5321 4.1.1.10).

    >>> Quit().line()
    'QUIT'
    """

    def line(self) -> str:
        return "QUIT"


@dataclass(frozen=True, slots=True)
class Reply:
    """A server reply: code, text lines, RFC 3463 enhanced code, and what it answers.

    >>> r = Reply(550, ("no such user",), (5, 1, 1))
    >>> str(r), r.is_permanent, r.is_transient
    ('550 5.1.1 no such user', True, False)
    """

    code: int
    lines: tuple[str, ...]
    enhanced: tuple[int, int, int] | None = None
    command: Command | None = field(default=None, compare=False)

    @property
    def text(self) -> str:
        """The reply text, lines joined by newlines, enhanced code stripped."""
        return "\n".join(self.lines)

    @property
    def is_positive(self) -> bool:
        return 200 <= self.code < 400

    @property
    def is_transient(self) -> bool:
        """4yz: try again later (RFC 5321 4.2.1)."""
        return 400 <= self.code < 500

    @property
    def is_permanent(self) -> bool:
        """5yz: do not repeat the same request."""
        return self.code >= 500

    @property
    def enhanced_text(self) -> str | None:
        return ".".join(map(str, self.enhanced)) if self.enhanced else None

    def __str__(self) -> str:
        # Every reply is written to the transcript as it arrives: kept cheap.
        e = self.enhanced
        head = f"{self.code} {e[0]}.{e[1]}.{e[2]} " if e else f"{self.code} "
        return head + (self.lines[0] if len(self.lines) == 1 else " / ".join(self.lines))
