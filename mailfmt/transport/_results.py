"""What a send gives back: one outcome per recipient, and the whole."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._events import Reply

Status = Literal["accepted", "rejected", "deferred", "unknown"]


@dataclass(frozen=True, slots=True)
class RecipientResult:
    """What happened to one recipient, with the reply that said so.

    >>> r = RecipientResult("bob@example.org", "rejected", 550, (5, 1, 1), "no such user")
    >>> r.status, r.code, r.enhanced
    ('rejected', 550, (5, 1, 1))
    """

    address: str
    status: Status
    code: int | None = None
    enhanced: tuple[int, int, int] | None = None
    text: str = ""


@dataclass(frozen=True)
class SendResult:
    """The outcome of sending one message: every recipient is in exactly one list.

    >>> res = SendResult((RecipientResult("a@example.org", "accepted", 250),
    ...                   RecipientResult("b@example.org", "deferred", 450)))
    >>> [r.address for r in res.accepted], [r.address for r in res.deferred], res.ok
    (['a@example.org'], ['b@example.org'], False)
    """

    recipients: tuple[RecipientResult, ...]
    #: the final reply to the end of data; in LMTP, where each recipient has
    #: its own, the first that accepted the message (else the last)
    reply: Reply | None = None
    transcript: tuple[str, ...] = ()

    def _where(self, status: Status) -> list[RecipientResult]:
        return [r for r in self.recipients if r.status == status]

    @property
    def accepted(self) -> list[RecipientResult]:
        return self._where("accepted")

    @property
    def rejected(self) -> list[RecipientResult]:
        return self._where("rejected")

    @property
    def deferred(self) -> list[RecipientResult]:
        return self._where("deferred")

    @property
    def unknown(self) -> list[RecipientResult]:
        return self._where("unknown")

    @property
    def ok(self) -> bool:
        """True when every recipient was accepted."""
        return all(r.status == "accepted" for r in self.recipients)
