"""Build and serialize messages with mailfmt and with the stdlib, in one run.

Each iteration starts from plain inputs (strings and bytes), so mailfmt's
number includes all of its validation (addresses through email-validator,
header checks, MIME tree checks) as well as formatting. The stdlib builds an
``EmailMessage`` with ``policy.SMTP`` and calls ``as_bytes()``.

    python benchmarks/build.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from mailfmt import Attachment, Message

ATTACHMENT = os.urandom(50 * 1024)
TEXT = ("Hello Zoë,\n\nthank you for your order #12345. Your receipt is attached.\n"
        + "Line of ordinary text in the body of the message.\n" * 12)
HTML = "<html><body><p>Hello Zoë,</p>" + "<p>Line of HTML content.</p>\n" * 40 + "</body></html>"
SMALL = "Hello,\n" + "A short transactional notice, about one kilobyte in all.\n" * 16


def mailfmt_typical() -> bytes:
    return Message(
        from_="Example Shop <shop@example.com>",
        to=["Zoë Müller <zoe@example.org>"],
        subject="Your receipt for order #12345 – danke!",
        text=TEXT, html=HTML,
        attachments=[Attachment(filename="receipt.pdf", content=ATTACHMENT,
                                content_type="application/pdf")],
    ).to_bytes()


def stdlib_typical() -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "Example Shop <shop@example.com>"
    msg["To"] = "Zoë Müller <zoe@example.org>"
    msg["Subject"] = "Your receipt for order #12345 – danke!"
    msg["Date"] = format_datetime(__import__("datetime").datetime.now().astimezone())
    msg.set_content(TEXT)
    msg.add_alternative(HTML, subtype="html")
    msg.add_attachment(ATTACHMENT, maintype="application", subtype="pdf",
                       filename="receipt.pdf")
    return msg.as_bytes()


def mailfmt_small() -> bytes:
    return Message(from_="notify@example.com", to="user@example.org",
                   subject="Your code", text=SMALL).to_bytes()


def stdlib_small() -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "notify@example.com"
    msg["To"] = "user@example.org"
    msg["Subject"] = "Your code"
    msg["Date"] = format_datetime(__import__("datetime").datetime.now().astimezone())
    msg.set_content(SMALL)
    return msg.as_bytes()


def rate(fn: Callable[[], bytes], seconds: float) -> float:
    fn()  # warm caches (email-validator results, imports)
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(10):
            fn()
        n += 10
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--json", default=None, help="also write the results to this file")
    args = ap.parse_args()
    results = []
    print(f"{'case':<36}{'mailfmt/s':>12}{'stdlib/s':>12}{'ratio':>9}")
    for label, ours, theirs in [
        ("text + HTML + 50 KB attachment", mailfmt_typical, stdlib_typical),
        ("1 KB text only", mailfmt_small, stdlib_small),
    ]:
        a = rate(ours, args.seconds)
        b = rate(theirs, args.seconds)
        print(f"{label:<36}{a:>12.0f}{b:>12.0f}{a / b:>8.1f}x")
        results.append({"case": label, "unit": "messages/s",
                        "rates": {"mailfmt": a, "stdlib EmailMessage": b}})
    if args.json:
        import json

        with open(args.json, "w") as fh:
            json.dump({"benchmark": "build", "results": results}, fh, indent=1)


if __name__ == "__main__":
    main()
