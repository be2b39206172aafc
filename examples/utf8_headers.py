"""RFC 6532: UTF-8 in headers and an internationalized mailbox (needs SMTPUTF8 to send)."""

from datetime import datetime, timezone

from mailfmt import Message, Policy


def build() -> Message:
    return Message(
        policy=Policy(utf8=True),
        from_="用户 <用户@例子.example.com>",
        to="Zoë <zoë@example.org>",
        subject="こんにちは — UTF-8 headers, no encoded words",
        date=datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc),
        message_id="<utf8-0001@example.com>",
        text="Grüße! 你好!\n",
    )
