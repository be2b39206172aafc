"""``mailfmt sink``: a real SMTP server that takes every message, stores it
unchanged in a Maildir, lints it, and says what is wrong with it.

It offers DSN (RFC 3461) and keeps what each message asked for, checked as a
strict server checks it, so that code sending with delivery status
notifications can be tested against it too.

Built on aiosmtpd (``pip install mailfmt[sink]``). Listens on loopback unless
told otherwise. Every message answered with 250 is on disk first, so none is
lost on exit.
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._limits import DSN_MAIL_ROOM, DSN_RCPT_ROOM, MAX_DSN_ENVID, MAX_DSN_ORCPT
from .errors import ParseError
from .lint import LintConfig, Report, lint
from .models.message import Message
from .transport._common import is_loopback
from .transport._dsn import NOTIFY_WHEN, unxtext

__all__ = ["ReceivedDSN", "ReceivedMessage", "Sink", "SinkError"]

_BARE_LF = re.compile(rb"(?<!\r)\n")


class SinkError(RuntimeError):
    """The sink cannot start (missing extra, refused bind address, port in use)."""


@dataclass(frozen=True)
class ReceivedDSN:
    """What a message asked for with RFC 3461's parameters, decoded: RET
    ("FULL" or "HDRS") and ENVID from MAIL; NOTIFY (its words) and ORCPT
    ("rfc822;address") by recipient, for the recipients that gave them."""

    ret: str | None = None
    envid: str | None = None
    notify: dict[str, tuple[str, ...]] = field(default_factory=dict)
    orcpt: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"ret": self.ret, "envid": self.envid,
                "notify": {k: list(v) for k, v in self.notify.items()}, "orcpt": self.orcpt}


@dataclass
class ReceivedMessage:
    """One message the sink accepted: bytes as received, envelope, lint report,
    the delivery status notifications it asked for (None: none), and whether
    it asked for REQUIRETLS."""

    raw: bytes
    mail_from: str
    rcpt_to: list[str]
    report: Report
    path: Path | None = None
    received_at: float = field(default_factory=time.time)
    dsn: ReceivedDSN | None = None
    #: the client asked for REQUIRETLS (RFC 8689) on MAIL
    requiretls: bool = False

    @property
    def message(self) -> Message | None:
        """The message parsed strictly, or None when mailfmt would not read it."""
        try:
            return Message.from_bytes(self.raw)
        except ParseError:
            return None

    def summary(self) -> str:
        counts = self.report.counts()
        rules = ", ".join(f"{c} x{n}" for c, n in sorted(counts.items())) or "clean"
        return (f"{self.mail_from or '<>'} -> {', '.join(self.rcpt_to)}  "
                f"{len(self.raw)} octets  {rules}")

    def as_json(self) -> dict[str, Any]:
        return {"mail_from": self.mail_from, "rcpt_to": self.rcpt_to, "size": len(self.raw),
                "path": str(self.path) if self.path else None, "ok": self.report.ok,
                "violations": [v.as_dict() for v in self.report.violations],
                "dsn": self.dsn.as_json() if self.dsn is not None else None,
                "requiretls": self.requiretls}


_NOTIFY_WORDS = frozenset(w.upper() for w in NOTIFY_WHEN)


def _dsn_params(arg: str, keys: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """``arg`` of MAIL or RCPT without the DSN parameters ``keys``, and their
    values by upper-case keyword; ValueError says what is wrong with them
    (a repeated one, or one RFC 3461 4 does not allow)."""
    kept: list[str] = []
    found: dict[str, str] = {}
    for token in arg.split(" "):
        key, eq, value = token.partition("=")
        if not (eq and key.upper() in keys):
            kept.append(token)
            continue
        key = key.upper()
        if key in found:
            raise ValueError(f"{key} given twice")
        if key == "RET" and value.upper() not in ("FULL", "HDRS"):
            raise ValueError("RET must be FULL or HDRS")
        if key == "NOTIFY":
            words = value.upper().split(",")
            if words != ["NEVER"] and (len(set(words)) != len(words)
                                       or not set(words) <= _NOTIFY_WORDS):
                raise ValueError("NOTIFY must be NEVER, or SUCCESS, FAILURE and DELAY")
        if key in ("ENVID", "ORCPT"):
            text = unxtext(value)
            if len(value) > (MAX_DSN_ENVID if key == "ENVID" else MAX_DSN_ORCPT):
                raise ValueError(f"{key} is too long")
            if key == "ORCPT" and not text.partition(";")[1]:
                raise ValueError("ORCPT must be addr-type;address")
        found[key] = value
    return " ".join(kept), found


def _smtp_with_dsn(lmtp: bool = False) -> type:
    """aiosmtpd's SMTP server (its LMTP one when ``lmtp``) that takes RFC
    3461's parameters off MAIL and RCPT (it refuses any parameter it does not
    know) and keeps them on the envelope, for the handler."""
    from aiosmtpd.lmtp import LMTP
    from aiosmtpd.smtp import SMTP, syntax

    class _SMTP(LMTP if lmtp else SMTP):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # aiosmtpd keeps the line limits in one dict for every
            # connection; this server's are its own.
            self.command_size_limits: dict[str, int] = collections.defaultdict(
                lambda: self.command_size_limit)

        async def smtp_EHLO(self, arg: str | None) -> None:
            if lmtp:
                await super().smtp_EHLO(arg)    # LMTP's 500 (RFC 2033 4.1)
                return
            await self._hello(arg)

        async def _hello(self, arg: str | None) -> None:
            self.command_size_limits.clear()
            await SMTP.smtp_EHLO(self, arg)
            # RFC 3461 4: DSN's parameters make MAIL and RCPT lines longer.
            self.command_size_limits["MAIL"] += DSN_MAIL_ROOM
            self.command_size_limits["RCPT"] += DSN_RCPT_ROOM

        async def _take(self, arg: str | None,
                        keys: tuple[str, ...]) -> tuple[str | None, dict[str, str]] | None:
            """``arg`` without the DSN parameters ``keys``, and those; None
            when they are wrong (the 501 is sent). After HELO nothing is
            taken: aiosmtpd refuses every parameter there."""
            if arg is None or self.session is None or not self.session.extended_smtp:
                return arg, {}
            try:
                return _dsn_params(arg, keys)
            except ValueError as exc:
                await self.push(f"501 5.5.4 {exc}")
                return None

        async def smtp_MAIL(self, arg: str | None) -> None:
            if (taken := await self._take(arg, ("RET", "ENVID"))) is None:
                return
            arg, require_tls = _take_requiretls(taken[0]) if self.session is not None \
                and self.session.extended_smtp else (taken[0], False)
            if require_tls and self.session is not None and self.session.ssl is None:
                # RFC 8689 2: REQUIRETLS only in a TLS session; it is not offered here.
                await self.push("555 5.5.4 REQUIRETLS is offered only over TLS")
                return
            await super().smtp_MAIL(arg)
            if self.envelope is not None and self.envelope.mail_from:
                # The envelope is aiosmtpd's, made anew for each transaction.
                if taken[1]:
                    setattr(self.envelope, "dsn_mail", taken[1])  # noqa: B010
                if require_tls:
                    setattr(self.envelope, "requiretls", True)  # noqa: B010

        async def smtp_RCPT(self, arg: str | None) -> None:
            if (taken := await self._take(arg, ("NOTIFY", "ORCPT"))) is None:
                return
            env = self.envelope
            before = len(env.rcpt_tos) if env is not None else 0
            await super().smtp_RCPT(taken[0])
            if taken[1] and env is not None and len(env.rcpt_tos) > before:
                if not hasattr(env, "dsn_rcpt"):
                    setattr(env, "dsn_rcpt", {})  # noqa: B010
                getattr(env, "dsn_rcpt")[env.rcpt_tos[-1]] = taken[1]  # noqa: B009

    if lmtp:
        @syntax("LHLO hostname")
        async def smtp_LHLO(self: Any, arg: str | None) -> None:
            await self._hello(arg)
        _SMTP.smtp_LHLO = smtp_LHLO
    return _SMTP


def _take_requiretls(arg: str | None) -> tuple[str | None, bool]:
    """MAIL's argument without a REQUIRETLS parameter (RFC 8689 2: it has no
    value), and whether there was one."""
    if arg is None:
        return None, False
    words = arg.split(" ")
    kept = [w for w in words if w.upper() != "REQUIRETLS"]
    return " ".join(kept), len(kept) != len(words)


def _received_dsn(envelope: Any) -> ReceivedDSN | None:
    mail: dict[str, str] = getattr(envelope, "dsn_mail", {})
    rcpts: dict[Any, dict[str, str]] = getattr(envelope, "dsn_rcpt", {})
    if not mail and not rcpts:
        return None

    def name(r: Any) -> str:
        return r if isinstance(r, str) else bytes(r).decode()
    return ReceivedDSN(
        ret=mail["RET"].upper() if "RET" in mail else None,
        envid=unxtext(mail["ENVID"]) if "ENVID" in mail else None,
        notify={name(r): tuple(p["NOTIFY"].upper().split(",")) for r, p in rcpts.items()
                if "NOTIFY" in p},
        orcpt={name(r): unxtext(p["ORCPT"]) for r, p in rcpts.items() if "ORCPT" in p})


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class _Maildir:
    """Minimal Maildir writer: tmp/, then an atomic rename into new/."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("tmp", "new", "cur"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        self._n = 0
        self._lock = threading.Lock()

    def store(self, data: bytes) -> Path:
        with self._lock:
            self._n += 1
            name = f"{time.time():.6f}.{os.getpid()}_{self._n}.mailfmt"
        tmp = self.root / "tmp" / name
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        final = self.root / "new" / name
        os.replace(tmp, final)
        return final


