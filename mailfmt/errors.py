"""The exception tree.

Model validation raises ``pydantic.ValidationError`` whose error ``type`` is a
rule name from :mod:`mailfmt.rules`. Everything else mailfmt raises is below::

    MailfmtError
    └── RuleError (also ValueError)     a rule from the catalogue was broken
        ├── ParseError                  Message.from_bytes: the input is not a
        │                               message mailfmt can represent exactly
        └── FormatError                 the formatter's final output check
                                        failed (a bug guard: never expected)

``RuleError`` subclasses ``ValueError`` (as email-validator's errors do) so it
works inside pydantic validators and with code that catches ``ValueError``.
"""

from __future__ import annotations

from typing import Any

from .rules import Rule, get_rule

__all__ = ["FormatError", "MailfmtError", "ParseError", "RuleError"]


class MailfmtError(Exception):
    """Base class of every exception mailfmt raises on purpose."""


class RuleError(MailfmtError, ValueError):
    """A rule was broken. ``rule``, ``ctx`` and the location say which and where."""

    def __init__(
        self,
        rule: Rule | str,
        *,
        line: int | None = None,
        offset: int | None = None,
        field: str | None = None,
        **ctx: Any,
    ) -> None:
        self.rule = rule if isinstance(rule, Rule) else get_rule(rule)
        if field is not None:
            ctx.setdefault("field", field)
        self.ctx = dict(ctx)
        self.line = line
        self.offset = offset
        self.field = field
        try:
            self.message = self.rule.format(**ctx)
        except (KeyError, IndexError, ValueError):
            self.message = self.rule.what
        where = []
        if field is not None:
            where.append(f"field {field}")
        if line is not None:
            where.append(f"line {line}")
        if offset is not None:
            where.append(f"offset {offset}")
        suffix = f" ({', '.join(where)})" if where else ""
        super().__init__(f"{self.rule.code} {self.rule.name}: {self.message}{suffix}")

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def name(self) -> str:
        return self.rule.name


class ParseError(RuleError):
    """``Message.from_bytes`` refused the input."""


class FormatError(RuleError):
    """The formatter produced output that breaks a rule; never expected."""
