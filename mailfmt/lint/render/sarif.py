"""SARIF 2.1.0 output, for code-scanning dashboards (GitHub, Azure DevOps)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ... import __version__
from ...rules import RULES, Severity
from ..violation import Report

__all__ = ["render_sarif"]

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render_sarif(reports: Sequence[Report]) -> str:
    lint_rules = [r for r in RULES if r.lint]
    index = {r.code: i for i, r in enumerate(lint_rules)}
    results: list[dict[str, Any]] = []
    for rep in reports:
        for v in rep.violations:
            results.append({
                "ruleId": v.code,
                "ruleIndex": index[v.code],
                "level": _LEVEL[v.severity],
                "message": {"text": v.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": rep.path or "stdin"},
                    "region": {"startLine": v.line, "startColumn": v.column,
                               "byteOffset": v.offset},
                }}],
            })
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mailfmt",
                "version": __version__,
                "informationUri": "https://pypi.org/project/mailfmt/",
                "rules": [{
                    "id": r.code,
                    "name": r.name,
                    "shortDescription": {"text": r.what},
                    "fullDescription": {"text": r.why},
                    "help": {"text": f"{r.fix} ({r.rfc})"},
                    "defaultConfiguration": {"level": _LEVEL[r.severity]},
                } for r in lint_rules],
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
