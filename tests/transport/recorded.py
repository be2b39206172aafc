"""Sessions recorded from real servers (tests/vectors/smtp/*.session): what
each one sends, the file format, and the outcome written next to the wire.

A session file is the conversation as a proxy between the client and the
server saw it, one line of the wire per line of the file, ``C: `` for what
the client wrote and ``S: `` for what the server answered, the CRLF taken
off (every line on the wire ended in one: the recorder checks). Lines
before the first of those are ``#`` comments and one ``@outcome`` line:
what the client made of the session, as JSON. record.py writes the files;
test_recorded.py replays them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mailfmt import Attachment, Message, Policy
from mailfmt.errors import TransportError
from mailfmt.transport import AsyncSMTPClient, SMTPClient
from mailfmt.transport._dsn import DSN
from mailfmt.transport._results import SendResult

__all__ = ["SCENARIOS", "VECTORS", "Recording", "Scenario", "client_options", "outcome_of",
           "run_async", "run_sync"]

VECTORS = Path(__file__).parent.parent / "vectors" / "smtp"
LOCAL_HOSTNAME = "client.example.com"
USER, PASSWORD = "recorder", "not-a-secret"
_DATE = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)


def _text(n: int, **kw: Any) -> Message:
    """A plain message whose body has lines that start with dots."""
    kw.setdefault("to", ["ok1@example.org"])
    return Message(from_="alice@example.com", subject=f"recorded {n}",
                   text=".\nA line.\n..two dots\n.\nlast\n", date=_DATE,
                   message_id=f"<rec{n}@example.com>", **kw)


def _partial() -> list[Message]:
    return [_text(1, to=["ok1@example.org", "refused@example.org"],
                  cc=["busy@example.org", "ok2@example.org"], bcc=["hidden@example.net"])]


def _many() -> list[Message]:
    return [_text(2), _text(3, to=["refused@example.org"]),
            _text(4, to=["ok2@example.org", "ok3@example.net"])]


def _dsn() -> list[Message]:
    return [_text(5, to=["x+y=z@example.net", "ok1@example.org"])]


def _utf8() -> list[Message]:
    return [Message(policy=Policy(utf8=True), from_="José <josé@example.com>",
                    to=["ok1@example.org"],
                    subject="Grüße", text="Grüße aus Köln.\n", date=_DATE,
                    message_id="<rec6@example.com>")]


def _attachment() -> list[Message]:
    return [_text(7, attachments=[Attachment(filename="notes.bin", content=bytes(range(256)),
                                             content_type="application/octet-stream")])]


def _two() -> list[Message]:
    return [_text(8, to=["ok1@example.org", "ok2@example.org"])]


@dataclass(frozen=True)
class Scenario:
    """One recorded session: who served it, what the client was asked to do."""

    name: str
    #: "postfix" (.ci/postfix.sh) or "aiosmtpd" (mailfmt.sink.Sink)
    server: str
    about: str
    messages: Callable[[], list[Message]]
    many: bool = False
    allow_partial: bool = False
    dsn: DSN | None = None
    lmtp: bool = False
    auth: bool = False
    sink: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return VECTORS / f"{self.name}.session"


SCENARIOS = [
    Scenario("postfix-partial", "postfix",
             "Five recipients, one in Bcc; Postfix refuses one (550) and defers one "
             "(450); allow_partial=True: MAIL, the RCPTs and DATA in one pipelined write.",
             _partial, allow_partial=True),
    Scenario("postfix-refused", "postfix",
             "The same message without allow_partial: the refusals stop it, RSET, "
             "nothing sent.", _partial),
    Scenario("postfix-many", "postfix",
             "send_many, three messages, each envelope pipelined behind the last end "
             "of data; the second is for a refused mailbox only.", _many, many=True),
    Scenario("postfix-dsn", "postfix",
             "Delivery status notifications: RET, ENVID, NOTIFY and ORCPT in xtext.",
             _dsn, dsn=DSN(notify=("success", "failure"), ret="hdrs", envid="rec 5")),
    Scenario("postfix-smtputf8", "postfix",
             "A UTF-8 sender address and subject: SMTPUTF8 and BODY=8BITMIME.", _utf8),
    Scenario("postfix-attachment", "postfix",
             "A multipart message with a base64 attachment.", _attachment),
    Scenario("aiosmtpd-auth", "aiosmtpd",
             "aiosmtpd, which offers no PIPELINING: AUTH over loopback (allowed "
             "explicitly), then one command at a time.", _two, auth=True,
             sink={"auth": (USER, PASSWORD)}),
    Scenario("aiosmtpd-lmtp", "aiosmtpd",
             "LMTP: LHLO, and a final reply for each recipient.", _two, lmtp=True,
             sink={"lmtp": True}),
]


def _result(r: SendResult) -> list[list[Any]]:
    return [[x.address, x.status, x.code, ".".join(map(str, x.enhanced)) if x.enhanced
             else None, x.text] for x in r.recipients]


def outcome_of(item: SendResult | BaseException) -> dict[str, Any]:
    """What a send came to, as the session file keeps it."""
    if isinstance(item, SendResult):
        return {"result": _result(item)}
    assert isinstance(item, TransportError), item
    return {"error": type(item).__name__, "phase": item.phase,
            "result": None if item.result is None else _result(item.result)}


def client_options(scenario: Scenario) -> dict[str, Any]:
    """What the client is given besides host, port and timeout."""
    return {"tls": "none", "local_hostname": LOCAL_HOSTNAME, "lmtp": scenario.lmtp,
            "username": USER if scenario.auth else None,
            "password": PASSWORD if scenario.auth else None, "oauth_token": None,
            "auth_mechanism": None, "allow_insecure_auth": scenario.auth}


def run_sync(scenario: Scenario, port: int) -> list[dict[str, Any]]:
    """The scenario, with the blocking client, against 127.0.0.1:``port``."""
    with SMTPClient("127.0.0.1", port, **client_options(scenario)) as c:
        msgs = scenario.messages()
        if scenario.many:
            return [outcome_of(o) for o in c.send_many(
                msgs, allow_partial=scenario.allow_partial, dsn=scenario.dsn)]
        out = []
        for m in msgs:
            try:
                out.append(outcome_of(c.send(m, allow_partial=scenario.allow_partial,
                                             dsn=scenario.dsn)))
            except TransportError as exc:
                out.append(outcome_of(exc))
        return out


async def run_async(scenario: Scenario, port: int) -> list[dict[str, Any]]:
    """The scenario, with the asyncio client."""
    async with AsyncSMTPClient("127.0.0.1", port, **client_options(scenario)) as c:
        msgs = scenario.messages()
        if scenario.many:
            return [outcome_of(o) for o in await c.send_many(
                msgs, allow_partial=scenario.allow_partial, dsn=scenario.dsn)]
        out = []
        for m in msgs:
            try:
                out.append(outcome_of(await c.send(m, allow_partial=scenario.allow_partial,
                                                   dsn=scenario.dsn)))
            except TransportError as exc:
                out.append(outcome_of(exc))
        return out


@dataclass
class Recording:
    """A session file: comments, the outcome, and the wire line by line."""

    comments: list[str]
    outcome: list[dict[str, Any]]
    lines: list[tuple[str, bytes]]

    def stream(self, side: str) -> bytes:
        """Everything one side (``"C"`` or ``"S"``) wrote, CRLFs put back."""
        return b"".join(line + b"\r\n" for who, line in self.lines if who == side)

    def dump(self) -> str:
        head = [f"# {c}" for c in self.comments]
        head.append("@outcome " + json.dumps(self.outcome, ensure_ascii=False))
        return "\n".join(head + [f"{who}: {line.decode('utf-8')}"
                                 for who, line in self.lines]) + "\n"

    @classmethod
    def load(cls, path: Path) -> Recording:
        comments: list[str] = []
        outcome: list[dict[str, Any]] | None = None
        lines: list[tuple[str, bytes]] = []
        for text in path.read_text("utf-8").split("\n")[:-1]:
            if text[:3] in ("C: ", "S: "):
                lines.append((text[0], text[3:].encode("utf-8")))
            elif lines:
                raise ValueError(f"{path.name}: a line that is not the wire: {text!r}")
            elif text.startswith("@outcome "):
                outcome = json.loads(text[len("@outcome "):])
            elif text.startswith("#"):
                comments.append(text[2:])
            else:
                raise ValueError(f"{path.name}: unknown line {text!r}")
        if outcome is None:
            raise ValueError(f"{path.name}: no @outcome line")
        return cls(comments, outcome, lines)
