"""Coverage-guided fuzzing of the linter, the fixer and the strict parser.

    pip install atheris
    python fuzz/fuzz_lint.py -max_total_time=600 fuzz/corpus tests/lint/fixtures

Oracles: lint and fix never raise; fix is idempotent; Message.from_bytes
raises nothing but ParseError, and what it accepts it writes and reads back
equal.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from mailfmt import Message, ParseError
    from mailfmt.lint import lint
    from mailfmt.lint.fix import fix


def test_one_input(data: bytes) -> None:
    report = lint(data)
    for v in report.violations:
        assert 0 <= v.offset <= len(data)
    once = fix(data)
    assert fix(once.data).data == once.data, "fix is not idempotent"
    try:
        msg = Message.from_bytes(data)
    except ParseError:
        return
    assert Message.from_bytes(msg.to_bytes()) == msg.model_copy(update={"bcc": []})


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
