"""MIME entities: part headers, transfer encoding of leaves, and boundaries."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..models.body import Attachment, HtmlPart, Multipart, Part, TextPart
from ..policy import Policy
from .fields import extra_fields
from .fold import Chunk, fold
from .params import param_chunks
from .transfer import b64_lines, b64_stream, choose_text_encoding

__all__ = ["Entity", "build_entity", "media_type", "plain_text_entity"]


@dataclass(slots=True)
class Entity:
    """A MIME entity ready to write: header lines, then body chunks or children."""

    headers: str
    body: bytes | None = None
    stream: Attachment | None = None
    boundary: str | None = None
    children: list[Entity] = field(default_factory=list)

    def literal_bodies(self) -> Iterator[bytes]:
        """Bodies written without transfer encoding, where a boundary could hide."""
        if self.body is not None:
            yield self.body
        for child in self.children:
            yield from child.literal_bodies()

    def iter_bytes(self) -> Iterator[bytes]:
        yield self.headers.encode("utf-8") + b"\r\n"
        if self.boundary is None:
            if self.body is not None:
                yield self.body
            elif self.stream is not None:
                yield from b64_stream(self.stream.iter_content())
            return
        delim = f"--{self.boundary}".encode("ascii")
        for i, child in enumerate(self.children):
            yield (b"\r\n" if i else b"") + delim + b"\r\n"
            yield from child.iter_bytes()
        yield b"\r\n" + delim + b"--"


def _content_type(value: str, params: list[tuple[str, str]], utf8: bool) -> list[Chunk]:
    chunks = [Chunk("", value)]
    for name, val in params:
        chunks[-1] = Chunk(chunks[-1].ws, chunks[-1].text + ";")
        chunks.extend(param_chunks(name, val, utf8=utf8))
    return chunks


def _leaf_headers(ctype: str, params: list[tuple[str, str]], cte: str, policy: Policy,
                  extra: str = "") -> str:
    lim = policy.max_line_length
    return (fold("Content-Type", _content_type(ctype, params, policy.utf8), limit=lim)
            + f"Content-Transfer-Encoding: {cte}\r\n" + extra)


@functools.lru_cache(maxsize=64)
def _text_type_field(subtype: str, charset: str, utf8: bool, limit: int) -> str:
    """The Content-Type field of a text part whose one parameter is its
    charset: the same line for nearly every message, folded once."""
    return fold("Content-Type", _content_type(f"text/{subtype}", [("charset", charset)], utf8),
                limit=limit)


def _text_entity(content: str, subtype: str, policy: Policy, extra: str,
                 params: dict[str, str]) -> Entity:
    data = content.encode("utf-8")
    cte, body = choose_text_encoding(data, allow_8bit=policy.utf8,
                                     max_line=policy.max_line_length)
    charset = "us-ascii" if data.isascii() else "utf-8"
    if not params:
        return Entity(_text_type_field(subtype, charset, policy.utf8, policy.max_line_length)
                      + f"Content-Transfer-Encoding: {cte}\r\n" + extra, body=body)
    return Entity(_leaf_headers(f"text/{subtype}", [("charset", charset), *params.items()], cte,
                                policy, extra), body=body)


def plain_text_entity(content: str, policy: Policy) -> Entity:
    """What build_entity writes for ``TextPart(content=content)``, without
    making the part: a message of plain text alone, the usual one."""
    return _text_entity(content, "plain", policy, "", {})


def _attachment_entity(att: Attachment, policy: Policy, own: str) -> Entity:
    lim = policy.max_line_length
    disp = [Chunk("", att.disposition)]
    if att.filename is not None:
        disp[-1] = Chunk("", disp[-1].text + ";")
        disp.extend(param_chunks("filename", att.filename, utf8=policy.utf8))
    extra = fold("Content-Disposition", disp, limit=lim)
    params = list(att.params.items())
    if att.embedded:
        # RFC 2046 5.2.1: a message goes as it is, never base64 or
        # quoted-printable (the model holds it in memory, checked).
        assert att.content is not None
        cte = "8bit" if att.eight_bit else "7bit"
        return Entity(_leaf_headers(att.content_type, params, cte, policy, extra + own),
                      body=att.content)
    headers = _leaf_headers(att.content_type, params, "base64", policy, extra + own)
    if att.content is not None:
        return Entity(headers, body=b64_lines(att.content))
    return Entity(headers, stream=att)


def media_type(part: Part) -> str:
    """The type/subtype a part is written with."""
    if isinstance(part, TextPart):
        return f"text/{part.subtype}"
    if isinstance(part, HtmlPart):
        return "text/html"
    if isinstance(part, Attachment):
        return part.content_type
    return f"multipart/{part.subtype}"


def build_entity(part: Part, policy: Policy, seed: str, path: str = "1") -> Entity:
    """Turn a validated part tree into entities; boundaries come from ``seed``.

    Text is encoded here, once, so that boundaries can be checked against it.
    """
    # After the fields its kind writes: the part's Content-ID, then its own fields.
    extra = ""
    if part.content_id is not None:
        extra = fold("Content-ID", [Chunk("", part.content_id)], limit=policy.max_line_length)
    if part.headers:
        extra += extra_fields(part.headers, policy)
    if isinstance(part, TextPart):
        return _text_entity(part.content, part.subtype, policy, extra, part.params)
    if isinstance(part, HtmlPart):
        return _text_entity(part.content, "html", policy, extra, {})
    if isinstance(part, Attachment):
        return _attachment_entity(part, policy, extra)
    assert isinstance(part, Multipart)
    children = [build_entity(p, policy, seed, f"{path}.{i}") for i, p in enumerate(part.parts, 1)]
    boundary = _boundary(seed, path, children)
    # The boundary first: CPython's get_boundary() loses the parameters that
    # follow a value ending in a backslash ('x="\\"', or its RFC 2231 form).
    params = [("boundary", boundary)]
    if part.subtype == "related":
        # RFC 2387 3.1: type, the root's media type, is required; the root
        # is the first part, as no start parameter is written.
        params.append(("type", media_type(part.parts[0])))
    params.extend(part.params.items())
    ctype = _content_type(f"multipart/{part.subtype}", params, policy.utf8)
    return Entity(fold("Content-Type", ctype, limit=policy.max_line_length) + extra,
                  boundary=boundary, children=children)


def _boundary(seed: str, path: str, children: list[Entity]) -> str:
    """A boundary that occurs in no literal body below it (RFC 2046 5.1.1).

    It starts with "=_", which quoted-printable and base64 output can never
    contain, and continues with 32 hex digits derived from the seed (the
    message's random Message-ID) and the part's path, so the same message
    always writes the same bytes. Literal (7bit/8bit) bodies are searched,
    and a new candidate drawn on a hit.
    """
    bodies = [b for c in children for b in c.literal_bodies()]
    attempt = 0
    while True:
        digest = hashlib.sha256(f"{seed}\x00{path}\x00{attempt}".encode()).hexdigest()
        boundary = f"=_{digest[:32]}"
        token = boundary.encode("ascii")
        if not any(token in b for b in bodies):
            return boundary
        attempt += 1
