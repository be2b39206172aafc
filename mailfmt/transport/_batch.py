"""Many messages over one session (send_many): each message's envelope
written behind the previous message's end of data with PIPELINING (RFC 2920
3.1), or its MAIL as soon as the previous final reply is in without it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from ..errors import (
    ExtensionMissing,
    LocalProtocolError,
    MailfmtError,
    SMTPReplyError,
    TransportError,
)
from ._connection import ClientConnection
from ._events import Data, Mail
from ._message import (
    RCPT_BATCH,
    Ahead,
    Job,
    mail_params,
    one_group,
    rcpt_command,
    reason_of,
    send_message,
)
from ._results import SendResult
from ._session import Flow, SessionOptions
from ._state import State

__all__ = ["mail_ahead", "plan_mail", "send_messages", "write_ahead"]


def write_ahead(conn: ClientConnection, job: Job, *,
                allow_partial: bool) -> tuple[bytes, Ahead] | None:
    """The next message's whole envelope group (MAIL, RCPT, DATA), to follow
    an end of data in the same write; None when it must wait its turn."""
    if not conn.capabilities.has("PIPELINING"):
        return None     # asked at every end of data: the quick answer first
    rcpts = list(dict.fromkeys(job.rcpt_to))
    if not rcpts or len(rcpts) > RCPT_BATCH or not one_group(conn, rcpts, allow_partial):
        return None
    try:
        params = mail_params(conn, job)
        # Every command is made, and so checked, before the first is sent.
        commands = [Mail(job.mail_from, params), *[rcpt_command(a, job.dsn) for a in rcpts], Data()]
    except (MailfmtError, OSError):
        # Reported in its turn, with nothing sent: a message the server
        # cannot take, an address that cannot be sent, or a file that
        # cannot be read for SIZE.
        return None
    # The previous message's lines are still being read: a mark, no trimming.
    mark = conn.mark
    return b"".join([conn.send(c) for c in commands]), Ahead(params, mark)


MailPlan = tuple[Mail, tuple[str, ...]]


def plan_mail(conn: ClientConnection, job: Job) -> MailPlan | None:
    """A message's MAIL command and parameters, made while the server works
    on the message before it; None when the message must wait for its turn
    to report why it cannot go."""
    if not job.rcpt_to:
        return None
    try:
        params = mail_params(conn, job)
        mail = Mail(job.mail_from, params)
        for a in job.rcpt_to:
            rcpt_command(a, job.dsn)   # an address that cannot be sent waits for its turn
    except (MailfmtError, OSError):
        return None     # reported in its turn, with nothing sent (see write_ahead)
    return mail, params


def mail_ahead(conn: ClientConnection, plan: MailPlan | None) -> tuple[bytes, Ahead] | None:
    """The next message's MAIL (see plan_mail), to go out as soon as the
    previous message's final reply is in, before that message's result is
    made: the server starts on it while the client does the bookkeeping.
    None when there is no plan or the session is not between transactions."""
    if plan is None or conn.state is not State.READY or conn.awaiting_replies:
        return None
    mark = conn.mark
    return conn.send(plan[0]), Ahead(plan[1], mark, group=False)



def send_messages(conn: ClientConnection, opts: SessionOptions,
                  makers: Iterable[Callable[[], Job]], *, allow_partial: bool,
                  out: list[SendResult | TransportError] | None = None,
                  ) -> Flow[list[SendResult | TransportError]]:
    """Messages one after another, each one's envelope written behind the
    previous one's end of data when the server offers PIPELINING: one round
    trip per message instead of two (RFC 2920 3.1).

    ``makers`` make each message's Job when its turn nears. A message the
    server refuses, or cannot take, or that cannot be made or read, gets its
    error in its place and the next one goes on, as long as the session is
    between transactions. A failure that leaves the session in an unknown
    state (the connection, or a file that fails mid-DATA) ends the list
    early, with that failure last: the driver accounts for the rest.
    ``out``: the list to put the outcomes in, as they come (so that a driver
    whose flow is interrupted knows how far it went).
    """
    out = [] if out is None else out
    it = iter(makers)
    ready: deque[Job | TransportError] = deque()
    # the next message and its MAIL, planned while the server works
    planned: tuple[Job, MailPlan | None] | None = None

    def upcoming() -> Job | None:
        return ready[0] if ready and isinstance(ready[0], Job) else None

    def plan(job: Job) -> MailPlan | None:
        nonlocal planned
        if planned is None or planned[0] is not job:
            planned = job, plan_mail(conn, job)
        return planned[1]

    def prepare() -> None:
        # Called once the end of data is written: formatting the message after
        # next, and the next one's MAIL, overlap with the server's work.
        while len(ready) < 2 and (make := next(it, None)) is not None:
            try:
                job = make()
                if job.warm is not None:
                    job.warm()
                ready.append(job)
            except (MailfmtError, OSError) as exc:
                ready.append(LocalProtocolError(
                    f"not sent: the message could not be made: {reason_of(exc)}", phase="mail"))
        # With PIPELINING the next envelope usually goes behind the end of
        # data (write_ahead), and a plan would read attached files for SIZE
        # once more: then it is made only if after() needs it.
        if not pipelining and (nxt := upcoming()) is not None:
            plan(nxt)
    pipelining = conn.capabilities.has("PIPELINING")
    prepare()
    ahead: Ahead | None = None
    while ready:
        job = ready.popleft()
        if isinstance(job, TransportError):
            # It could not be made: nothing was sent for it. Its transcript
            # is the session's so far, as every error's is.
            job.transcript = job.transcript or list(conn.transcript)
            out.append(job)
            prepare()
            continue
        nxt = upcoming()
        written: list[Ahead] = []

        def then(nxt: Job | None = nxt, written: list[Ahead] = written) -> bytes:
            if nxt is None:
                return b""
            group = write_ahead(conn, nxt, allow_partial=allow_partial)
            if group is None:
                return b""
            written.append(group[1])
            return group[0]

        def after(written: list[Ahead] = written) -> bytes:
            # Without the group behind the end of data, the next MAIL still
            # goes out before this message's result is made.
            nxt = upcoming()
            if nxt is None or written:
                return b""
            mail = mail_ahead(conn, plan(nxt))
            if mail is None:
                return b""
            written.append(mail[1])
            return mail[0]
        try:
            # Without PIPELINING nothing can follow an end of data: no "then".
            out.append((yield from send_message(conn, opts, job, allow_partial=allow_partial,
                                                ahead=ahead, then=then if pipelining else None,
                                                idle=prepare, after=after)))
        except TransportError as exc:
            if not exc.transcript:
                exc.transcript = list(conn.transcript)
            out.append(exc)
            if not isinstance(exc, (SMTPReplyError, ExtensionMissing)) \
                    or conn.state is State.CLOSED:
                # the connection failed, or a 421 closed the session (RFC
                # 5321 3.8): nothing more can go
                return out
            # a refusal concerns this message only: the session goes on
        except (MailfmtError, OSError) as exc:
            # The message's own bytes failed (an attachment file that cannot
            # be read, say): fine between transactions, fatal within one.
            out.append(LocalProtocolError(
                f"not sent: the message could not be read: {reason_of(exc)}",
                phase="message", transcript=list(conn.transcript)))
            if conn.state is not State.READY or conn.awaiting_replies:
                return out
        ahead = written[0] if written else None
        prepare()
    return out


