"""JSON output, schema version 1 (documented in docs/guides/lint.md)::

    {"version": 1, "files": [{"path": str, "size": int, "ok": bool,
      "violations": [{"code", "name", "severity", "line", "column", "offset",
                      "header", "part", "message"}],
      "suppressed": {code: count}}]}

Keys are sorted; positions count octets (line and column 1-based, offset 0-based).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..violation import Report

__all__ = ["JSON_SCHEMA", "render_json"]


def render_json(reports: Sequence[Report]) -> str:
    doc = {"version": 1, "files": [{
        "path": r.path or "-", "size": r.size, "ok": r.ok,
        "violations": [v.as_dict() for v in r.violations],
        "suppressed": dict(sorted(r.suppressed.items())),
    } for r in reports]}
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


_NULLABLE_STR: dict[str, Any] = {"type": ["string", "null"]}

#: The JSON Schema of the output (draft 2020-12).
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "files"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "files": {"type": "array", "items": {
            "type": "object",
            "required": ["path", "size", "ok", "violations", "suppressed"],
            "additionalProperties": False,
            "properties": {
                "path": {"type": "string"},
                "size": {"type": "integer", "minimum": 0},
                "ok": {"type": "boolean"},
                "suppressed": {"type": "object",
                               "additionalProperties": {"type": "integer", "minimum": 1}},
                "violations": {"type": "array", "items": {
                    "type": "object",
                    "required": ["code", "name", "severity", "line", "column", "offset",
                                 "header", "part", "message"],
                    "additionalProperties": False,
                    "properties": {
                        "code": {"type": "string", "pattern": "^[HAMES][0-9]{3}$"},
                        "name": {"type": "string"},
                        "severity": {"enum": ["error", "warning", "info"]},
                        "line": {"type": "integer", "minimum": 1},
                        "column": {"type": "integer", "minimum": 1},
                        "offset": {"type": "integer", "minimum": 0},
                        "header": _NULLABLE_STR,
                        "part": _NULLABLE_STR,
                        "message": {"type": "string"},
                    },
                }},
            },
        }},
    },
}
