"""Every public name is documented with an example (issue: docs, API reference)."""

from __future__ import annotations

import inspect

import pytest

import mailfmt
import mailfmt.errors
import mailfmt.transport
from mailfmt.lint import engine, violation

PUBLIC = [(mailfmt, n) for n in mailfmt.__all__] + \
    [(mailfmt.transport, n) for n in mailfmt.transport.__all__] + \
    [(mailfmt.errors, n) for n in ("MailfmtError", "RuleError", "ParseError", "FormatError")]


@pytest.mark.parametrize(("module", "name"), PUBLIC, ids=lambda x: getattr(x, "__name__", x))
def test_documented_with_an_example(module: object, name: str) -> None:
    obj = getattr(module, name)
    if not (inspect.isclass(obj) or inspect.isfunction(obj)):
        return
    doc = inspect.getdoc(obj) or ""
    assert doc, f"{name} has no docstring"
    assert ">>>" in doc, f"{name}'s docstring has no example"


def test_lint_api_documented() -> None:
    for obj in (engine.lint, engine.lint_file, engine.LintConfig, violation.Report,
                violation.Violation):
        assert ">>>" in (inspect.getdoc(obj) or ""), obj
