"""Write docs/rules.md from mailfmt/rules.py (a test keeps it in sync).

    python docs/gen_rules.py
"""

from __future__ import annotations

from pathlib import Path

from mailfmt.rules import RULES


def render() -> str:
    out = ["# Rule catalogue", "",
           "Generated from `mailfmt/rules.py` by `docs/gen_rules.py`; do not edit by hand.",
           "Every model validation error has one of these names as its pydantic error `type`.",
           "`mailfmt rule CODE` prints the same text.", "",
           "| code | name | severity | RFC |", "|---|---|---|---|"]
    out += [f"| [{r.code}](#{r.code.lower()}) | `{r.name}` | {r.severity.value} | {r.rfc} |"
            for r in RULES]
    for r in RULES:
        out += ["", f"## {r.code}", "",
                f"**`{r.name}`**, severity **{r.severity.value}**, {r.rfc}.", "",
                f"Message: `{r.template}`", "",
                f"**What it checks.** {r.what}", "",
                f"**Why it matters.** {r.why}", "",
                f"**Example.** `{r.example}`", "",
                f"**How to fix.** {r.fix}"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    Path(__file__).with_name("rules.md").write_text(render(), encoding="utf-8")
