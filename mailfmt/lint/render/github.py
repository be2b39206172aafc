"""GitHub Actions workflow commands: one annotation per finding."""

from __future__ import annotations

from collections.abc import Sequence

from ...rules import Severity
from ..violation import Report

__all__ = ["render_github"]

_KIND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def render_github(reports: Sequence[Report]) -> str:
    out = []
    for r in reports:
        for v in r.violations:
            out.append(f"::{_KIND[v.severity]} title={_escape_prop(f'{v.code} {v.name}')},"
                       f"file={_escape_prop(r.path or 'stdin')},line={v.line},col={v.column}"
                       f"::{_escape_data(v.message)}")
    return "\n".join(out) + ("\n" if out else "")
