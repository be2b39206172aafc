"""What a check sees: the source, the enabled rules, and where findings go."""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable
from itertools import count, islice, repeat
from typing import Any

from ..rules import Rule, get_rule
from .violation import Violation

__all__ = ["Context"]

#: Findings listed per rule and message; the rest are counted (Report.suppressed).
PER_RULE_CAP = 100


class Context:
    __slots__ = (
        "_found",
        "_line_run",
        "enabled",
        "line_length",
        "per_rule",
        "proven",
        "raw",
        "suppressed",
        "utf8",
    )

    def __init__(self, raw: bytes, enabled: frozenset[str], line_length: int, *,
                 utf8: bool = False) -> None:
        self.raw = raw
        self.utf8 = utf8
        self.enabled = enabled
        self.line_length = line_length
        #: (offset, code, sequence, rule, values, header, part): plain tuples
        #: that sort by position, then code, then the order they were found
        self._found: list[tuple[int, str, int, Rule, dict[str, Any], str | None,
                                str | None]] = []
        #: (rule, offsets, columns): findings on lines 1, 2, 3 ... in turn
        #: (see add_line_run), kept apart until violations() needs them
        self._line_run: tuple[Rule, list[int], list[int]] | None = None
        self.per_rule: dict[str, int] = {}
        self.suppressed: dict[str, int] = {}
        #: (start, end, lines, crlfs): spans shown to be nothing but lines of
        #: at most 76 octets, all ending in CRLF or all in LF (regularly
        #: wrapped base64); the line rules count their line endings without
        #: reading them again
        self.proven: list[tuple[int, int, int, int]] = []

    def unproven(self) -> list[tuple[int, int]]:
        """The spans of the message outside ``proven``, in order."""
        if not self.proven:
            return [(0, len(self.raw))]
        out = []
        pos = 0
        for start, end, _, _ in sorted(self.proven):
            if start > pos:
                out.append((pos, start))
            pos = max(pos, end)
        if pos < len(self.raw) or not out:
            out.append((pos, len(self.raw)))
        return out

    @property
    def found(self) -> bool:
        """Whether any finding was added."""
        return bool(self._found) or self._line_run is not None

    def wants(self, code: str) -> bool:
        return code in self.enabled

    def _count(self, code: str, n: int) -> int:
        """Count ``n`` findings of rule ``code``; returns how many of them
        may still be listed (the per-rule cap), and counts the rest as
        suppressed."""
        seen = self.per_rule.get(code, 0)
        self.per_rule[code] = seen + n
        room = min(n, max(0, PER_RULE_CAP - seen))
        if room < n:
            self.suppressed[code] = self.suppressed.get(code, 0) + n - room
        return room

    def add(self, rule_name: str, offset: int, /, *, header: str | None = None,
            part: str | None = None, **ctx: Any) -> None:
        rule = get_rule(rule_name)
        code = rule.code
        if code in self.enabled and self._count(code, 1):
            self._found.append((offset, code, len(self._found), rule, ctx, header, part))

    def add_each(self, rule_name: str, offsets: Iterable[int], total: int) -> None:
        """Add ``total`` findings of one rule whose offsets ``offsets`` yields,
        taking offsets only up to the per-rule cap: past it, the count is known
        without finding each one (a message with bare LF endings has one per line).
        """
        rule = get_rule(rule_name)
        if rule.code not in self.enabled or total <= 0:
            return
        code, found = rule.code, self._found
        # zip builds the finding tuples in C: there may be one per line.
        found.extend(zip(islice(offsets, self._count(code, total)), repeat(code),
                         count(len(found)), repeat(rule), repeat({}), repeat(None),
                         repeat(None)))

    def add_line_run(self, rule_name: str, offsets: Iterable[int], columns: Iterable[int],
                     total: int) -> None:
        """Add ``total`` findings of one rule, the first on line 1 and each
        next one on the next line, at the offsets and (1-based) columns
        given: a bare LF ending every line is that. Their line numbers are
        known, so a message with only these findings gets its violations
        made without counting lines (see violations)."""
        rule = get_rule(rule_name)
        if rule.code not in self.enabled or total <= 0:
            return
        assert self._line_run is None, "one run of line findings per message"
        room = self._count(rule.code, total)
        self._line_run = (rule, list(islice(offsets, room)), list(islice(columns, room)))

    def violations(self) -> list[Violation]:
        """The findings as violations, by position (and code at one position).

        Line and column come from counting LFs (in C) between one finding
        and the next: one pass up to the last finding, whatever their number.
        Lines end at LF (a bare CR does not start one), as editors and
        ``grep -n`` count them.
        """
        if self._line_run is not None:
            rule, offsets, columns = self._line_run
            split = _line_only(rule.template)
            if not self._found and split is not None:
                # Nothing else to place among them: made in C, but for the text.
                before, after = split
                lines = range(1, len(offsets) + 1)
                messages = [f"{before}{n}{after}" for n in lines]
                return list(map(tuple.__new__, repeat(Violation), zip(
                    repeat(rule), offsets, lines, columns, messages, repeat(None),
                    repeat(None))))
            found = self._found
            found.extend(zip(offsets, repeat(rule.code), count(len(found)), repeat(rule),
                             repeat({}), repeat(None), repeat(None)))
            self._line_run = None
        raw = self.raw
        count_lf, rfind = raw.count, raw.rfind
        line, line_start, prev = 1, 0, 0
        new = tuple.__new__
        out: list[Violation] = []
        append = out.append
        # (before, after) of each rule's message when it only names the line,
        # else None (see _line_only): looked up once per rule, not per finding.
        splits: dict[str, tuple[str, str] | None] = {}
        for offset, code, _, rule, ctx, header, part in sorted(self._found):
            if offset > prev:
                k = count_lf(b"\n", prev, offset)
                if k:
                    line += k
                    # One LF, at the last finding (a bare LF on every line):
                    # the line starts after it, no search needed.
                    line_start = prev + 1 if k == 1 and raw[prev] == 0x0A \
                        else rfind(b"\n", prev, offset) + 1
                prev = offset
            if code in splits:
                split = splits[code]
            else:
                split = splits[code] = _line_only(rule.template)
            if split is not None and not ctx:
                message = f"{split[0]}{line}{split[1]}"
            else:
                # The finding's own values win over these defaults.
                values = {"line": line, "field": header or "the message", "part": part or "1"}
                values.update(ctx)
                try:
                    message = rule.template.format_map(values)
                except (KeyError, IndexError):  # pragma: no cover - guarded by tests
                    message = rule.what
            # tuple.__new__ skips the named tuple's keyword-handling __new__.
            append(new(Violation, (rule, offset, line, offset - line_start + 1, message,
                                   header, part)))
        return out


@functools.cache
def _line_only(template: str) -> tuple[str, str] | None:
    """(before, after) when ``{line}`` is the template's one field: the
    message of a bare LF on every line is then two concatenations."""
    parts = list(string.Formatter().parse(template))
    at = [i for i, (_, name, _, _) in enumerate(parts) if name is not None]
    if len(at) != 1 or parts[at[0]][1:] != ("line", "", None):
        return None
    # parse() gives the literal text with its braces unescaped.
    i = at[0]
    return "".join(p[0] for p in parts[:i + 1]), "".join(p[0] for p in parts[i + 1:])