class Sink:
    """The sink server. ``start()``/``stop()`` or use it as a context manager.

    >>> with Sink() as sink:                     # doctest: +SKIP
    ...     smtplib.SMTP(sink.host, sink.port).sendmail(...)
    ...     sink.messages[0].report.ok
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *,
                 maildir: str | os.PathLike[str] | None = None, strict: bool = False,
                 tls_context: ssl.SSLContext | None = None,
                 auth: tuple[str, str] | None = None, allow_remote: bool = False,
                 on_message: Callable[[ReceivedMessage], None] | None = None,
                 lmtp: bool = False) -> None:
        if not allow_remote and not is_loopback(host):
            raise SinkError(f"refusing to listen on {host}, which is not a loopback address "
                            "(the sink accepts mail from anyone who can reach it); "
                            "pass allow_remote=True / --allow-remote to do it anyway")
        self.host = host
        self.port = port or free_port(host)
        # A temporary Maildir outlives the sink (no message is lost on exit);
        # cleanup() removes it when the caller is done with it.
        self._owns_maildir = maildir is None
        if maildir is None:
            maildir = tempfile.mkdtemp(prefix="mailfmt-sink-")
        self.maildir = Path(maildir)
        self._store = _Maildir(self.maildir)
        self.strict = strict
        self._tls = tls_context
        self._auth = auth
        self._on_message = on_message
        #: LMTP (RFC 2033) in place of SMTP: LHLO, and a reply per recipient
        self.lmtp = lmtp
        self.messages: list[ReceivedMessage] = []
        self._lock = threading.Lock()
        self._controller: Any = None

    # aiosmtpd handler hook
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content or b""
        if self.strict and _BARE_LF.search(raw):
            # What Postfix's smtpd_forbid_bare_newline = reject answers.
            return self._answer(envelope, "550 5.5.2 bare <LF> received (mailfmt sink --strict)")
        path = self._store.store(raw)
        rcpts = [r if isinstance(r, str) else r.decode() for r in envelope.rcpt_tos]
        mail_from = envelope.mail_from if isinstance(envelope.mail_from, str) \
            else (envelope.mail_from or b"").decode()
        # With SMTPUTF8 in the envelope, UTF-8 header fields are legitimate.
        utf8 = any(str(o).upper() == "SMTPUTF8" for o in (envelope.mail_options or ()))
        report = lint(raw, LintConfig(utf8=True) if utf8 else None, path=str(path))
        received = ReceivedMessage(raw, mail_from, rcpts, report, path,
                                   dsn=_received_dsn(envelope),
                                   requiretls=getattr(envelope, "requiretls", False))
        with self._lock:
            self.messages.append(received)
        if self._on_message is not None:
            self._on_message(received)
        return self._answer(envelope, "250 2.0.0 OK: stored by mailfmt sink")

    def _answer(self, envelope: Any, reply: str) -> str:
        """The reply to the end of data; in LMTP one per recipient, in the
        order of their RCPTs (RFC 2033 4.2), each naming its recipient."""
        if not self.lmtp:
            return reply
        return "\r\n".join(f"{reply} <{r if isinstance(r, str) else r.decode()}>"
                            for r in envelope.rcpt_tos)

    # aiosmtpd handler hook: the EHLO reply lines, DSN among them
    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        # RFC 8689 2: REQUIRETLS is offered only in a session under TLS.
        extra = ["250-DSN", "250-REQUIRETLS"] if session.ssl is not None else ["250-DSN"]
        return [*responses[:-1], *extra, responses[-1]]

    def _authenticator(self) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        assert self._auth is not None
        user, password = self._auth[0].encode(), self._auth[1].encode()

        def check(server: Any, session: Any, envelope: Any, mechanism: str,
                  data: Any) -> Any:
            ok = isinstance(data, LoginPassword) and data.login == user \
                and data.password == password
            return AuthResult(success=ok, handled=False)
        return check

    def start(self) -> Sink:
        try:
            from aiosmtpd.controller import Controller
        except ImportError:
            raise SinkError("mailfmt sink needs aiosmtpd: pip install 'mailfmt[sink]'") from None
        kwargs: dict[str, Any] = {"hostname": self.host, "port": self.port,
                                  "decode_data": False, "data_size_limit": 0}
        if self._tls is not None:
            kwargs["tls_context"] = self._tls
        if self._auth is not None:
            kwargs.update(authenticator=self._authenticator(), auth_required=True,
                          auth_require_tls=self._tls is not None)
        server_class = _smtp_with_dsn(self.lmtp)

        class _Controller(Controller):
            def factory(self) -> Any:
                return server_class(self.handler, **self.SMTP_kwargs)
        self._controller = _Controller(self, **kwargs)
        try:
            self._controller.start()
        except (OSError, RuntimeError) as exc:
            raise SinkError(f"cannot listen on {self.host}:{self.port}: {exc}") from None
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def cleanup(self) -> None:
        """Stop, and remove the Maildir if the sink made it (a temporary one)."""
        self.stop()
        if self._owns_maildir:
            shutil.rmtree(self.maildir, ignore_errors=True)
            self._owns_maildir = False

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def assert_clean(self, *, strict: bool = False) -> None:
        """Raise AssertionError listing every violation (errors; warnings too if strict)."""
        from .lint.render.text import render_text

        bad = [m for m in self.messages
               if (not m.report.ok) or (strict and m.report.violations)]
        if bad:
            raise AssertionError(f"{len(bad)} of {len(self.messages)} message(s) break the "
                                 "rules:\n" + render_text([m.report for m in bad]))


def print_message(received: ReceivedMessage, *, as_json: bool) -> None:
    from .lint.render.text import render_text

    if as_json:
        print(json.dumps(received.as_json(), sort_keys=True), flush=True)
        return
    print(received.summary(), flush=True)
    text = render_text([received.report])
    if text:
        print("  " + text.rstrip("\n").replace("\n", "\n  "), flush=True)
