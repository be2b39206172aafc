"""Output formats for lint reports: text, json, sarif, github."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..violation import Report
from .github import render_github
from .json import render_json
from .sarif import render_sarif
from .text import render_text

__all__ = ["RENDERERS", "render_github", "render_json", "render_sarif", "render_text"]

RENDERERS: dict[str, Callable[[Sequence[Report]], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "github": render_github,
}
