"""``mailfmt send FILE.eml...``: lint, then send, then one line per recipient.

Every file is checked first (readable, an envelope, no Bcc field, no lint
error); if any fails, nothing is sent. The files then go over one
connection, each envelope pipelined behind the previous message. With
several files each output line starts with the file's name. ``--retries N``
tries again, on a new connection, the files with recipients that a try
could not reach for a reason that may pass (see _retry.py), for those
recipients only; the lines printed are each recipient's latest outcome.

Exit codes: 0 every recipient accepted, 1 a recipient not accepted or the
send failed, 2 usage error, unreadable file or a message that fails lint.
"""

from __future__ import annotations

import argparse
import functools
import os
import ssl
import sys
import time
from pathlib import Path

from .._limits import MAX_HEADER_FIELDS
from ..errors import MessageRejected, TransportError
from ..lint.source import read_section
from ._common import bcc_addresses, field_addresses, raw_job
from ._dsn import DSN
from ._message import Job
from ._results import SendResult
from ._retry import Attempts, Retry
from ._sync import SMTPClient

__all__ = ["add_send_parser", "run_send"]


def add_send_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("send", help="lint .eml files, then send them over one SMTP connection")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help=".eml files (- for standard input); all are checked before any is "
                        "sent, then they go over one connection, pipelined")
    p.add_argument("--host", required=True,
                   help="the server's name or address, or the path of a Unix socket "
                        "(with --tls none; usually with --lmtp)")
    p.add_argument("--port", type=int, default=None,
                   help="default: 465 with --tls implicit, 24 with --lmtp, else 587")
    p.add_argument("--tls", choices=("starttls", "implicit", "none"), default="starttls")
    p.add_argument("--user", default=None)
    p.add_argument("--password-env", default=None, metavar="VAR",
                   help="name of the environment variable that holds the password")
    p.add_argument("--from", dest="mail_from", default=None,
                   help="envelope sender (default: Sender, else the first From mailbox; "
                        "Resent-Sender or Resent-From for a resent message)")
    p.add_argument("--to", dest="rcpt_to", action="append", default=None,
                   help="envelope recipient, repeatable (default: To, Cc; Resent-To, "
                        "Resent-Cc for a resent message)")
    p.add_argument("--cafile", default=None, help="trust this CA bundle for the server")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--allow-partial", action="store_true",
                   help="send to the accepted recipients even if others are refused")
    p.add_argument("--allow-insecure-auth", action="store_true",
                   help="allow AUTH without TLS to a loopback server")
    p.add_argument("--requiretls", action="store_true",
                   help="REQUIRETLS (RFC 8689): every server on the way must relay the "
                        "messages over verified TLS or bounce them; needs --tls starttls or "
                        "implicit and a server that offers it")
    p.add_argument("--lmtp", action="store_true",
                   help="speak LMTP (RFC 2033) to a delivery agent: each recipient gets its "
                        "own outcome after the data")
    p.add_argument("--retries", type=int, default=0, metavar="N",
                   help="try again up to N times, each on a new connection, for the "
                        "recipients a try could not reach for a reason that may pass (a 4yz "
                        "reply, a refused or lost connection before the end of data); never "
                        "for one that may have the message (default: 0)")
    p.add_argument("--retry-delay", type=float, default=5.0, metavar="SECONDS",
                   help="the wait before the first retry, doubled for each one after it, "
                        "at most 60 (default: 5)")
    dsn = p.add_argument_group("delivery status notifications (RFC 3461; the server must "
                               "offer DSN)")
    dsn.add_argument("--notify", default=None, metavar="WHEN",
                     help="when each recipient's report is sent: never, or a comma list of "
                          "success, failure, delay")
    dsn.add_argument("--ret", choices=("full", "hdrs"), default=None,
                     help="a failure report returns the whole message, or its header only")
    dsn.add_argument("--envid", default=None,
                     help="an identifier every report quotes (printable ASCII)")
    p.set_defaults(func=run_send)


def _envelope(data: bytes) -> tuple[str | None, list[str]]:
    """Sender and recipients from the header, as Message.envelope takes
    them: a resent message (RFC 5322 3.6.6) from its newest resent block."""
    sec = read_section(data, 0, len(data), MAX_HEADER_FIELDS)
    fields: dict[str, str] = {}
    resent: dict[str, str] = {}
    dates = 0
    for f in sec.fields:
        key = f.name.lower()
        fields.setdefault(key, f.value)
        dates += key == "resent-date"
        if key.startswith("resent-") and dates <= 1:    # a second date: an older block
            resent.setdefault(key, f.value)

    def boxes(name: str, where: dict[str, str] = fields) -> list[str]:
        value = where.get(name)
        return (field_addresses(value) or []) if value is not None else []

    origins = (boxes("resent-sender", resent) or boxes("resent-from", resent)
               or boxes("sender") or boxes("from"))
    rcpts = (boxes("resent-to", resent) + boxes("resent-cc", resent)
             or boxes("to") + boxes("cc"))
    return (origins[0] if origins else None), rcpts


def _print(result: SendResult, prefix: str = "") -> None:
    for r in result.recipients:
        code = f"{r.code} " if r.code else ""
        enh = ".".join(map(str, r.enhanced)) + " " if r.enhanced else ""
        print(f"{prefix}{r.status:<9} {r.address}  {code}{enh}{r.text}".rstrip())


