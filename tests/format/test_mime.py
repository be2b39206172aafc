"""Boundaries, determinism and streaming in bounded memory."""

from __future__ import annotations

import hashlib
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

from mailfmt import Attachment, Message

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
