"""The exception tree.

Model validation raises ``pydantic.ValidationError`` whose error ``type`` is a
rule name from :mod:`mailfmt.rules`. Everything else mailfmt raises is below::

    MailfmtError
    ├── RuleError (also ValueError)     a rule from the catalogue was broken
    │   ├── ParseError                  Message.from_bytes: the input is not a
    │   │                               message mailfmt can represent exactly
    │   └── FormatError                 the formatter's final output check
    │                                   failed (a bug guard: never expected)
    ├── ReportError (also ValueError)   read_report: the bytes are not a delivery
    │                                   status notification (RFC 3464) it can read
    └── TransportError                  sending failed; .phase, .transcript, .result
        ├── LocalProtocolError          mailfmt was asked to send something unsafe
        ├── RemoteProtocolError         the server broke the protocol
        ├── ConnectError (ConnectionError)      the connection could not be made
        ├── ConnectionLost (ConnectionError)    the server closed or reset it
        │   └── DeliveryStatusUnknown   lost after the final ".": it may have been
        │                               delivered; retrying may duplicate it
        ├── SMTPTimeout (TimeoutError)  a phase took longer than its timeout
        ├── TLSError                    STARTTLS missing or refused, handshake or
        │                               certificate failure; nothing was sent after
        ├── AuthError                   no usable mechanism, plaintext refused, or
        │                               the server refused the credentials
        ├── ExtensionMissing            the message needs SMTPUTF8 / 8BITMIME, or
        │   │                           asks for DSN, and the server does not offer it
        │   └── MessageTooLarge         over the server's SIZE limit
        ├── MessageRejected             send_raw: the .eml fails lint
        └── SMTPReplyError              a reply refused a step; .code, .enhanced,
            │                           .text, .command, is_transient/is_permanent
            ├── SenderRefused           MAIL FROM refused
            ├── RecipientsRefused       some or all RCPT TO refused (.result)
            ├── DataRefused             DATA not answered with 354
            └── MessageRefused          the final reply after "." refused it

``RuleError`` subclasses ``ValueError`` (as email-validator's errors do) so it
works inside pydantic validators and with code that catches ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .rules import Rule, get_rule

__all__ = [
    "AuthError",
    "ConnectError",
    "ConnectionLost",
    "DataRefused",
    "DeliveryStatusUnknown",
    "ExtensionMissing",
    "FormatError",
    "LocalProtocolError",
    "MailfmtError",
    "MessageRefused",
    "MessageRejected",
    "MessageTooLarge",
    "ParseError",
    "RecipientsRefused",
    "RemoteProtocolError",
    "ReportError",
    "RuleError",
    "SMTPReplyError",
    "SMTPTimeout",
    "SenderRefused",
    "TLSError",
    "TransportError",
]


class MailfmtError(Exception):
    """Base class of every exception mailfmt raises on purpose.

    Every one can be pickled and copied with its attributes, so an error
    raised in a worker process (multiprocessing, concurrent.futures, dask)
    reaches the parent as it was.

    >>> issubclass(ParseError, MailfmtError) and issubclass(TransportError, MailfmtError)
    True
    """

    def __reduce__(self) -> tuple[Any, ...]:
        # The default rebuilds with cls(*self.args), but these take keyword
        # arguments (a rule, a reply) that args does not hold: the exception
        # is rebuilt without __init__, then given back its attributes.
        return _restore, (type(self), self.args), self.__dict__


def _restore(cls: type[MailfmtError], args: tuple[Any, ...]) -> MailfmtError:
    exc = cls.__new__(cls, *args)
    # OSError.__new__ leaves args to __init__ when a subclass defines one
    # (ConnectError, ConnectionLost, SMTPTimeout).
    exc.args = args
    return exc


class RuleError(MailfmtError, ValueError):
    """A rule was broken. ``rule``, ``ctx`` and the location say which and where.

    >>> err = RuleError("line-too-long", line=3, where="A body", length=1200, limit=998)
    >>> str(err)
    'S101 line-too-long: A body line is 1200 octets long (max 998) (line 3)'
    """

    def __init__(
        self,
        rule: Rule | str,
        *,
        line: int | None = None,
        offset: int | None = None,
        field: str | None = None,
        **ctx: Any,
    ) -> None:
        self.rule = rule if isinstance(rule, Rule) else get_rule(rule)
        if field is not None:
            ctx.setdefault("field", field)
        self.ctx = dict(ctx)
        self.line = line
        self.offset = offset
        self.field = field
        try:
            self.message = self.rule.format(**ctx)
        except (KeyError, IndexError, ValueError):
            self.message = self.rule.what
        self._set_args()

    @classmethod
    def from_violation(cls, violation: Any) -> RuleError:
        """The error for a linter finding (a ``mailfmt.lint.Violation``), with
        its rule, place and sentence."""
        err = cls(violation.rule, line=violation.line, offset=violation.offset,
                  field=violation.header)
        if violation.part is not None:
            err.ctx["part"] = violation.part
        err.message = violation.message
        err._set_args()
        return err

    def _set_args(self) -> None:
        where = []
        if self.field is not None:
            where.append(f"field {self.field}")
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.offset is not None:
            where.append(f"offset {self.offset}")
        suffix = f" ({', '.join(where)})" if where else ""
        self.args = (f"{self.rule.code} {self.rule.name}: {self.message}{suffix}",)

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def name(self) -> str:
        return self.rule.name


class ParseError(RuleError):
    """``Message.from_bytes`` refused the input.

    >>> from mailfmt import Message
    >>> try:
    ...     Message.from_bytes(b"From: a@example.com\\n\\nbare LF")
    ... except ParseError as exc:
    ...     print(exc.code, exc.line)
    S102 1
    """


class FormatError(RuleError):
    """The formatter produced output that breaks a rule; never expected.

    >>> issubclass(FormatError, RuleError)
    True
    """


class ReportError(MailfmtError, ValueError):
    """``read_report``: the bytes are not a delivery status notification
    (RFC 3464) it can read; the message says why, and where (the part and
    the line)."""


class TransportError(MailfmtError):
    """Sending failed. ``phase`` names the step ("connect", "greeting", "ehlo",
    "starttls", "auth", "mail", "rcpt", "data", "message", "final", "quit"),
    ``transcript`` is the session so far (secrets redacted) and ``result``
    the per-recipient outcome when recipients were reached."""

    def __init__(self, message: str, *, phase: str | None = None,
                 transcript: Sequence[str] = (), result: Any = None,
                 reply: Any = None) -> None:
        super().__init__(message)
        self.phase = phase
        self.transcript = list(transcript)
        self.result = result
        #: the server reply behind the error, when there is one
        self.reply = reply

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} (phase {self.phase})" if self.phase else base


class LocalProtocolError(TransportError):
    """mailfmt was asked to send something the protocol or safety forbids."""


class RemoteProtocolError(TransportError):
    """The server broke the protocol: garbage, unsolicited or oversize replies."""


class ConnectError(TransportError, ConnectionError):
    """The TCP connection could not be made."""


class ConnectionLost(TransportError, ConnectionError):
    """The server closed or reset the connection."""


class DeliveryStatusUnknown(ConnectionLost):
    """The connection was lost after the final "." and before its reply: the
    message may have been delivered (RFC 5321 4.5.3.2.6); a retry may
    deliver it twice."""


class SMTPTimeout(TransportError, TimeoutError):
    """A phase took longer than its timeout; ``phase`` says which."""


class TLSError(TransportError):
    """TLS was required and could not be had; nothing was sent after."""


class AuthError(TransportError):
    """Authentication failed or was not possible; credentials never logged."""


class ExtensionMissing(TransportError):
    """The message needs an extension (SMTPUTF8, 8BITMIME, or DSN when asked for)
    or SIZE room that the server does not offer; nothing was sent."""


class MessageTooLarge(ExtensionMissing):
    """The message is larger than the server's SIZE limit (RFC 1870)."""


