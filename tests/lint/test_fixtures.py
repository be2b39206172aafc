"""One fixture per lint rule, with its expected findings as a snapshot.

Set MAILFMT_UPDATE_SNAPSHOTS=1 to rewrite the snapshots (then review the diff).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mailfmt.lint import lint
from mailfmt.rules import RULES

FIXTURES = Path(__file__).parent / "fixtures"
LINT_RULES = [r for r in RULES if r.lint]


def findings(code: str) -> list[list[object]]:
    report = lint((FIXTURES / f"{code}.eml").read_bytes())
    return [[v.code, v.line, v.column, v.offset, v.header, v.part] for v in report.violations]


@pytest.mark.parametrize("rule", LINT_RULES, ids=lambda r: r.code)
def test_rule_fixture(rule: object) -> None:
    code = rule.code  # type: ignore[attr-defined]
    got = findings(code)
    assert any(f[0] == code for f in got), f"{code}.eml does not trigger {code}"
    snap = FIXTURES / f"{code}.json"
    if os.environ.get("MAILFMT_UPDATE_SNAPSHOTS") == "1":
        snap.write_text(json.dumps(got, indent=1) + "\n")
    assert snap.exists(), f"missing snapshot {snap.name}"
    assert got == json.loads(snap.read_text())


def test_every_fixture_is_a_lint_rule() -> None:
    codes = {r.code for r in LINT_RULES}
    files = {p.stem for p in FIXTURES.glob("*.eml")} - {"clean"}
    assert files == codes


def test_clean_fixture_is_clean() -> None:
    assert lint((FIXTURES / "clean.eml").read_bytes()).violations == ()
