"""Send validated messages over SMTP, safely: one sans-IO core, two drivers."""

from ..parse.report import DeliveryReport, RecipientReport, read_report
from ._async import AsyncSMTPClient, send_async
from ._connection import ClientConnection
from ._dsn import DSN
from ._events import (
    NEED_DATA,
    Auth,
    AuthResponse,
    Data,
    Ehlo,
    EndOfMessage,
    Helo,
    Lhlo,
    Mail,
    MessageData,
    Noop,
    Quit,
    Rcpt,
    Reply,
    Rset,
    StartTLS,
)
from ._results import RecipientResult, SendResult
from ._retry import Retry
from ._state import State
from ._sync import SMTPClient, send

__all__ = [
    "DSN",
    "NEED_DATA",
    "AsyncSMTPClient",
    "Auth",
    "AuthResponse",
    "ClientConnection",
    "Data",
    "DeliveryReport",
    "Ehlo",
    "EndOfMessage",
    "Helo",
    "Lhlo",
    "Mail",
    "MessageData",
    "Noop",
    "Quit",
    "Rcpt",
    "RecipientReport",
    "RecipientResult",
    "Reply",
    "Retry",
    "Rset",
    "SMTPClient",
    "SendResult",
    "StartTLS",
    "State",
    "read_report",
    "send",
    "send_async",
]
