"""Trying a send again, for ``send`` and ``send_async``: the policy, and
the decision after each attempt, without I/O (the drivers sleep and connect).

A send is tried again only for the recipients it may still reach and
cannot reach twice: those whose outcome is "deferred" (a 4yz reply, or no
reply because the connection could not be made, was lost or timed out before
the end of data). Accepted recipients are never sent to again; a rejected
(5yz) one is final; and a recipient whose outcome is "unknown" (the
connection was lost after the end of data, RFC 5321 4.5.3.2.6) stops all
retries, since the message may have reached it already. Errors that another
attempt would only repeat (TLS, AUTH, a message the client refuses, a server
that breaks the protocol) are raised at once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..errors import (
    ConnectError,
    ConnectionLost,
    DataRefused,
    MessageRefused,
    RecipientsRefused,
    SMTPReplyError,
    SMTPTimeout,
    TransportError,
)
from ._common import logger
from ._results import RecipientResult, SendResult

__all__ = ["Attempts", "Retry"]


@dataclass(frozen=True)
class Retry:
    """How often to try a send, and how long to wait between tries.

    The wait before try ``k + 1`` is ``first_delay * factor ** (k - 1)``, at
    most ``max_delay``, give or take ``jitter`` of it (so that many clients
    that failed together do not all come back together).

    >>> policy = Retry(attempts=4, first_delay=1.0, factor=2.0, jitter=0.0)
    >>> [policy.delay(k) for k in (1, 2, 3)]
    [1.0, 2.0, 4.0]
    """

    attempts: int = 3
    first_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 60.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {self.attempts}")
        if self.first_delay < 0 or self.max_delay < 0:
            raise ValueError("delays cannot be negative")
        if self.factor < 1:
            raise ValueError(f"factor must be at least 1, not {self.factor}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter is a fraction from 0 to 1, not {self.jitter}")

    def delay(self, tried: int) -> float:
        """Seconds to wait after the ``tried``-th failed try."""
        base = min(self.first_delay * self.factor ** (tried - 1), self.max_delay)
        if not self.jitter:
            return base
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)


class Attempts:
    """The tries of one send: after each, :meth:`after` says whether to try
    again (the delay) and :attr:`pending` for whom; :meth:`merged` puts the
    outcomes of every try together, one per recipient, in their order."""

    def __init__(self, policy: Retry, recipients: list[str], *, allow_partial: bool) -> None:
        self.policy = policy
        self.recipients = list(dict.fromkeys(recipients))
        #: who the next try goes to
        self.pending = list(self.recipients)
        self.tried = 0
        self._allow_partial = allow_partial
        self._outcomes: dict[str, RecipientResult] = {}

    def after(self, outcome: SendResult | TransportError) -> float | None:
        """Record a try's outcome; the seconds to wait before the next try,
        or None when there is none to make."""
        self.tried += 1
        result = outcome if isinstance(outcome, SendResult) else outcome.result
        if isinstance(result, SendResult):
            for r in result.recipients:
                self._outcomes[r.address] = r
        if isinstance(outcome, TransportError) and not _may_pass(outcome):
            return None
        if any(r.status == "unknown" for r in self._outcomes.values()):
            return None
        if not self._allow_partial and any(r.status == "rejected"
                                           for r in self._outcomes.values()):
            return None     # it can never go to all of them now
        if isinstance(outcome, TransportError) and not isinstance(result, SendResult):
            again = self.pending    # no recipient was reached: all of them again
        else:
            again = [a for a in self.pending
                     if a not in self._outcomes or self._outcomes[a].status == "deferred"]
        if not again or self.tried >= self.policy.attempts:
            return None
        self.pending = again
        wait = self.policy.delay(self.tried)
        logger.info("try %d of %d failed (%s); again in %.1f s for %d recipient(s)",
                    self.tried, self.policy.attempts,
                    outcome if isinstance(outcome, TransportError) else "recipients deferred",
                    wait, len(again))
        return wait

    @property
    def reached(self) -> bool:
        """Whether any try came to an outcome for any recipient."""
        return bool(self._outcomes)

    def merged(self, last: SendResult | None) -> SendResult:
        """Every recipient's latest outcome; the reply and transcript of ``last``."""
        out = tuple(self._outcomes.get(a) or RecipientResult(a, "deferred", text="not attempted")
                    for a in self.recipients)
        if last is None:
            return SendResult(out)
        return SendResult(out, last.reply, last.transcript)

    def finish(self, outcome: SendResult | TransportError) -> SendResult:
        """After the last try: the outcome of every try put together; or,
        when the last try failed, its error, raised with that as its result
        (recipients an earlier try reached among them) and a note."""
        if isinstance(outcome, SendResult):
            return self.merged(outcome)
        last = outcome.result if isinstance(outcome.result, SendResult) else None
        outcome.result = self.merged(last)
        if hasattr(outcome, "add_note"):    # Python 3.11+
            outcome.add_note(f"mailfmt: {self.tried} attempt(s) of at most "
                             f"{self.policy.attempts}; the outcome of each recipient in "
                             f".result is its latest")
        raise outcome


def _may_pass(exc: TransportError) -> bool:
    """Whether another try may succeed where this one failed. (Whether it
    could deliver anything twice is the recipients' outcomes' to say: a
    DeliveryStatusUnknown leaves some "unknown", see Attempts.after.)"""
    if isinstance(exc, (RecipientsRefused, DataRefused, MessageRefused)):
        return True     # judged by each recipient's outcome (Attempts.after)
    if isinstance(exc, SMTPReplyError):
        return exc.is_transient     # the greeting, EHLO, MAIL: all or nothing
    return isinstance(exc, (ConnectError, ConnectionLost, SMTPTimeout))
