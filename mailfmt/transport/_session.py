"""The SMTP conversation, once, for both drivers.

Each step is a generator that yields I/O requests (Write, ReadReply,
UpgradeTLS) and gets replies back; the sync and async drivers only carry
them out, and throw I/O failures back in so that this module decides what
they mean (a lost connection after the final "." is DeliveryStatusUnknown,
before it a plain ConnectionLost).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeVar

from pydantic import SecretStr

from ..errors import (
    AuthError,
    ConnectionLost,
    DataRefused,
    DeliveryStatusUnknown,
    ExtensionMissing,
    LocalProtocolError,
    MailfmtError,
    MessageRefused,
    MessageTooLarge,
    RecipientsRefused,
    RemoteProtocolError,
    SenderRefused,
    SMTPReplyError,
    SMTPTimeout,
    TLSError,
    TransportError,
)
from ._auth import make_mechanism
from ._connection import ClientConnection
from ._dsn import DSN
from ._events import (
    Auth,
    AuthResponse,
    Command,
    Data,
    Ehlo,
    EndOfMessage,
    Helo,
    Mail,
    MessageData,
    Quit,
    Rcpt,
    Reply,
    Rset,
    StartTLS,
)
from ._state import State

__all__ = ["Job", "Progress", "RecipientResult", "SendResult", "SessionOptions"]

T = TypeVar("T")
#: progress(octets_sent, octets_in_all): see Job.progress and _stream
Progress = Callable[[int, int], None]

#: RFC 5321 4.5.3.2: the longest a client should wait in each phase (seconds).
RFC_TIMEOUTS = {"greeting": 300.0, "ehlo": 300.0, "starttls": 300.0, "auth": 300.0,
                "mail": 300.0, "rcpt": 300.0, "data": 120.0, "message": 180.0,
                "final": 600.0, "rset": 300.0, "quit": 300.0, "connect": 300.0}
#: RFC 5321 4.5.3.1.8: servers must take 100 recipients per transaction.
RCPT_BATCH = 100
#: message data is written in pieces of about this size
WRITE_SIZE = 64 * 1024


# I/O requests are named tuples: several are made per message, and a tuple
# is made at a third of the cost of a frozen dataclass.
class Write(NamedTuple):
    data: bytes
    phase: str
    timeout: float
    #: more message data follows: an asyncio driver lets the event loop run
    #: (and a cancellation land) between the pieces of a large message
    more: bool = False


class ReadReply(NamedTuple):
    phase: str
    timeout: float


class UpgradeTLS(NamedTuple):
    timeout: float
    phase: str = "starttls"


Request = Write | ReadReply | UpgradeTLS
Flow = Generator[Request, Any, T]


@dataclass(frozen=True)
class SessionOptions:
    local_hostname: str
    tls: Literal["starttls", "implicit", "none"]
    timeout: float
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    oauth_token: SecretStr | None = field(default=None, repr=False)
    auth_mechanism: str | None = None
    allow_insecure_auth: bool = False
    loopback: bool = False

    def t(self, phase: str) -> float:
        """The timeout for ``phase``: the caller's, never above RFC 5321's."""
        t = self._timeouts.get(phase)
        return min(self.timeout, 300.0) if t is None else t

    @functools.cached_property
    def _timeouts(self) -> dict[str, float]:
        # Asked for at every command and reply: worked out once.
        return {phase: min(self.timeout, limit) for phase, limit in RFC_TIMEOUTS.items()}

    @property
    def wants_auth(self) -> bool:
        return self.username is not None


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


def _command(conn: ClientConnection, cmd: Command, phase: str, opts: SessionOptions) -> Flow[Reply]:
    timeout = opts.t(phase)
    yield Write(conn.send(cmd), phase, timeout)
    reply: Reply = yield ReadReply(phase, timeout)
    return reply


# ---- opening a session ------------------------------------------------------------


def open_session(conn: ClientConnection, opts: SessionOptions, *,
                 tls_active: bool) -> Flow[None]:
    """Greeting, EHLO, STARTTLS (when required) and AUTH (when credentials are given)."""
    greeting: Reply = yield ReadReply("greeting", opts.t("greeting"))
    if greeting.code != 220:
        raise SMTPReplyError(f"the server refused the session: {greeting}", reply=greeting,
                             phase="greeting")
    yield from _hello(conn, opts)
    if opts.tls == "starttls" and not tls_active:
        # RFC 3207: TLS is required, so its absence stops everything here,
        # before any AUTH, MAIL or RCPT byte (CVE-2016-0772: STARTTLS stripping).
        if not conn.capabilities.has("STARTTLS"):
            raise TLSError("TLS is required but the server does not offer STARTTLS",
                           phase="starttls")
        reply = yield from _command(conn, StartTLS(), "starttls", opts)
        if reply.code != 220:
            raise TLSError(f"the server refused STARTTLS: {reply}", phase="starttls",
                           reply=reply)
        yield UpgradeTLS(opts.t("starttls"))
        tls_active = True
        yield from _hello(conn, opts)
    if opts.wants_auth:
        yield from _authenticate(conn, opts, secure=tls_active)


def _hello(conn: ClientConnection, opts: SessionOptions) -> Flow[None]:
    reply = yield from _command(conn, Ehlo(opts.local_hostname), "ehlo", opts)
    if reply.code // 100 == 2:
        return
    # HELO only for a plain session: TLS and AUTH need ESMTP.
    if reply.code in (500, 502) and opts.tls == "none" and not opts.wants_auth:
        reply = yield from _command(conn, Helo(opts.local_hostname), "ehlo", opts)
        if reply.code // 100 == 2:
            return
    raise SMTPReplyError(f"the server refused EHLO: {reply}", reply=reply, phase="ehlo")


def _authenticate(conn: ClientConnection, opts: SessionOptions, *, secure: bool) -> Flow[None]:
    if not secure and not (opts.allow_insecure_auth and opts.loopback):
        raise AuthError("refusing to send credentials without TLS (only a loopback server "
                        "with allow_insecure_auth=True may have them in plaintext)",
                        phase="auth")
    if not conn.capabilities.has("AUTH"):
        raise AuthError("credentials were given but the server offers no AUTH", phase="auth")
    assert opts.username is not None
    mech = make_mechanism(conn.capabilities.auth, opts.username, opts.password,
                          opts.oauth_token, opts.auth_mechanism)
    reply = yield from _command(conn, Auth(mech.name, mech.initial()), "auth", opts)
    step = 0
    while reply.code == 334:
        step += 1
        if step > 5:
            raise RemoteProtocolError("more than 5 AUTH challenges", phase="auth")
        try:
            challenge = base64.b64decode(reply.text.strip(), validate=True)
        except binascii.Error:
            yield from _command(conn, AuthResponse("*"), "auth", opts)
            raise RemoteProtocolError("an AUTH challenge is not base64", phase="auth") from None
        reply = yield from _command(conn, AuthResponse(mech.respond(step, challenge)), "auth",
                                    opts)
    if reply.code != 235:
        # One attempt: the same secret is never sent again with another mechanism.
        raise AuthError(f"authentication failed: {reply.code} "
                        f"{reply.enhanced_text or ''}".rstrip(), phase="auth", reply=reply)


# ---- one message ------------------------------------------------------------------


def _size(chunks: Iterable[bytes]) -> int:
    return sum(len(c) for c in chunks)


class Job(NamedTuple):
    """One message to send: its envelope, its bytes, and what it needs."""

    mail_from: str
    rcpt_to: list[str]
    #: the message's bytes, in chunks, each time it is called
    source: Callable[[], Iterator[bytes]]
    needs_smtputf8: bool
    needs_8bitmime: bool
    #: makes the bytes ahead of their turn, if that is cheap to keep, and
    #: returns them (the one chunk ``source`` yields): called while the
    #: server works on a command, so that formatting and dot-stuffing are not
    #: on the critical path of a server that answers one command at a time
    warm: Callable[[], bytes] | None = None
    #: delivery status notifications asked for (RFC 3461)
    dsn: DSN | None = None
    #: called as progress(octets_sent, octets_in_all) as the data goes out
    progress: Progress | None = None


def _rcpt(address: str, dsn: DSN | None) -> Rcpt:
    """The RCPT of ``address``, with the parameters ``dsn`` asks for."""
    return Rcpt(address) if dsn is None else Rcpt(address, dsn.rcpt_params(address))


def _mail_params(conn: ClientConnection, job: Job) -> tuple[str, ...]:
    """The MAIL parameters a message needs, or why the server cannot take it."""
    caps = conn.capabilities
    needs_smtputf8, needs_8bitmime = job.needs_smtputf8, job.needs_8bitmime
    if not (needs_smtputf8 or needs_8bitmime or "SIZE" in caps.keywords
            or job.dsn is not None):
        return ()       # the usual case, asked before every MAIL
    params: list[str] = []
    if job.dsn is not None:
        # A server without DSN would not pass the request on: reports would
        # come by its own rules or never, and the sender must not count on them.
        if not caps.has("DSN"):
            raise ExtensionMissing("delivery status notifications (DSN) were asked for and "
                                   "the server does not offer them", phase="mail")
        params.extend(job.dsn.mail_params())
    if needs_smtputf8:
        if not caps.has("SMTPUTF8"):
            raise ExtensionMissing("the message needs SMTPUTF8 (UTF-8 addresses or headers) "
                                   "and the server does not offer it", phase="mail")
        params.append("SMTPUTF8")
    if needs_8bitmime or needs_smtputf8:
        if not caps.has("8BITMIME"):
            if needs_8bitmime:
                raise ExtensionMissing("the message has 8-bit content and the server does "
                                       "not offer 8BITMIME", phase="mail")
        else:
            params.append("BODY=8BITMIME")
    if caps.has("SIZE"):
        size = _size(job.source())
        limit = caps.size
        if limit is not None and size > limit:
            raise MessageTooLarge(f"the message is {size} octets; the server takes at most "
                                  f"{limit} (SIZE)", phase="mail")
        params.append(f"SIZE={size}")
    return tuple(params)


def _one_group(conn: ClientConnection, rcpts: list[str], allow_partial: bool) -> bool:
    """Whether MAIL, every RCPT and DATA go out as one pipelined group.

    DATA joins the group when that cannot deliver to a subset the caller did
    not allow: with one recipient, a refused RCPT makes the server refuse
    DATA too (RFC 2920 3.1).
    """
    return conn.capabilities.has("PIPELINING") and (allow_partial or len(rcpts) == 1)


@dataclass(frozen=True, slots=True)
class Ahead:
    """A message's MAIL, written before its turn; its replies are still to be read.

    ``group``: MAIL, every RCPT and DATA went out behind the previous
    message's end of data (RFC 2920 3.1). Otherwise MAIL alone went out as
    soon as the previous message's final reply was in.
    """

    params: tuple[str, ...]
    mark: int
    group: bool = True


def write_ahead(conn: ClientConnection, job: Job, *,
                allow_partial: bool) -> tuple[bytes, Ahead] | None:
    """The next message's whole envelope group (MAIL, RCPT, DATA), to follow
    an end of data in the same write; None when it must wait its turn."""
    if not conn.capabilities.has("PIPELINING"):
        return None     # asked at every end of data: the quick answer first
    rcpts = list(dict.fromkeys(job.rcpt_to))
    if not rcpts or len(rcpts) > RCPT_BATCH or not _one_group(conn, rcpts, allow_partial):
        return None
    try:
        params = _mail_params(conn, job)
        # Every command is made, and so checked, before the first is sent.
        commands = [Mail(job.mail_from, params), *[_rcpt(a, job.dsn) for a in rcpts], Data()]
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
        params = _mail_params(conn, job)
        mail = Mail(job.mail_from, params)
        for a in job.rcpt_to:
            _rcpt(a, job.dsn)   # an address that cannot be sent waits for its turn
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


def send_message(conn: ClientConnection, opts: SessionOptions, job: Job, *,
                 allow_partial: bool, ahead: Ahead | None = None,
                 then: Callable[[], bytes] | None = None,
                 idle: Callable[[], None] | None = None,
                 after: Callable[[], bytes] | None = None) -> Flow[SendResult]:
    """One message to every recipient, in transactions of at most 100 recipients.

    ``ahead``: its MAIL, or its whole envelope, was written already (see
    write_ahead and mail_ahead). ``then``: bytes to write right after this
    message's end of data. ``idle``: work to do while the server takes in
    the message, before its reply is read. ``after``: bytes to write as soon
    as the final reply is in, before this message's result is made.
    """
    if ahead is not None:
        mark, params = ahead.mark, ahead.params
        conn.trim(keep_from=mark)
    else:
        mark = conn.begin_transaction()
        params = _mail_params(conn, job)
    mail_from, source = job.mail_from, job.source
    # The callback is told the whole size: the message's octets, as SIZE
    # counts them (a streamed file is read once more for it, as for SIZE).
    total = _size(source()) if job.progress is not None else 0
    results: dict[str, RecipientResult] = {}
    unique = list(dict.fromkeys(job.rcpt_to))
    queue = unique
    final: Reply | None = None
    end: int | None = None      # where this message's lines end, once known
    delivered = False           # a transaction of this message got its 2xx

    def result() -> SendResult:
        out = [results.get(a) or RecipientResult(a, "deferred", text="not attempted")
               for a in unique]
        return SendResult(tuple(out), final, conn.transcript_since(mark, end))

    while queue:
        batch, queue = queue[:RCPT_BATCH], queue[RCPT_BATCH:]
        written = ahead is not None and ahead.group
        mail_written, ahead = ahead is not None and not ahead.group, None
        with_data = _one_group(conn, batch, allow_partial)
        mail_reply, rcpt_replies, early, data_written = yield from _envelope(
            conn, opts, mail_from, params, batch, with_data=with_data, written=written,
            mail_written=mail_written, make=job.warm, dsn=job.dsn)
        if early is not None and early.code == 354 and (
                mail_reply.code // 100 != 2 or not any(r.code // 100 == 2 for r in rcpt_replies)):
            # A server that says 354 with no valid recipient: end the data
            # at once, empty, and never send the message.
            yield Write(conn.send(EndOfMessage()), "message", opts.t("message"))
            yield ReadReply("final", opts.t("final"))
            early = None
        if mail_reply.code // 100 != 2:
            yield from _rset(conn, opts)
            raise SenderRefused(f"the server refused the sender: {mail_reply}",
                                reply=mail_reply, phase="mail", result=result())
        accepted: list[str] = []
        retry: list[str] = []
        for addr, r in zip(batch, rcpt_replies, strict=True):
            if r.code // 100 == 2:
                accepted.append(addr)
            elif r.code == 452:
                retry.append(addr)      # too many recipients: the next transaction
            else:
                results[addr] = RecipientResult(addr, "deferred" if r.is_transient else "rejected",
                                                r.code, r.enhanced, r.text)
        if retry and not accepted:
            for addr, r in zip(batch, rcpt_replies, strict=True):
                if addr in retry:
                    results[addr] = RecipientResult(addr, "deferred", r.code, r.enhanced, r.text)
            retry = []
        queue = retry + queue
        if not accepted:
            yield from _rset(conn, opts)
            continue
        refused = [r for a, r in zip(batch, rcpt_replies, strict=True)
                   if a in results and results[a].status != "accepted"
                   ] if len(accepted) < len(batch) else []
        # By default a refusal stops the message: nothing is sent. Once an
        # earlier transaction of it was delivered (past 100 recipients) that
        # cannot hold any more, and the accepted recipients of this one get it
        # too; the refusals are raised at the end, with the whole result.
        if refused and not allow_partial and not delivered:
            yield from _rset(conn, opts)
            for addr in accepted:
                results[addr] = RecipientResult(addr, "deferred",
                                                text="not sent: other recipients were refused")
            raise RecipientsRefused(
                f"{len(refused)} recipient(s) refused; nothing sent "
                "(allow_partial=True sends to the others)",
                reply=refused[0], phase="rcpt", result=result())
        if early is None and not data_written:
            # DATA goes first: the bookkeeping below is done while the server answers.
            yield Write(conn.send(Data()), "data", opts.t("data"))
        for addr in accepted:
            results[addr] = RecipientResult(addr, "unknown", text="message not yet sent")
        data_reply = early if early is not None else (yield ReadReply("data", opts.t("data")))
        if data_reply.code != 354:
            for addr in accepted:
                results[addr] = RecipientResult(addr, "deferred" if data_reply.is_transient
                                                else "rejected", data_reply.code,
                                                data_reply.enhanced, data_reply.text)
            yield from _rset(conn, opts)
            raise DataRefused(f"the server refused DATA: {data_reply}", reply=data_reply,
                              phase="data", result=result())
        try:
            yield from _stream(conn, opts, source(), None if queue else then,
                               job.progress, total)
        except (ConnectionLost, SMTPTimeout) as exc:
            for addr in accepted:
                results[addr] = RecipientResult(addr, "deferred",
                                                text="the connection failed during DATA")
            exc.result = result()
            raise
        except (MailfmtError, OSError) as exc:
            # The message's own bytes failed after the 354: an attached file
            # gone or unreadable, or data the stuffer refuses. Ending the data
            # would deliver part of the message, so it is never ended: the
            # session stops here, and the driver drops the connection
            # (ClientBase._stranded).
            for addr in accepted:
                results[addr] = RecipientResult(addr, "deferred",
                                                text="not sent: the message data failed")
            if isinstance(exc, TransportError):
                exc.phase = exc.phase or "message"
                exc.result = result()
                raise
            raise LocalProtocolError(
                f"not sent: the message could not be read: {_reason(exc)}",
                phase="message", result=result()) from exc
        if idle is not None and not queue:
            idle()
        try:
            final = yield ReadReply("final", opts.t("final"))
        except (ConnectionLost, SMTPTimeout) as exc:
            for addr in accepted:
                results[addr] = RecipientResult(addr, "unknown",
                                                text="no reply to the end of data")
            raise DeliveryStatusUnknown(
                "the connection failed after the end of data: the message may or may not "
                "have been delivered; a retry may deliver it twice (RFC 5321 4.5.3.2.6)",
                phase="final", result=result()) from exc
        assert final is not None
        if after is not None and not queue:
            end = conn.mark
            data = after()
            if data:
                # This message is through; a failure here is the next one's.
                with contextlib.suppress(ConnectionLost, SMTPTimeout):
                    yield Write(data, "mail", opts.t("mail"))
        status: Status = ("accepted" if final.code // 100 == 2
                          else "deferred" if final.is_transient else "rejected")
        code, enhanced, text = final.code, final.enhanced, final.text
        for addr in accepted:
            results[addr] = RecipientResult(addr, status, code, enhanced, text)
        if status != "accepted":
            raise MessageRefused(f"the server refused the message: {final}", reply=final,
                                 phase="final", result=result())
        delivered = True
    res = result()
    # Between the final reply and the caller's next message: one pass, no lists.
    n_accepted = [r.status for r in res.recipients].count("accepted")
    if not n_accepted:
        raise RecipientsRefused("every recipient was refused; no message was sent",
                                reply=None if not res.recipients else _first_reply(res),
                                phase="rcpt", result=res)
    if not allow_partial and n_accepted < len(res.recipients):
        raise RecipientsRefused(f"{len(res.recipients) - n_accepted} recipient(s) not "
                                f"accepted; the message went to the other {n_accepted}",
                                reply=_first_reply(res), phase="rcpt", result=res)
    return res


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
                    f"not sent: the message could not be made: {_reason(exc)}", phase="mail"))
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
            if not isinstance(exc, (SMTPReplyError, ExtensionMissing)):
                return out      # the connection failed: nothing more can go
            # a refusal concerns this message only: the session goes on
        except (MailfmtError, OSError) as exc:
            # The message's own bytes failed (an attachment file that cannot
            # be read, say): fine between transactions, fatal within one.
            out.append(LocalProtocolError(
                f"not sent: the message could not be read: {_reason(exc)}",
                phase="message", transcript=list(conn.transcript)))
            if conn.state is not State.READY or conn.awaiting_replies:
                return out
        ahead = written[0] if written else None
        prepare()
    return out


def _reason(exc: BaseException) -> str:
    """What went wrong, for another error's text: a TransportError's own
    message, without the phase its str() adds."""
    return str(exc.args[0]) if isinstance(exc, TransportError) and exc.args else str(exc)


def _first_reply(res: SendResult) -> Reply:
    r = next(x for x in res.recipients if x.status != "accepted")
    return Reply(r.code or 0, (r.text,), r.enhanced)


def _envelope(conn: ClientConnection, opts: SessionOptions, mail_from: str,
              params: tuple[str, ...], batch: list[str], *, with_data: bool,
              written: bool = False, mail_written: bool = False,
              make: Callable[[], bytes] | None = None, dsn: DSN | None = None,
              ) -> Flow[tuple[Reply, list[Reply], Reply | None, bool]]:
    """MAIL and the RCPTs (and DATA when ``with_data``); every reply, in
    order, and whether DATA went out with its reply still to be read.

    ``written``: the group went out already, behind the previous message.
    ``mail_written``: MAIL alone went out already (see mail_ahead).
    ``make``: makes the message's bytes (Job.warm). One at a time, that is
    done while the server answers MAIL, and a failure is answered with RSET
    before any RCPT; a pipelined group may hold DATA, so its message is made
    before the group is written. Either way the bytes are dot-stuffed while
    the server answers (ClientConnection.prepare). ``dsn``: the delivery
    status notifications each RCPT asks for.
    """
    pipelining = conn.capabilities.has("PIPELINING")
    # Every command is made, and so checked, before any of them is written.
    rcpts = [] if written else [_rcpt(a, dsn) for a in batch]
    mail = None if written or mail_written else Mail(mail_from, params)
    if written:
        assert with_data, "only a whole group is written ahead"
    elif pipelining:
        made = make() if make is not None else None
        # RFC 2920: the whole group in one write, replies read in order.
        data = b"" if mail is None else conn.send(mail)
        data += b"".join([conn.send(cmd) for cmd in rcpts])
        if with_data:
            data += conn.send(Data())
        yield Write(data, "mail", opts.t("mail"))
        if made is not None:
            conn.prepare(made)
    if written or pipelining:
        mail_reply: Reply = yield ReadReply("mail", opts.t("mail"))
        replies = []
        for _ in batch:
            r: Reply = yield ReadReply("rcpt", opts.t("rcpt"))
            replies.append(r)
        data_reply: Reply | None = None
        if with_data:
            data_reply = yield ReadReply("data", opts.t("data"))
        return mail_reply, replies, data_reply, False
    if mail is not None:
        yield Write(conn.send(mail), "mail", opts.t("mail"))
    failed: MailfmtError | OSError | None = None
    if make is not None:
        try:
            conn.prepare(make())
        except (MailfmtError, OSError) as exc:
            failed = exc
    mail_reply = yield ReadReply("mail", opts.t("mail"))
    if failed is not None:
        if mail_reply.code // 100 == 2:
            yield from _rset(conn, opts)
        raise LocalProtocolError(f"not sent: the message could not be made: {failed}",
                                 phase="mail") from failed
    if mail_reply.code // 100 != 2:
        return mail_reply, [], None, False
    replies = []
    timeout = opts.t("rcpt")
    for cmd in rcpts:
        yield Write(conn.send(cmd), "rcpt", timeout)
        r = yield ReadReply("rcpt", timeout)
        replies.append(r)
    if all(r.code // 100 == 2 for r in replies):
        # Everything accepted: DATA follows the last reply at once, and the
        # caller's bookkeeping waits with the server (same decision as its own).
        yield Write(conn.send(Data()), "data", opts.t("data"))
        return mail_reply, replies, None, True
    return mail_reply, replies, None, False


def _stream(conn: ClientConnection, opts: SessionOptions, chunks: Iterator[bytes],
            then: Callable[[], bytes] | None = None,
            progress: Progress | None = None, total: int = 0) -> Flow[None]:
    """Message data through the dot-stuffer, in writes of about WRITE_SIZE
    octets; ``then`` adds what follows the end of data in its write.
    ``progress``: see _stream_reporting."""
    if progress is not None:
        yield from _stream_reporting(conn, opts, chunks, then, progress, total)
        return
    pending: list[bytes] = []
    size = 0
    timeout = opts.t("message")
    for chunk in chunks:
        out = conn.send(MessageData(chunk))
        pending.append(out)
        size += len(out)
        if size >= WRITE_SIZE:
            yield Write(b"".join(pending), "message", timeout, True)
            pending, size = [], 0
    pending.append(conn.send(EndOfMessage()))
    if then is not None:
        pending.append(then())
    yield Write(b"".join(pending), "message", timeout)


def _stream_reporting(conn: ClientConnection, opts: SessionOptions, chunks: Iterator[bytes],
                      then: Callable[[], bytes] | None, progress: Progress,
                      total: int) -> Flow[None]:
    """_stream, in writes of at most WRITE_SIZE octets (a message made in
    memory is one chunk), calling ``progress`` after each with the octets of
    the message written so far (before dot-stuffing; within a write, in
    proportion) and ``total``. The last call, all of it written, comes
    before the end of data goes out, in a write of its own: whatever the
    callback raises stops the send with the data not ended, and so not
    delivered."""
    pending: list[bytes] = []
    size = taken = done = 0
    timeout = opts.t("message")
    for chunk in chunks:
        out = conn.send(MessageData(chunk))
        pending.append(out)
        size += len(out)
        taken += len(chunk)
        if size >= WRITE_SIZE:
            data, pending, size = b"".join(pending), [], 0
            for start in range(0, len(data), WRITE_SIZE):
                stop = min(start + WRITE_SIZE, len(data))
                yield Write(data[start:stop], "message", timeout, True)
                progress(done + (taken - done) * stop // len(data), total)
            done = taken
    if pending:
        yield Write(b"".join(pending), "message", timeout, True)
        progress(taken, total)
    data = conn.send(EndOfMessage())
    yield Write(data + then() if then is not None else data, "message", timeout)


def _rset(conn: ClientConnection, opts: SessionOptions) -> Flow[None]:
    if conn.state in (State.READY, State.TRANSACTION):
        with contextlib.suppress(TransportError):
            yield from _command(conn, Rset(), "rset", opts)


def close_session(conn: ClientConnection, opts: SessionOptions) -> Flow[None]:
    """QUIT, if the session can still take it; failures here change nothing."""
    if conn.state in (State.HELLO, State.READY, State.TRANSACTION):
        yield from _command(conn, Quit(), "quit", opts)
