"""Value checks shared by every model field that reaches the wire."""

from __future__ import annotations

import re

from .._grammar import FORBIDDEN_IN_VALUE, LINE_BREAKS
from ..rules import rule_error

__all__ = ["check_surrogates", "check_text"]

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
