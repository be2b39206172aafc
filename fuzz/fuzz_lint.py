"""Coverage-guided fuzzing of the linter, the fixer and the strict parser.

    pip install atheris
    python fuzz/fuzz_lint.py -max_total_time=600 fuzz/corpus tests/lint/fixtures

Oracles: lint and fix never raise; fix is idempotent, and on a message whose
lines all end in CRLF it brings no error the linter did not report before;
Message.from_bytes raises nothing but ParseError, what it accepts lints
without an error, and it writes that and reads it back equal. The line
scanner's C accelerator, when built, answers as its pure-Python twin does on
the whole input and on a span of it; so does the C walk of the plain-section
proof, on the input and on the input behind a plain header.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from mailfmt import Message, ParseError
    from mailfmt.lint import _scan, lint, plain
    from mailfmt.lint.fix import fix


def _same_scan(data: bytes) -> None:
    if not _scan.SPEEDUPS:
        return
    n = len(data)
    for start, end, limit in ((0, n, 78), (n // 3, n - n // 4, 5)):
        assert _scan.scan_lines(data, start, end, limit) == \
            _scan.scan_lines_py(data, start, end, limit), (start, end, limit)


_HEAD = (b"From: a@example.com\r\nDate: Fri, 27 Nov 2026 12:33:28 +0000\r\n"
         b"Message-ID: <1@example.com>\r\n")


def _same_proof(data: bytes) -> None:
    if not plain.SPEEDUPS:
        return
    for raw in (data, _HEAD + data):
        assert plain.prove_section(raw) == plain.match_section(raw)


def test_one_input(data: bytes) -> None:
    _same_scan(data)
    _same_proof(data)
    report = lint(data)
    for v in report.violations:
        assert 0 <= v.offset <= len(data)
    once = fix(data)
    assert fix(once.data).data == once.data, "fix is not idempotent"
    if not any(v.code in ("S102", "S103") for v in report.violations):
        # With every line ended by CRLF, fix keeps the lines the linter reads:
        # it must not bring an error that was not there.
        before = {v.code for v in report.violations if v.severity.value == "error"}
        new = {v.code for v in once.remaining} - before
        assert not new, f"fix brought new errors: {sorted(new)}"
    try:
        msg = Message.from_bytes(data)
    except ParseError:
        return
    assert report.ok, f"accepted with lint errors: {report.violations}"
    assert Message.from_bytes(msg.to_bytes()) == msg.model_copy(update={"bcc": []})


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