def _prepare(name: str, args: argparse.Namespace) -> Job:
    """Read, check and lint one file; ValueError says why it cannot be sent."""
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {name}: {exc.strerror or exc}") from None
    origin, rcpts = _envelope(data)
    mail_from = args.mail_from or origin
    rcpt_to = args.rcpt_to or list(dict.fromkeys(rcpts))
    if bcc_addresses(data):
        # Said here with the option to use; raw_job would refuse it too.
        raise ValueError("the message has a Bcc or Resent-Bcc field, which every recipient "
                         "would see; remove it and name the hidden recipients with --to")
    if not mail_from or not rcpt_to:
        raise ValueError("no envelope sender or recipients in the headers; give --from and --to")
    try:
        return raw_job(data, mail_from, rcpt_to, args.dsn, require_tls=args.requiretls)
    except MessageRejected as exc:
        raise ValueError(f"not sent: {exc}") from None


def _same(job: Job) -> Job:
    return job


def run_send(args: argparse.Namespace) -> int:
    if args.files.count("-") > 1:
        print("mailfmt send: '-' (stdin) can be given once", file=sys.stderr)
        return 2
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            print(f"mailfmt send: ${args.password_env} is not set", file=sys.stderr)
            return 2
    if (args.user is None) != (password is None):
        print("mailfmt send: --user and --password-env go together", file=sys.stderr)
        return 2
    if args.requiretls and args.tls == "none":
        print("mailfmt send: --requiretls needs --tls starttls or implicit", file=sys.stderr)
        return 2
    if args.retries < 0 or args.retry_delay < 0:
        print("mailfmt send: --retries and --retry-delay cannot be negative", file=sys.stderr)
        return 2
    args.dsn = None
    if args.notify is not None or args.ret is not None or args.envid is not None:
        try:
            args.dsn = DSN(notify=args.notify, ret=args.ret, envid=args.envid)
        except ValueError as exc:
            print(f"mailfmt send: {exc}", file=sys.stderr)
            return 2
    # Every file is checked before anything is sent: a rerun after a fix
    # never sends the good ones twice.
    jobs: list[Job] = []
    bad = 0
    many = len(args.files) > 1
    for name in args.files:
        try:
            jobs.append(_prepare(name, args))
        except ValueError as exc:
            bad += 1
            print(f"mailfmt send: {name + ': ' if many else ''}{exc}", file=sys.stderr)
    if bad:
        if many:
            print(f"mailfmt send: nothing sent ({bad} of {len(args.files)} files cannot go)",
                  file=sys.stderr)
        return 2
    ctx = ssl.create_default_context(cafile=args.cafile) if args.cafile else None

    def client() -> SMTPClient:
        return SMTPClient(args.host, args.port, tls=args.tls, username=args.user,
                          password=password, ssl_context=ctx, timeout=args.timeout,
                          allow_insecure_auth=args.allow_insecure_auth, lmtp=args.lmtp)
    try:
        client()        # the options checked before anything is tried
    except ValueError as exc:       # e.g. a Unix socket with a port, or with TLS
        print(f"mailfmt send: {exc}", file=sys.stderr)
        return 2
    policy = Retry(attempts=args.retries + 1, first_delay=args.retry_delay)
    tries = [Attempts(policy, job.rcpt_to, allow_partial=args.allow_partial) for job in jobs]
    final: dict[int, SendResult | TransportError] = {}
    session_failed: list[TransportError] = []    # errors that ended a whole session
    todo = list(range(len(jobs)))
    while todo:
        # Each try after the first goes to the recipients still to reach.
        batch = [jobs[i]._replace(rcpt_to=tries[i].pending) for i in todo]
        outcomes: list[SendResult | TransportError]
        try:
            with client() as c:
                c._check_require_tls(args.requiretls)
                outcomes = c._send_jobs([functools.partial(_same, j) for j in batch],
                                        len(batch), args.allow_partial)
        except TransportError as exc:   # the session itself failed: nothing was sent
            outcomes = [exc] * len(batch)
            session_failed.append(exc)
        again: list[int] = []
        wait = 0.0
        why = ""
        for i, outcome in zip(todo, outcomes, strict=True):
            delay = tries[i].after(outcome)
            if delay is None:
                final[i] = outcome
                continue
            again.append(i)
            wait = max(wait, delay)
            why = why or (f"{type(outcome).__name__}: {outcome}"
                          if isinstance(outcome, TransportError) else "recipients deferred")
        if again:
            print(f"mailfmt send: try {tries[again[0]].tried} of {policy.attempts} failed for "
                  f"{len(again)} file(s) ({why}); again in {wait:.1f} s", file=sys.stderr)
            time.sleep(wait)
        todo = again
    return _report(args.files, final, tries, session_failed)


def _report(files: list[str], final: dict[int, SendResult | TransportError],
            tries: list[Attempts], session_failed: list[TransportError]) -> int:
    """Each file's recipients, as every try left them; the exit code."""
    many = len(files) > 1
    failed = 0
    said: list[TransportError] = []
    for i, name in enumerate(files):
        outcome = final[i]
        prefix = f"{name}: " if many else ""
        last = outcome if isinstance(outcome, SendResult) else outcome.result
        merged = tries[i].merged(last if isinstance(last, SendResult) else None)
        if tries[i].reached:
            _print(merged, prefix)
        if isinstance(outcome, TransportError):
            failed += 1
            if any(outcome is e for e in session_failed):
                # The session failed before any message: said once, for all.
                if not any(outcome is e for e in said):
                    said.append(outcome)
                    print(f"mailfmt send: {type(outcome).__name__}: {outcome}",
                          file=sys.stderr)
                continue
            print(f"mailfmt send: {prefix}{type(outcome).__name__}: {outcome}",
                  file=sys.stderr)
        elif not merged.ok:
            failed += 1
    return 1 if failed else 0
