import json
import subprocess
import sys

from mailfmt import RULES, get_rule
from mailfmt.cli import rule_doc


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailfmt.cli", *args],
                          capture_output=True, text=True, check=False)


def test_rule_by_code_and_name() -> None:
    by_code = run("rule", "H103")
    by_name = run("rule", "line-break-in-value")
    assert by_code.returncode == 0
    assert by_code.stdout == by_name.stdout
    assert by_code.stdout == rule_doc(get_rule("H103")) + "\n"
    assert "RFC 5322 2.2" in by_code.stdout
    assert "How to fix" in by_code.stdout


def test_rule_json_and_list() -> None:
    doc = json.loads(run("rule", "S101", "--format", "json").stdout)
    assert doc["name"] == "line-too-long"
    assert doc["severity"] == "error"
    listing = run("rule", "--all").stdout.splitlines()
    assert len(listing) == len(RULES)
    assert len(json.loads(run("rule", "--all", "--format", "json").stdout)) == len(RULES)


def test_unknown_rule_is_a_usage_error_without_traceback() -> None:
    res = run("rule", "Z999")
    assert res.returncode == 2
    assert "no rule 'Z999'" in res.stderr
    assert "Traceback" not in res.stderr
    assert run("rule").returncode == 2
