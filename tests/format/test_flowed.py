"""RFC 3676 format=flowed, read into the lines it means."""

from __future__ import annotations

import pytest

from mailfmt import Message
from mailfmt.format.flowed import unflow


@pytest.mark.parametrize(("flowed", "delsp", "read"), [
    # 4.2: a line ending in a space flows into the next
    ("a paragraph \r\nwrapped \r\nhere.\r\nnext\r\n", False,
     "a paragraph wrapped here.\r\nnext\r\n"),
    # 4.4: a leading space is stuffing
    ("  indented \r\n From here\r\n", False, " indented From here\r\n"),
    # 4.5: quote depth; a flowed line before a change of depth is fixed
    ("> one \r\n> two\r\n>> deeper \r\nplain\r\n", False,
     "> one two\r\n>> deeper \r\nplain\r\n"),
    # 4.3: the signature separator never flows
    ("text\r\n-- \r\nsig\r\n", False, "text\r\n-- \r\nsig\r\n"),
    # RFC 3676 4.2 with DelSp=yes: the space that marked the flow is deleted
    ("Donau\u00addampf \r\nschiff\r\n", True, "Donau\u00addampfschiff\r\n"),
    # the last line flowing into nothing
    ("end \r\n", False, "end \r\n"),
    ("no final break", False, "no final break"),
])
def test_unflow(flowed: str, delsp: bool, read: str) -> None:
    assert unflow(flowed, delsp=delsp) == read


def test_a_flowed_body_is_read_as_its_paragraphs() -> None:
    raw = (b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii; format=flowed\r\n"
           b"\r\nThis is one long paragraph that a mail client wrapped at its \r\n"
           b"usual width.\r\n> and a quoted \r\n> one\r\n")
    msg = Message.from_bytes(raw)
    assert msg.text == ("This is one long paragraph that a mail client wrapped at its "
                        "usual width.\r\n> and a quoted one\r\n")
    # written back as plain text (no format=flowed), read back the same
    again = msg.to_bytes()
    assert b"format=flowed" not in again
    assert Message.from_bytes(again) == msg
