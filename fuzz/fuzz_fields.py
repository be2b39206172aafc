"""Coverage-guided fuzzing of the header field readers: a message of a few
fields, each a name from the ones the checks read with a grammar of their
own (addresses, dates, msg-ids, MIME parameters, encoded words) and any
value.

    pip install atheris
    python fuzz/fuzz_fields.py -max_total_time=600 fuzz/corpus-fields

Oracles: lint with the plain-section proofs finds exactly what the full
checks find (tests/lint/test_plain.py, which runs it on fixtures and under
hypothesis); Message.from_bytes raises nothing but ParseError, and what it
accepts lints without an error and writes out and reads back equal (but
for Bcc and Resent-Bcc, which are never written).
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports():
    from mailfmt import Message, ParseError
    from mailfmt.lint import lint
    from tests.lint.test_plain import _same

_NAMES = [b"From", b"Sender", b"To", b"Cc", b"Bcc", b"Reply-To", b"Date", b"Message-ID",
          b"In-Reply-To", b"References", b"Subject", b"Comments", b"Keywords", b"X-Tag",
          b"MIME-Version", b"Content-Type", b"Content-Transfer-Encoding",
          b"Content-Disposition", b"Content-ID", b"Resent-From", b"Resent-Date", b"to",
          b"DATE", b"content-type", b"Resent-Sender", b"Resent-To", b"Resent-Cc",
          b"Resent-Bcc", b"Resent-Message-ID", b"Disposition-Notification-To",
          b"Mail-Followup-To"]
_BASE = b"From: a@example.com\r\nDate: Fri, 27 Nov 2026 12:33:28 +0000\r\n"
_BODIES = [b"hi\r\n", b"", b"caf\xc3\xa9\r\n", b"--b\r\n\r\nx\r\n--b--\r\n",
           b"aGk=\r\n", b"=41=\r\n"]


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    head = _BASE if fdp.ConsumeBool() else b""
    for _ in range(fdp.ConsumeIntInRange(1, 5)):
        name = _NAMES[fdp.ConsumeIntInRange(0, len(_NAMES) - 1)]
        value = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 160))
        head += name + b":" + value + b"\r\n"
    raw = head + b"\r\n" + _BODIES[fdp.ConsumeIntInRange(0, len(_BODIES) - 1)]
    _same(raw)
    try:
        msg = Message.from_bytes(raw)
    except ParseError:
        return
    report = lint(raw)
    assert report.ok, f"accepted with lint errors: {report.violations}"
    # Bcc and Resent-Bcc are envelope only, never written
    shown = [h for h in msg.headers if h.name.lower() != "resent-bcc"]
    assert Message.from_bytes(msg.to_bytes()) == msg.model_copy(update={"bcc": [],
                                                                        "headers": shown})


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
