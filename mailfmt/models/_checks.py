"""Value checks shared by every model field that reaches the wire."""

from __future__ import annotations

import re

from .._grammar import FORBIDDEN_IN_VALUE, LINE_BREAKS, MSG_ID
from .._limits import MAX_HEADER_VALUE, MAX_MSG_ID
from ..rules import rule_error

__all__ = ["check_msg_id", "check_surrogates", "check_text"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(value: str, field: str, limit: int) -> str:
    """Reject over-long values, line breaks, controls and lone surrogates.

    Rejected, never stripped: a value with a line break in it is either an
    injection attempt or pre-folded input, and both are errors.
    """
    if len(value) > limit:
        raise rule_error("header-value-too-long", field=field, length=len(value), limit=limit)
    m = FORBIDDEN_IN_VALUE.search(value)
    if m:
        ch = m.group()
        name = "line-break-in-value" if LINE_BREAKS.match(ch) else "control-character"
        raise rule_error(name, field=field, char=f"U+{ord(ch):04X}", index=m.start())
    check_surrogates(value, field)
    return value


def check_surrogates(value: str, field: str) -> None:
    if not value.isascii():
        m = _SURROGATE.search(value)
        if m:
            raise rule_error("invalid-unicode", field=field, index=m.start())


def check_msg_id(v: str, label: str) -> str:
    """One msg-id (RFC 5322 3.6.4), the angle brackets added when missing."""
    check_text(v, label, MAX_HEADER_VALUE)
    v = v.strip(" \t")
    if not v.startswith("<"):
        v = f"<{v}>"
    if len(v) > MAX_MSG_ID:
        raise rule_error("invalid-message-id", field=label, value=v[:60] + "...",
                         reason=f"it is {len(v)} characters long and cannot be folded "
                                f"(max {MAX_MSG_ID})")
    if not MSG_ID.fullmatch(v):
        raise rule_error("invalid-message-id", field=label, value=v,
                         reason="expected <id-left@id-right>")
    return v
