"""Every exception mailfmt raises survives pickling and copying, attributes
and all: errors raised in worker processes reach the parent as they were."""

from __future__ import annotations

import copy
import pickle
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

import mailfmt.errors as errors
from mailfmt import Message
from mailfmt.lint import lint
from mailfmt.transport._events import Rcpt, Reply

_REPLY = Reply(550, ("5.1.1 no such user",), (5, 1, 1), Rcpt("bob@example.org"))
_VIOLATIONS = list(lint(b"From: a@example.com\n\nbare LF\n").violations)


def _make(cls: type[errors.MailfmtError]) -> errors.MailfmtError:
    if cls in (errors.MailfmtError, errors.ReportError):
        return cls("something failed")
    if issubclass(cls, errors.RuleError):
        return cls("line-too-long", line=3, offset=40, field="Subject",
                   where="A header", length=1200, limit=998)
    kw: dict[str, Any] = {"phase": "rcpt", "transcript": ["C: RCPT TO:<bob@example.org>",
                                                          "S: 550 5.1.1 no such user"]}
    if issubclass(cls, errors.SMTPReplyError):
        return cls("the server refused", reply=_REPLY, **kw)
    if issubclass(cls, errors.MessageRejected):
        return cls("fails lint", violations=_VIOLATIONS, **kw)
    return cls("sending failed", **kw)


_CLASSES = [getattr(errors, n) for n in errors.__all__]


@pytest.mark.parametrize("cls", _CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("how", ["pickle", "copy", "deepcopy"])
def test_round_trip_keeps_everything(cls: type[errors.MailfmtError], how: str) -> None:
    exc = _make(cls)
    back = {"pickle": lambda e: pickle.loads(pickle.dumps(e)),
            "copy": copy.copy, "deepcopy": copy.deepcopy}[how](exc)
    assert type(back) is cls
    assert str(back) == str(exc)
    assert back.args == exc.args
    assert back.__dict__ == exc.__dict__
    if isinstance(exc, errors.RuleError):
        assert isinstance(back, errors.RuleError)
        assert (back.code, back.line, back.field) == ("S101", 3, "Subject")
    if isinstance(exc, errors.SMTPReplyError):
        assert isinstance(back, errors.SMTPReplyError)
        assert (back.code, back.enhanced, back.is_permanent) == (550, (5, 1, 1), True)
        assert back.command == "RCPT TO:<bob@example.org>"


def _parse(raw: bytes) -> Message:
    return Message.from_bytes(raw)


def test_parse_error_crosses_a_process_boundary() -> None:
    with ProcessPoolExecutor(max_workers=1) as pool:
        future = pool.submit(_parse, b"From: a@example.com\n\nbare LF\n")
        with pytest.raises(errors.ParseError) as info:
            future.result()
    assert info.value.code == "S102"
    assert info.value.line == 1
