"""Build every bundled example, print its bytes and a summary.

Run with ``./dev demo``. The summary checks each message the way a receiver
would: line lengths, line endings, the stdlib parser's defects, and our own
strict parser reading it back to an equal message.
"""

from __future__ import annotations

import email
import email.policy
import importlib
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mailfmt import Message

EXAMPLES = ["welcome", "invoice", "inline_image", "utf8_headers"]


def summarize(name: str, msg: Message, raw: bytes) -> list[str]:
    lines = raw.split(b"\r\n")
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    std = email.message_from_bytes(raw, policy=email.policy.default)
    defects = len(std.defects) + sum(len(p.defects) for p in std.walk())
    parts = [p.get_content_type() for p in std.walk()]
    ctes = sorted({m.decode() for m in re.findall(rb"Content-Transfer-Encoding: (\S+)", raw)})
    again = Message.from_bytes(raw, policy=msg.policy)
    checks = {
        "CRLF only": not re.search(rb"\r(?!\n)|(?<!\r)\n", raw),
        **({"UTF-8 headers (RFC 6532), valid UTF-8": _is_utf8(raw)} if msg.policy.utf8
           else {"ASCII only": raw.isascii()}),
        "lines <= 998": max(map(len, lines)) <= 998,
        "header lines <= 78": max(map(len, head)) <= 78,
        "stdlib defects": defects == 0,
        "round trip": again == msg.model_copy(update={"bcc": []}),
    }
    out = [
        f"== {name}: {len(raw)} bytes, {len(lines)} lines, longest {max(map(len, lines))}, "
        f"header longest {max(map(len, head))}",
        f"   parts: {', '.join(parts)}",
        f"   transfer encodings: {', '.join(ctes)}",
        f"   envelope: MAIL FROM:<{msg.envelope.mail_from}> "
        f"RCPT TO: {', '.join(msg.envelope.rcpt_to)}",
    ]
    for label, ok in checks.items():
        out.append(f"   [{'ok' if ok else '--'}] {label}")
    return out


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def main() -> int:
    failed = 0
    for name in EXAMPLES:
        msg = importlib.import_module(name).build()
        raw = msg.to_bytes()
        print(f"----- {name}.py " + "-" * 50)
        text = raw.decode("utf-8")
        print(text if len(text) < 3000 else text[:1500] + "\n[...]\n" + text[-600:])
        report = summarize(name, msg, raw)
        print("\n".join(report), end="\n\n")
        failed += sum(1 for line in report if line.lstrip().startswith("[--]"))
    print(f"{len(EXAMPLES)} examples built, {failed} checks failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
