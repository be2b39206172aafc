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


def test_lint_guide_commands_run(tmp_path: Path) -> None:
    """Every `mailfmt ...` line of the lint guide's shell blocks, on real files."""
    import os
    import shutil
    import subprocess
    import sys

    fixtures = GUIDES.parent.parent / "tests" / "lint" / "fixtures"
    (tmp_path / "mail").mkdir()
    for name in ("clean", "S102", "S106", "E101"):
        shutil.copy(fixtures / f"{name}.eml", tmp_path / "mail" / f"{name}.eml")
    shutil.copy(fixtures / "S103.eml", tmp_path / "message.eml")
    shutil.copy(fixtures / "clean.eml", tmp_path / "a.eml")
    shutil.copy(fixtures / "S102.eml", tmp_path / "b.eml")
    (tmp_path / "pyproject.toml").write_text('[tool.mailfmt]\nignore = ["S106"]\n')
    text = (GUIDES / "lint.md").read_text(encoding="utf-8")
    lines = [line.split("  #")[0].strip()
             for block in re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S)
             for line in block.splitlines() if line.startswith("mailfmt ")]
    assert len(lines) >= 9
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    for line in lines:
        res = subprocess.run(line, shell=True, cwd=tmp_path, env=env, capture_output=True,
                             text=True, check=False)
        assert res.returncode in (0, 1), (line, res.stderr)
        assert "Traceback" not in res.stderr, line
    # The fmt lines really fixed the files they were given.
    assert b"\n" not in (tmp_path / "mail" / "S102.eml").read_bytes().replace(b"\r\n", b"")
