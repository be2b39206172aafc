"""What a check sees: the source, the enabled rules, and where findings go."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from itertools import islice
from typing import Any

from ..rules import Rule, get_rule
from .source import Source
from .violation import Violation

__all__ = ["Context"]

#: Findings listed per rule and message; the rest are counted (Report.suppressed).
PER_RULE_CAP = 100


class Context:
    def __init__(self, raw: bytes, enabled: frozenset[str], line_length: int, *,
                 utf8: bool = False) -> None:
        self.raw = raw
        self.utf8 = utf8
        self.src = Source(raw)
        self.enabled = enabled
        self.line_length = line_length
        self._found: list[tuple[Rule, int, dict[str, Any], str | None, str | None]] = []
        self.per_rule: Counter[str] = Counter()
        self.suppressed: Counter[str] = Counter()
        #: (start, end, lines, crlfs): spans shown to be nothing but lines of
        #: at most 76 octets, all ending in CRLF or all in LF (regularly
        #: wrapped base64); the line rules count their line endings without
        #: reading them again
        self.proven: list[tuple[int, int, int, int]] = []

    def unproven(self) -> list[tuple[int, int]]:
        """The spans of the message outside ``proven``, in order."""
        out = []
        pos = 0
        for start, end, _, _ in sorted(self.proven):
            if start > pos:
                out.append((pos, start))
            pos = max(pos, end)
        if pos < len(self.raw) or not out:
            out.append((pos, len(self.raw)))
        return out

    def wants(self, code: str) -> bool:
        return code in self.enabled

    def add(self, rule_name: str, offset: int, /, *, header: str | None = None,
            part: str | None = None, **ctx: Any) -> None:
        rule = get_rule(rule_name)
        if rule.code not in self.enabled:
            return
        self.per_rule[rule.code] += 1
        if self.per_rule[rule.code] > PER_RULE_CAP:
            self.suppressed[rule.code] += 1
            return
        self._found.append((rule, offset, ctx, header, part))

    def add_each(self, rule_name: str, offsets: Iterator[int], total: int) -> None:
        """Add ``total`` findings of one rule whose offsets ``offsets`` yields,
        taking offsets only up to the per-rule cap: past it, the count is known
        without finding each one (a message with bare LF endings has one per line).
        """
        rule = get_rule(rule_name)
        if rule.code not in self.enabled or total <= 0:
            return
        room = max(0, PER_RULE_CAP - self.per_rule[rule.code])
        taken = 0
        for offset in islice(offsets, min(room, total)):
            self._found.append((rule, offset, {}, None, None))
            taken += 1
        self.per_rule[rule.code] += total
        if total > taken:
            self.suppressed[rule.code] += total - taken

    def violations(self) -> list[Violation]:
        found = sorted(self._found, key=lambda f: f[1])
        places = self.src.line_cols([f[1] for f in found])
        out = []
        for (rule, offset, ctx, header, part), (line, col) in zip(found, places, strict=True):
            # The finding's own values win over these defaults.
            values = {"line": line, "field": header or "the message", "part": part or "1"}
            if ctx:
                values.update(ctx)
            try:
                message = rule.template.format_map(values)
            except (KeyError, IndexError):  # pragma: no cover - guarded by tests
                message = rule.what
            out.append(Violation(rule, offset, line, col, message, header, part))
        out.sort(key=lambda v: (v.offset, v.code))
        return out
