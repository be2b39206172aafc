"""An explicit MIME tree: HTML with an embedded image (multipart/related) and a text version."""

from datetime import datetime, timezone

from mailfmt import Attachment, HtmlPart, Message, Multipart, TextPart

PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def build() -> Message:
    return Message(
        from_="News <news@example.com>",
        to="reader@example.org",
        subject="Our logo, inline",
        date=datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc),
        message_id="<logo-0001@example.com>",
        body=Multipart(subtype="alternative", parts=[
            TextPart(content="Our logo is in the HTML version.\n"),
            Multipart(subtype="related", parts=[
                HtmlPart(content='<p>Our logo: <img src="cid:logo@example.com"></p>\n'),
                Attachment(content=PNG_1X1, filename="logo.png", disposition="inline",
                           content_id="logo@example.com"),
            ]),
        ]),
    )
