"""Findings and the report that holds them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..rules import Rule, Severity

__all__ = ["Report", "Violation"]


class Violation(NamedTuple):
    """One finding: which rule, where (in octets), and what exactly.

    ``line`` and ``column`` are 1-based and count octets; ``offset`` is the
    0-based byte offset. ``header`` names the field the finding is in, ``part``
    the MIME part path ("1.2") when it is inside a body part.

    >>> from mailfmt.lint import lint
    >>> v = lint(b"From: a@example.com\\r\\nSubject: x\\x00\\r\\n\\r\\n").violations[-1]
    >>> v.code, v.name, v.line, v.column, v.offset
    ('S104', 'nul-byte', 2, 11, 31)

    A named tuple, so immutable, and cheap to make: a message with a defect
    on every line has a hundred of them.
    """

    rule: Rule
    offset: int
    line: int
    column: int
    message: str
    header: str | None = None
    part: str | None = None

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "severity": self.severity.value,
                "line": self.line, "column": self.column, "offset": self.offset,
                "header": self.header, "part": self.part, "message": self.message}


@dataclass(frozen=True, slots=True)
class Report:
    """What ``lint`` found in one message, sorted by position.

    >>> from mailfmt.lint import lint
    >>> r = lint(b"Subject: hi\\r\\n\\r\\nbody\\r\\n")
    >>> r.ok, sorted(r.counts())
    (False, ['H201', 'H202', 'H208'])
    """

    violations: tuple[Violation, ...]
    path: str | None = None
    size: int = 0
    #: findings past the per-rule cap, counted but not listed, by code
    suppressed: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no error-severity rule was broken."""
        return not any(v.severity is Severity.ERROR for v in self.violations)

    def worst(self) -> Severity | None:
        for sev in (Severity.ERROR, Severity.WARNING, Severity.INFO):
            if any(v.severity is sev for v in self.violations):
                return sev
        return None

    def counts(self) -> Counter[str]:
        """Findings per rule code, the suppressed ones included."""
        c = Counter(v.code for v in self.violations)
        c.update(self.suppressed)
        return c