class MessageRejected(TransportError):
    """``send_raw`` refused an .eml that fails lint; ``violations`` says why."""

    def __init__(self, message: str, *, violations: Sequence[Any] = (), **kw: Any) -> None:
        super().__init__(message, **kw)
        self.violations = list(violations)


class SMTPReplyError(TransportError):
    """A server reply refused a step of the transaction."""

    def __init__(self, message: str, *, reply: Any, **kw: Any) -> None:
        super().__init__(message, reply=reply, **kw)
        self.code: int = reply.code
        self.enhanced: tuple[int, int, int] | None = reply.enhanced
        self.text: str = reply.text
        self.command: str = reply.command.redacted() if reply.command is not None else ""

    @property
    def is_transient(self) -> bool:
        """A 4yz reply: the same request may succeed later."""
        return bool(self.reply.is_transient)

    @property
    def is_permanent(self) -> bool:
        """A 5yz reply: do not repeat the same request."""
        return bool(self.reply.is_permanent)


class SenderRefused(SMTPReplyError):
    """MAIL FROM was refused."""


class RecipientsRefused(SMTPReplyError):
    """Recipients were refused; ``result`` has every recipient's outcome."""


class DataRefused(SMTPReplyError):
    """DATA was not answered with 354; no message byte was sent."""


class MessageRefused(SMTPReplyError):
    """The reply to the final "." refused the message."""
