"""An invoice with a PDF attachment, an IDN recipient and a display name that needs quoting."""

from datetime import datetime, timedelta, timezone

from mailfmt import Attachment, Message


def build() -> Message:
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 200 + b"\n%%EOF\n"
    return Message(
        from_='"Billing, Example Ltd." <billing@example.com>',
        to=["accounts@exämple.de"],
        cc=["Finance Team: cfo@example.com, controller@example.com;"],
        bcc=["archive@example.com"],
        subject="Invoice 2026-0042 (due in 30 days)",
        date=datetime(2026, 11, 27, 10, 0, tzinfo=timezone(timedelta(hours=1))),
        message_id="<invoice-2026-0042@example.com>",
        text="Please find invoice 2026-0042 attached.\n" + "A long line " * 12 + "\n",
        attachments=[Attachment(filename="Rechnung 2026-0042 für Exämple GmbH.pdf",
                                content=pdf)],
    )
