"""Boundaries, determinism and streaming in bounded memory."""

from __future__ import annotations

import hashlib
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mailfmt import Attachment, Message, Policy, TextPart

FIXED = {"from_": "a@example.com", "message_id": "<fixed@example.com>",
         "date": datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)}


def first_candidate(seed: str, path: str) -> str:
    return "=_" + hashlib.sha256(f"{seed}\x00{path}\x000".encode()).hexdigest()[:32]


def test_boundary_never_occurs_in_content() -> None:
    # Put the boundary the formatter would pick first into the text itself.
    trap = first_candidate("<fixed@example.com>", "1")
    msg = Message(**FIXED, text=f"--{trap}\r\n--{trap}--\r\n",
                  attachments=[Attachment(filename="a.bin", content=b"x")])
    raw = msg.to_bytes()
    assert f'boundary="{trap}"'.encode() not in raw
    assert Message.from_bytes(raw) == msg


def test_formatting_is_deterministic() -> None:
    def build() -> bytes:
        return Message(**FIXED, to="b@example.org", subject="Grüße", text="hi",
                       html="<p>hi</p>", attachments=[Attachment(filename="a.bin",
                                                                 content=b"\x00" * 100)]
                       ).to_bytes()
    assert build() == build()


def test_boundaries_differ_between_messages() -> None:
    a = Message(from_="a@example.com", text="x", html="y").to_bytes()
    b = Message(from_="a@example.com", text="x", html="y").to_bytes()
    ba = a.split(b'boundary="', 1)[1].split(b'"', 1)[0]
    bb = b.split(b'boundary="', 1)[1].split(b'"', 1)[0]
    assert ba != bb and len(ba) <= 70


def test_large_attachment_streams_in_bounded_memory(tmp_path: Path) -> None:
    size = 32 * 1024 * 1024
    f = tmp_path / "big.bin"
    with open(f, "wb") as fh:
        block = bytes(range(256)) * 4096
        for _ in range(size // len(block)):
            fh.write(block)
    msg = Message(**FIXED, text="big file attached", attachments=[Attachment.from_path(f)])
    tracemalloc.start()
    total = 0
    digest = hashlib.sha256()
    try:
        for chunk in msg.iter_bytes():
            total += len(chunk)
            digest.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > size * 4 // 3
    # The file is 32 MiB (43 MiB as base64); memory stays a small constant.
    assert peak < 4 * 1024 * 1024, peak


@given(text=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                    max_size=300),
       utf8=st.booleans(), max_line=st.sampled_from([78, 200, 998]))
@settings(max_examples=300, deadline=None)
def test_plain_text_alone_is_written_as_its_text_part_would_be(
        text: str, utf8: bool, max_line: int) -> None:
    """A message of text alone skips making the TextPart (a shortcut in
    iter_message); its bytes are the part's to the octet."""
    policy = Policy(utf8=utf8, max_line_length=max_line)
    try:
        short = Message(**FIXED, policy=policy, text=text)
    except ValidationError:
        return      # text no message may carry (a lone CR, say): both refuse it
    assert short.to_bytes() == Message(**FIXED, policy=policy,
                                       body=TextPart(content=text)).to_bytes()


def nth_candidate(seed: str, path: str, n: int) -> str:
    return "=_" + hashlib.sha256(f"{seed}\x00{path}\x00{n}".encode()).hexdigest()[:32]


def test_a_boundary_found_twice_in_content_gives_the_third_candidate() -> None:
    first, second = (nth_candidate("<fixed@example.com>", "1", n) for n in (0, 1))
    msg = Message(**FIXED, text=f"--{first}\r\n--{second}\r\n",
                  attachments=[Attachment(filename="a.bin", content=b"x")])
    raw = msg.to_bytes()
    third = nth_candidate("<fixed@example.com>", "1", 2)
    assert f'boundary="{third}"'.encode() in raw
    assert Message.from_bytes(raw) == msg


def test_a_utf8_message_writes_a_filename_as_it_is() -> None:
    """With Policy(utf8=True) (SMTPUTF8, RFC 6532) a non-ASCII filename goes
    in the parameter as UTF-8; without it, in RFC 2231's encoded form."""
    def written(utf8: bool) -> bytes:
        return Message(**FIXED, text="x", policy=Policy(utf8=utf8), attachments=[
            Attachment(filename="Résumé final.docx", content=b"x")]).to_bytes()
    assert 'filename="Résumé final.docx"'.encode() in written(True)
    assert b"filename*=utf-8''R%C3%A9sum%C3%A9%20final.docx" in written(False)


def test_part_fields_fold_at_the_policy_limit() -> None:
    """Content-Disposition and Content-ID are folded at Policy.max_line_length."""
    msg = Message(**FIXED, text="x", policy=Policy(max_line_length=200), attachments=[
        Attachment(filename="a" * 120 + ".txt", content=b"x",
                   content_id="<" + "c" * 100 + "@example.com>")])
    head = msg.to_bytes().split(b"\r\n\r\n")[2]      # the attachment's header
    lines = head.split(b"\r\n")
    disposition = next(x for x in lines if x.startswith(b"Content-Disposition:"))
    assert 78 < len(disposition) <= 200
    assert b"Content-ID: <" + b"c" * 100 + b"@example.com>" in lines
