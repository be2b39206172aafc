"""A transactional welcome mail: plain text plus HTML, with a non-ASCII subject."""

from datetime import datetime, timezone

from mailfmt import Address, Message


def build() -> Message:
    return Message(
        from_=Address(display_name="Example Shop", addr_spec="hello@example.com"),
        to=[Address(display_name="Zoë Müller", addr_spec="zoe@example.org")],
        reply_to="Support <support@example.com>",
        subject="Willkommen, Zoë! Grüße aus Köln",
        date=datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc),
        message_id="<welcome-0001@example.com>",
        text="Hallo Zoë,\n\nwillkommen bei Example Shop.\n\n-- \nExample Shop\n",
        html="<p>Hallo Zoë,</p>\n<p>willkommen bei <b>Example Shop</b>.</p>\n",
        headers=[("X-Campaign", "onboarding")],
    )
