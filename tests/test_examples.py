"""The README's main job: every bundled example builds and passes its checks."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_build_all_examples() -> None:
    res = subprocess.run([sys.executable, str(ROOT / "examples" / "build_all.py")],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "4 examples built, 0 checks failed" in res.stdout
    assert "[--]" not in res.stdout


def test_readme_quick_start_matches_ci() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    quick = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = [line.strip() for line in quick.splitlines() if line.startswith("./dev")]
    assert commands == ["./dev demo", "./dev test"]
    assert "\n./dev demo\n./dev test\n" in ci


def test_demo_sends_every_example_to_the_sink() -> None:
    res = subprocess.run([sys.executable, "-m", "mailfmt.cli", "demo", "--examples",
                          str(ROOT / "examples")], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "4 examples sent to 4 mailbox deliveries, 0 problems" in res.stdout
    assert res.stdout.count("byte-exact: True, lint: clean") == 4
    assert "C: MAIL FROM:<hello@example.com>" in res.stdout
