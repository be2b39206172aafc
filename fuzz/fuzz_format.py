"""Coverage-guided fuzzing of the models and the writer.

    pip install atheris
    python fuzz/fuzz_format.py -max_total_time=600 fuzz/corpus-format

The input picks the policy, a subject, a display name, a header field's
value, a filename and the body text. Oracles: building the message raises
nothing but a ValidationError whose every error type is a rule name; a message
that builds is written as bytes with CRLF line ends only, no NUL, no line over
998 octets and (without SMTPUTF8) ASCII only; they lint without an error; the
stdlib reads them without a defect, with the same subject, name, field value,
filename and text; and Message.from_bytes reads them back equal.
"""

from __future__ import annotations

import email
import email.policy
import re
import sys

import atheris

with atheris.instrument_imports():
    from pydantic import ValidationError

    from mailfmt import Address, Attachment, Message, Policy
    from mailfmt.lint import LintConfig, lint
    from mailfmt.rules import get_rule

_BAD_WIRE = re.compile(rb"\r(?!\n)|(?<!\r)\n|\x00")


def _text(fdp: atheris.FuzzedDataProvider) -> str:
    return fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 200))


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    utf8 = fdp.ConsumeBool()
    subject, name, value, filename, text = (_text(fdp) for _ in range(5))
    try:
        msg = Message(
            from_=Address(display_name=name, addr_spec="alice@example.com"),
            to=["bob@example.org"], subject=subject, text=text,
            headers=[("X-Note", value)],
            attachments=[Attachment(filename=filename or None, content=b"%PDF-1.7\r\n")],
            policy=Policy(utf8=utf8),
        )
    except ValidationError as exc:
        for err in exc.errors():
            get_rule(err["type"])       # KeyError: an error that names no rule
        return
    raw = msg.to_bytes()
    assert not _BAD_WIRE.search(raw), "a bare CR, LF or NUL on the wire"
    assert max(map(len, raw.split(b"\r\n"))) <= 998, "a line over 998 octets"
    assert utf8 or raw.isascii(), "8-bit octets without SMTPUTF8"
    report = lint(raw, LintConfig(utf8=utf8))
    assert report.ok, [str(v) for v in report.violations if v.severity.value == "error"]
    assert Message.from_bytes(raw, policy=msg.policy) == msg
    if utf8:
        return      # the stdlib's reading of raw UTF-8 fields is not the oracle
    std = email.message_from_bytes(raw, policy=email.policy.default)
    assert all(part.defects == [] for part in std.walk()), [p.defects for p in std.walk()]
    assert str(std["Subject"]) == msg.subject
    # The models' values, which drop blanks at either end of a field's value.
    assert str(std["X-Note"]) == msg.headers[0].value
    [mailbox] = std["From"].addresses
    # CPython 3.11 keeps blanks between adjacent encoded words in a name.
    ours = msg.from_[0].display_name or ""
    assert "".join(mailbox.display_name.split()) == "".join(ours.split())
    body = std.get_body(("plain",))
    assert body is not None
    assert body.get_content() == msg.text
    [att] = list(std.iter_attachments())
    assert att.get_filename() == msg.attachments[0].filename


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
