"""The guides' code runs: every ```python block of docs/guides/*.md, in order,
in one namespace per page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDES = Path(__file__).resolve().parent.parent / "docs" / "guides"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


@pytest.mark.parametrize("page", ["validate.md", "lint.md", "send.md"])
def test_guide_code_runs(page: str, capsys: pytest.CaptureFixture[str]) -> None:
    blocks = BLOCK.findall((GUIDES / page).read_text(encoding="utf-8"))
    assert blocks, f"no python blocks in {page}"
    namespace: dict[str, object] = {"__name__": f"docs_{page}"}
    for i, code in enumerate(blocks):
        exec(compile(code, f"{page}[block {i + 1}]", "exec"), namespace)


def test_readme_build_and_error_examples_run() -> None:
    readme = (GUIDES.parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = BLOCK.findall(readme)
    namespace: dict[str, object] = {}
    # The first two: building a message, and an error with its rule id; the
    # others need a server, a file or an application.
    for code in blocks[:2]:
        exec(compile(code, "README.md", "exec"), namespace)
    assert "msg" in namespace and "raw" in namespace
