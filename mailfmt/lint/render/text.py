"""``file:line:col: CODE name message``, one finding a line, as compilers do."""

from __future__ import annotations

from collections.abc import Sequence

from ..violation import Report

__all__ = ["render_text"]


def render_text(reports: Sequence[Report]) -> str:
    out = []
    for r in reports:
        name = r.path or "-"
        for v in r.violations:
            where = f" [{v.header}]" if v.header else ""
            part = f" (part {v.part})" if v.part else ""
            out.append(f"{name}:{v.line}:{v.column}: {v.code} {v.name} "
                       f"{v.severity.value}{where}{part}: {v.message}")
        for code, n in sorted(r.suppressed.items()):
            out.append(f"{name}: {code}: {n} more not shown")
    return "\n".join(out) + ("\n" if out else "")
