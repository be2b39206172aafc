"""``mailfmt sink``: a real SMTP server that takes every message, stores it
unchanged in a Maildir, lints it, and says what is wrong with it.

Built on aiosmtpd (``pip install mailfmt[sink]``). Listens on loopback unless
told otherwise. Every message answered with 250 is on disk first, so none is
lost on exit.
"""

from __future__ import annotations

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

from .errors import ParseError
from .lint import LintConfig, Report, lint
from .models.message import Message
from .transport._common import is_loopback

__all__ = ["ReceivedMessage", "Sink", "SinkError"]

_BARE_LF = re.compile(rb"(?<!\r)\n")


class SinkError(RuntimeError):
    """The sink cannot start (missing extra, refused bind address, port in use)."""


@dataclass
class ReceivedMessage:
    """One message the sink accepted: bytes as received, envelope, lint report."""

    raw: bytes
    mail_from: str
    rcpt_to: list[str]
    report: Report
    path: Path | None = None
    received_at: float = field(default_factory=time.time)

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
                "violations": [v.as_dict() for v in self.report.violations]}


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
                 on_message: Callable[[ReceivedMessage], None] | None = None) -> None:
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
        self.messages: list[ReceivedMessage] = []
        self._lock = threading.Lock()
        self._controller: Any = None

    # aiosmtpd handler hook
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content or b""
        if self.strict and _BARE_LF.search(raw):
            # What Postfix's smtpd_forbid_bare_newline = reject answers.
            return "550 5.5.2 bare <LF> received (mailfmt sink --strict)"
        path = self._store.store(raw)
        rcpts = [r if isinstance(r, str) else r.decode() for r in envelope.rcpt_tos]
        mail_from = envelope.mail_from if isinstance(envelope.mail_from, str) \
            else (envelope.mail_from or b"").decode()
        # With SMTPUTF8 in the envelope, UTF-8 header fields are legitimate.
        utf8 = any(str(o).upper() == "SMTPUTF8" for o in (envelope.mail_options or ()))
        report = lint(raw, LintConfig(utf8=True) if utf8 else None, path=str(path))
        received = ReceivedMessage(raw, mail_from, rcpts, report, path)
        with self._lock:
            self.messages.append(received)
        if self._on_message is not None:
            self._on_message(received)
        return "250 2.0.0 OK: stored by mailfmt sink"

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
        self._controller = Controller(self, **kwargs)
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
