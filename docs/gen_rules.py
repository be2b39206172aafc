"""Write the rule pages, docs/rules/index.md and docs/rules/CODE.md, from
mailfmt/rules.py. A test keeps them in sync; run after changing a rule:

    python docs/gen_rules.py
"""

from __future__ import annotations

from pathlib import Path

from mailfmt.rules import RULES, Rule

HERE = Path(__file__).with_name("rules")


def page(r: Rule) -> str:
    lint = "Reported by `mailfmt lint`." if r.lint else "Checked when a message is built."
    return "\n".join([
        f"# {r.code} `{r.name}`", "",
        f"Severity **{r.severity.value}** · {r.rfc} · {lint}", "",
        f"Message: `{r.template}`", "",
        "## What it checks", "", r.what, "",
        "## Why it matters", "", r.why, "",
        "## Example", "", "```text", r.example, "```", "",
        "## How to fix", "", r.fix, "",
        f"`mailfmt rule {r.code}` prints this page.", "",
    ])


def index() -> str:
    out = ["# Rule catalogue", "",
           "Generated from `mailfmt/rules.py` by `docs/gen_rules.py`; do not edit by hand.",
           "Every model validation error has one of these names as its pydantic error `type`;",
           "`mailfmt lint` reports the ones marked lint.", "",
           "| code | name | severity | RFC | lint |", "|---|---|---|---|---|"]
    out += [f"| [{r.code}]({r.code}.md) | `{r.name}` | {r.severity.value} | {r.rfc} | "
            f"{'yes' if r.lint else ''} |" for r in RULES]
    return "\n".join(out) + "\n"


def render() -> dict[str, str]:
    files = {"index.md": index()}
    files.update({f"{r.code}.md": page(r) for r in RULES})
    return files


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    for stale in HERE.glob("*.md"):
        stale.unlink()
    for name, text in render().items():
        (HERE / name).write_text(text, encoding="utf-8")
