"""One message through a session: its envelope (MAIL, the RCPTs, DATA,
pipelined when the server allows), its data through the dot-stuffer, and a
result for every recipient. The drivers run it (send, send_raw), and so
does _batch for each message of send_many.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from ..errors import (
    ConnectionLost,
    DataRefused,
    DeliveryStatusUnknown,
    ExtensionMissing,
    LocalProtocolError,
    MailfmtError,
    MessageRefused,
    MessageTooLarge,
    RecipientsRefused,
    SenderRefused,
    SMTPReplyError,
    SMTPTimeout,
    TransportError,
)
from ._connection import ClientConnection
from ._dsn import DSN
from ._events import Data, EndOfMessage, Mail, MessageData, Rcpt, Reply
from ._results import RecipientResult, SendResult, Status
from ._session import Flow, ReadReply, SessionOptions, Write, rset
from ._state import CLOSING, State

__all__ = ["RCPT_BATCH", "WRITE_SIZE", "Ahead", "Job", "Progress", "send_message"]

#: progress(octets_sent, octets_in_all): see Job.progress and _stream
Progress = Callable[[int, int], None]
#: RFC 5321 4.5.3.1.8: servers must take 100 recipients per transaction.
RCPT_BATCH = 100
#: message data is written in pieces of about this size
WRITE_SIZE = 64 * 1024


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
    #: REQUIRETLS (RFC 8689): every hop must relay it over verified TLS
    require_tls: bool = False


def rcpt_command(address: str, dsn: DSN | None) -> Rcpt:
    """The RCPT of ``address``, with the parameters ``dsn`` asks for."""
    return Rcpt(address) if dsn is None else Rcpt(address, dsn.rcpt_params(address))


def mail_params(conn: ClientConnection, job: Job) -> tuple[str, ...]:
    """The MAIL parameters a message needs, or why the server cannot take it."""
    caps = conn.capabilities
    needs_smtputf8, needs_8bitmime = job.needs_smtputf8, job.needs_8bitmime
    if not (needs_smtputf8 or needs_8bitmime or "SIZE" in caps.keywords
            or job.dsn is not None or job.require_tls):
        return ()       # the usual case, asked before every MAIL
    params: list[str] = []
    if job.require_tls:
        # RFC 8689 4.2.1: a server that does not offer REQUIRETLS would relay
        # the message on without the demand; it must not get the message.
        if not caps.has("REQUIRETLS"):
            raise ExtensionMissing("REQUIRETLS was asked for and the server does not offer "
                                   "it (RFC 8689; servers offer it only over TLS)",
                                   phase="mail")
        params.append("REQUIRETLS")
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


def one_group(conn: ClientConnection, rcpts: list[str], allow_partial: bool) -> bool:
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
        params = mail_params(conn, job)
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
        with_data = one_group(conn, batch, allow_partial)
        try:
            mail_reply, rcpt_replies, early, data_written = yield from _envelope(
                conn, opts, mail_from, params, batch, with_data=with_data, written=written,
                mail_written=mail_written, make=job.warm, dsn=job.dsn)
        except (ConnectionLost, SMTPTimeout) as exc:
            raise _before_data(exc, unique, results, result) from None
        if conn.state is State.CLOSED:
            raise _closed(mail_reply, batch, rcpt_replies, early, unique, results, result)
        if early is not None and early.code == 354 and (
                mail_reply.code // 100 != 2 or not any(r.code // 100 == 2 for r in rcpt_replies)):
            # A server that says 354 with no valid recipient: end the data
            # at once, empty, and never send the message.
            yield Write(conn.send(EndOfMessage()), "message", opts.t("message"))
            yield ReadReply("final", opts.t("final"))
            early = None
        if mail_reply.code // 100 != 2:
            yield from rset(conn, opts)
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
            yield from rset(conn, opts)
            continue
        refused = [r for a, r in zip(batch, rcpt_replies, strict=True)
                   if a in results and results[a].status != "accepted"
                   ] if len(accepted) < len(batch) else []
        # By default a refusal stops the message: nothing is sent. Once an
        # earlier transaction of it was delivered (past 100 recipients) that
        # cannot hold any more, and the accepted recipients of this one get it
        # too; the refusals are raised at the end, with the whole result.
        if refused and not allow_partial and not delivered:
            yield from rset(conn, opts)
            for addr in accepted:
                results[addr] = RecipientResult(addr, "deferred",
                                                text="not sent: other recipients were refused")
            raise RecipientsRefused(
                f"{len(refused)} recipient(s) refused; nothing sent "
                "(allow_partial=True sends to the others)",
                reply=refused[0], phase="rcpt", result=result())
        try:
            if early is None and not data_written:
                # DATA goes first: the bookkeeping below is done while the server answers.
                yield Write(conn.send(Data()), "data", opts.t("data"))
            for addr in accepted:
                results[addr] = RecipientResult(addr, "unknown", text="message not yet sent")
            data_reply = early if early is not None else (yield ReadReply("data", opts.t("data")))
        except (ConnectionLost, SMTPTimeout) as exc:
            raise _before_data(exc, unique, results, result) from None
        if data_reply.code != 354:
            for addr in accepted:
                results[addr] = RecipientResult(addr, "deferred" if data_reply.is_transient
                                                else "rejected", data_reply.code,
                                                data_reply.enhanced, data_reply.text)
            yield from rset(conn, opts)
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
                f"not sent: the message could not be read: {reason_of(exc)}",
                phase="message", result=result()) from exc
        if idle is not None and not queue:
            idle()
        finals: list[Reply] = []
        try:
            finals.append((yield ReadReply("final", opts.t("final"))))
            # LMTP (RFC 2033 4.2): a reply for each accepted recipient, in order.
            while conn.lmtp and conn.awaiting_final_reply:
                finals.append((yield ReadReply("final", opts.t("final"))))
        except (ConnectionLost, SMTPTimeout) as exc:
            answered = _settle(finals, accepted, results)
            for addr in accepted:
                if addr not in answered:
                    results[addr] = RecipientResult(addr, "unknown",
                                                    text="no reply to the end of data")
            raise DeliveryStatusUnknown(
                "the connection failed after the end of data: the message may or may not "
                "have been delivered; a retry may deliver it twice (RFC 5321 4.5.3.2.6)",
                phase="final", result=result()) from exc
        if after is not None and not queue:
            end = conn.mark
            data = after()
            if data:
                # This message is through; a failure here is the next one's.
                with contextlib.suppress(ConnectionLost, SMTPTimeout):
                    yield Write(data, "mail", opts.t("mail"))
        _settle(finals, accepted, results)
        final = finals[0] if len(finals) == 1 else \
            next((r for r in finals if r.code // 100 == 2), finals[-1])
        if final.code // 100 != 2:
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



def _before_data(exc: ConnectionLost | SMTPTimeout, unique: list[str],
                 results: dict[str, RecipientResult],
                 result: Callable[[], SendResult]) -> ConnectionLost | SMTPTimeout:
    """``exc``, for a connection that failed before the message data: it went
    to nobody, so every recipient not refused for good (or reached by an
    earlier transaction) is deferred, and the error carries that result."""
    for addr in unique:
        if addr not in results or results[addr].status == "unknown":
            results[addr] = RecipientResult(
                addr, "deferred", text="not sent: the connection failed before the data")
    exc.result = result()
    return exc


def _closed(mail_reply: Reply, batch: list[str], rcpt_replies: list[Reply],
            early: Reply | None, unique: list[str], results: dict[str, RecipientResult],
            result: Callable[[], SendResult]) -> SMTPReplyError:
    """The error for a session a 421 closed during MAIL, RCPT or a pipelined
    DATA (RFC 5321 3.8): recipients the server answered before the 421 with
    a refusal keep it (rejected for a 5yz, deferred for a 4yz); the others,
    none of whom got the message, are deferred with the 421, which a later
    try on a new connection may get past."""
    replies = [mail_reply, *rcpt_replies, *([early] if early is not None else [])]
    closing = next(r for r in reversed(replies) if r.code == CLOSING)
    for addr, r in zip(batch, rcpt_replies, strict=False):     # they stop at the 421
        if r.code // 100 in (4, 5) and r is not closing:
            results[addr] = RecipientResult(addr, "deferred" if r.is_transient else "rejected",
                                            r.code, r.enhanced, r.text)
    for addr in unique:
        if addr not in results:
            results[addr] = RecipientResult(addr, "deferred", closing.code, closing.enhanced,
                                            closing.text)
    phase = "mail" if closing is mail_reply else "data" if closing is early else "rcpt"
    return SMTPReplyError(f"the server closed the session: {closing}", reply=closing,
                          phase=phase, result=result())


def _settle(finals: list[Reply], accepted: list[str],
            results: dict[str, RecipientResult]) -> set[str]:
    """Each accepted recipient's outcome from the replies to the end of data:
    the one reply for all of them, or in LMTP each its own (the reply's
    command names it); returns the recipients answered."""
    answered: set[str] = set()
    for r in finals:
        status: Status = ("accepted" if r.code // 100 == 2
                          else "deferred" if r.is_transient else "rejected")
        named = r.command.recipient if isinstance(r.command, EndOfMessage) else None
        for addr in accepted if named is None else (named,):
            results[addr] = RecipientResult(addr, status, r.code, r.enhanced, r.text)
            answered.add(addr)
    return answered


def reason_of(exc: BaseException) -> str:
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
    rcpts = [] if written else [rcpt_command(a, dsn) for a in batch]
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
            if conn.state is State.CLOSED:
                break       # a 421: no other reply comes (RFC 5321 3.8)
            r: Reply = yield ReadReply("rcpt", opts.t("rcpt"))
            replies.append(r)
        data_reply: Reply | None = None
        if with_data and conn.state is not State.CLOSED:
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
            yield from rset(conn, opts)
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
        if conn.state is State.CLOSED:
            return mail_reply, replies, None, False     # a 421: nothing more goes out
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
        assert then is None, "send_many takes no progress callback"
        yield from _stream_reporting(conn, opts, chunks, progress, total)
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
                      progress: Progress, total: int) -> Flow[None]:
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
    yield Write(conn.send(EndOfMessage()), "message", timeout)


