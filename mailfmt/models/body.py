"""Body parts: text, HTML, attachments and multipart trees (RFC 2045/2046)."""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .._grammar import MIME_TOKEN, MSG_ID
from .._limits import (
    MAX_FILENAME,
    MAX_HEADER_VALUE,
    MAX_LINE,
    MAX_MIME_DEPTH,
    MAX_MIME_PARAMS,
    MAX_MIME_PARTS,
    MAX_MSG_ID,
)
from ..format.params import ParamError, parse_params
from ..format.transfer import B64_CHUNK, max_line_length, normalize_line_ends, normalize_newlines
from ..rules import rule_error
from ._checks import check_surrogates, check_text
from .header import Header, HeaderList, check_extra_fields

__all__ = ["TEXT_WRITTEN_PARAMS", "Attachment", "HtmlPart", "Multipart", "Part", "TextPart",
           "multipart_written_params"]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_bytes="base64",
                              val_json_bytes="base64")

    #: the part's other header fields, written after its MIME fields:
    #: Content-Description, Content-Language, X-Attachment-Id, ...
    # A plain default, not a factory: model_construct (mime_tree) would
    # inspect a factory's signature on every call.
    headers: HeaderList = Field(default=[])
    #: Content-ID (RFC 2045 7, RFC 2392): how HTML in a multipart/related
    #: names it (``cid:``); any part may have one
    content_id: str | None = None

    @field_validator("content_id")
    @classmethod
    def _check_cid(cls, v: str | None) -> str | None:
        if v is None:
            return None
        check_text(v, "content_id", MAX_MSG_ID)
        v = v.strip()
        if not v.startswith("<"):
            v = f"<{v}>"
        if not MSG_ID.fullmatch(v):
            raise rule_error("invalid-content-id", field="content_id", value=v,
                             reason="expected <left@right>")
        return v

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, v: list[Header]) -> list[Header]:
        # Whether 8-bit text may stand in a field written as it is depends
        # on the message's policy: the message checks that.
        check_extra_fields(v, cls._managed(), utf8=None)
        return v

    @classmethod
    def _managed(cls) -> dict[str, str]:
        """The fields this part's model writes itself (RFC 2045, 2183, 2392),
        by the attribute that sets them (``kind``: another kind of part)."""
        fields = cls.model_fields

        def first(*names: str) -> str:
            return next((n for n in names if n in fields), "kind")
        return {"content-type": first("content_type", "subtype"),
                "content-transfer-encoding": first("content"),
                "content-disposition": first("disposition"),
                "content-id": first("content_id"),
                # RFC 2045 4: written once, at the top, as the Message's
                "mime-version": "body"}


def _text_content(v: str, info: ValidationInfo) -> str:
    check_surrogates(v, info.field_name or "content")
    return normalize_newlines(v)


class TextPart(_Part):
    """A ``text/<subtype>`` part; line endings are normalised to CRLF.

    >>> TextPart(content="Hello\\n").content
    'Hello\\r\\n'
    """

    kind: Literal["text"] = "text"
    content: str
    subtype: str = "plain"
    #: Content-Type parameters besides charset, which the writer chooses:
    #: method for a text/calendar invitation (RFC 6047 2.4), ...
    params: dict[str, str] = Field(default={})

    _content = field_validator("content")(_text_content)

    @field_validator("params")
    @classmethod
    def _check_params(cls, v: dict[str, str]) -> dict[str, str]:
        return _check_params(v, TEXT_WRITTEN_PARAMS)

    @field_validator("subtype")
    @classmethod
    def _check_subtype(cls, v: str) -> str:
        v = v.lower()
        if not MIME_TOKEN.fullmatch(v):
            raise rule_error("invalid-content-type", field="subtype", value=f"text/{v}",
                             reason="the subtype is not a MIME token")
        if v == "html":
            raise rule_error("invalid-content-type", field="subtype", value="text/html",
                             reason="use HtmlPart for HTML")
        return v


class HtmlPart(_Part):
    """A ``text/html`` part; line endings are normalised to CRLF.

    >>> HtmlPart(content="<p>hi</p>\\n").content
    '<p>hi</p>\\r\\n'
    """

    kind: Literal["html"] = "html"
    content: str

    _content = field_validator("content")(_text_content)


def _guess_type(filename: str | None) -> str:
    if filename:
        guessed, _ = mimetypes.guess_type(filename, strict=False)
        if guessed:
            return guessed
    return "application/octet-stream"


class Attachment(_Part):
    """A file: ``content`` in memory, or a ``path`` streamed when written.

    >>> a = Attachment(filename="report.pdf", content=b"%PDF-1.7")
    >>> a.content_type
    'application/pdf'

    ``content_type`` is guessed from the filename when not given.
    ``disposition="inline"`` with a ``content_id`` makes an embedded image
    (referenced as ``cid:`` in HTML).
    """

    kind: Literal["attachment"] = "attachment"
    filename: str | None = None
    content: bytes | None = None
    path: Path | None = None
    content_type: str = "application/octet-stream"
    #: the Content-Type's parameters, by lower-case name: charset for text,
    #: method for a text/calendar invitation (RFC 6047 2.4), ...; a
    #: ``content_type`` such as ``"text/csv; charset=utf-8"`` fills them too
    params: dict[str, str] = Field(default={})
    disposition: Literal["attachment", "inline"] = "attachment"

    @field_validator("filename")
    @classmethod
    def _check_filename(cls, v: str | None) -> str | None:
        if v is None:
            return None
        check_text(v, "filename", MAX_FILENAME * 4)
        # Readers (and file systems) drop whitespace at the ends of names.
        v = v.strip()
        if not v:
            raise rule_error("invalid-filename", field="filename", reason="the filename is empty")
        if len(v) > MAX_FILENAME:
            raise rule_error("invalid-filename", field="filename",
                             reason=f"the filename is {len(v)} characters long "
                                    f"(max {MAX_FILENAME})")
        if "/" in v or "\\" in v:
            raise rule_error("invalid-filename", field="filename",
                             reason=f"{v!r} contains a path separator")
        if len(v) > 1 and (v[0], v[-1]) in (('"', '"'), ("<", ">")):
            # Readers unquote a name once more after decoding it (Python's
            # email.utils.unquote): '"a.pdf"' would be saved as 'a.pdf'.
            raise rule_error("invalid-filename", field="filename",
                             reason=f"{v!r} is wrapped in {v[0]}{v[-1]}, which readers drop")
        return v

    @field_validator("content_type")
    @classmethod
    def _check_type(cls, v: str) -> str:
        v = v.strip().lower()
        typ, sep, sub = v.partition("/")
        if not sep or not MIME_TOKEN.fullmatch(typ) or not MIME_TOKEN.fullmatch(sub):
            raise rule_error("invalid-content-type", field="content_type", value=v,
                             reason="expected type/subtype made of MIME tokens")
        if typ == "multipart":
            # RFC 2046 5.1: a multipart is a Multipart, never a leaf.
            raise rule_error("invalid-content-type", field="content_type", value=v,
                             reason="multipart/* is not an attachment type: use Multipart")
        return v

    @field_validator("params")
    @classmethod
    def _check_params(cls, v: dict[str, str]) -> dict[str, str]:
        return _check_params(v, ())

    @model_validator(mode="before")
    @classmethod
    def _default_type(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        ct = data.get("content_type")
        if isinstance(ct, str) and ";" in ct:
            # "type/subtype; name=value ...": the parameters join params (the
            # ones given there win).
            try:
                ct, params = parse_params(ct)
            except ParamError as exc:
                raise rule_error("invalid-content-type", field="content_type",
                                 value=ct[:80], reason=str(exc)) from None
            data = {**data, "content_type": ct, "params": {**params, **(data.get("params") or {})}}
        if not ct:
            name = data.get("filename")
            ct = _guess_type(name if isinstance(name, str) else None)
            data = {**data, "content_type": ct}
        if isinstance(ct, str) and ct.strip().lower().startswith("message/"):
            data = _embedded(data)
        return data

    @model_validator(mode="after")
    def _check_source(self) -> Attachment:
        if (self.content is None) == (self.path is None):
            raise rule_error("body-conflict",
                             reason="an attachment needs exactly one of content and path")
        if self.path is not None:
            # Checked now, not half-way through sending the message.
            p = self.path
            if not p.is_file():
                reason = "no such file" if not p.exists() else "not a regular file"
                raise rule_error("attachment-unreadable", field="path", path=str(p), reason=reason)
            if not os.access(p, os.R_OK):
                raise rule_error("attachment-unreadable", field="path", path=str(p),
                                 reason="permission denied")
        if self.content is not None and self.embedded:
            _check_embedded(self.content)
        return self

    @property
    def embedded(self) -> bool:
        """Whether this is a message (message/rfc822, a delivery report, ...),
        written as it is (RFC 2046 5.2.1: 7bit or 8bit, never encoded)."""
        return self.content_type.startswith("message/")

    @property
    def eight_bit(self) -> bool:
        """Whether an embedded message has 8-bit octets (then the message
        needs Policy(utf8=True), which allows an 8bit body)."""
        return self.embedded and self.content is not None and not self.content.isascii()

    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike[str],
        *,
        filename: str | None = None,
        content_type: str = "",
        disposition: Literal["attachment", "inline"] = "attachment",
        content_id: str | None = None,
    ) -> Attachment:
        """An attachment read from ``path`` only while the message is written,
        in chunks: memory stays bounded whatever the file size. A message
        (``.eml``, message/rfc822) is read now: it is written as it is, so it
        is checked first."""
        p = Path(path)
        return cls(path=p, filename=filename if filename is not None else p.name,
                   content_type=content_type, disposition=disposition, content_id=content_id)

    def iter_content(self) -> Iterator[bytes]:
        """The raw content in chunks of a whole number of base64 lines."""
        if self.content is not None:
            yield self.content
            return
        assert self.path is not None
        with open(self.path, "rb") as fh:
            while chunk := fh.read(B64_CHUNK):
                yield chunk


#: The Content-Type parameters the writer makes for a text part: the charset
#: it chooses, and none of RFC 3676's, which would make readers reflow lines.
TEXT_WRITTEN_PARAMS = ("charset", "format", "delsp")


def multipart_written_params(subtype: str) -> tuple[str, ...]:
    """The Content-Type parameters the writer makes for a multipart: its
    boundary, and a related's type and start (RFC 2387), from its root."""
    return ("boundary", "type", "start") if subtype == "related" else ("boundary",)


def _check_params(v: dict[str, str], written: tuple[str, ...]) -> dict[str, str]:
    """Content-Type parameters by lower-case name; ``written``: the ones the
    writer makes itself."""
    if len(v) > MAX_MIME_PARAMS:
        raise rule_error("invalid-content-type", field="params", value=f"{len(v)} parameters",
                         reason=f"at most {MAX_MIME_PARAMS} parameters")
    out = {}
    for name, value in v.items():
        key = name.lower()
        # RFC 2045 5.1 attribute := token; RFC 2231 gives "*" its meaning
        if not MIME_TOKEN.fullmatch(key) or "*" in key:
            raise rule_error("invalid-content-type", field="params", value=name[:80],
                             reason="a parameter name is a MIME token without '*'")
        if key in written:
            raise rule_error("invalid-content-type", field="params", value=name[:80],
                             reason="the writer makes this parameter itself")
        out[key] = check_text(value, f"params[{name[:40]!r}]", MAX_HEADER_VALUE)
    return out


def _embedded(data: dict[str, Any]) -> dict[str, Any]:
    """A message/* attachment's input: its content in memory, from its file
    if a path was given (it is checked whole, and written as it is), with
    CRLF line ends (RFC 2046 5.2.1: a message in canonical form)."""
    path = data.get("path")
    if data.get("content") is None and path is not None:
        try:
            read = Path(path).read_bytes()
        except OSError as exc:
            raise rule_error("attachment-unreadable", field="path", path=str(path),
                             reason=exc.strerror or str(exc)) from None
        data = {**data, "content": read, "path": None}
    content = data.get("content")
    if isinstance(content, (bytes, bytearray, memoryview)):
        data = {**data, "content": normalize_line_ends(bytes(content))}
    return data


def _check_embedded(data: bytes) -> None:
    """What an embedded message must be to go unencoded (RFC 2046 5.2.1, RFC
    5322 2.1.1, RFC 2045 2.7)."""
    nul = data.find(b"\x00")
    if nul != -1:
        raise rule_error("nul-byte", line=data.count(b"\n", 0, nul) + 1)
    if max_line_length(data) > MAX_LINE:
        longest = max(map(len, data.split(b"\r\n")))
        raise rule_error("line-too-long", where="An embedded message's", length=longest,
                         limit=MAX_LINE)


class Multipart(_Part):
    """A ``multipart/<subtype>`` node: mixed, alternative, related, ...

    >>> Multipart(subtype="alternative",
    ...           parts=[TextPart(content="hi"), HtmlPart(content="<p>hi</p>")]).subtype
    'alternative'
    """

    kind: Literal["multipart"] = "multipart"
    subtype: str = "mixed"
    parts: list[Part]
    #: Content-Type parameters besides the boundary (and a related's type and
    #: start, which the writer makes from its first part): report-type for
    #: multipart/report (RFC 6522), protocol for multipart/signed, ...
    params: dict[str, str] = Field(default={})
    _depth: int = PrivateAttr(default=1)
    _count: int = PrivateAttr(default=1)

    @field_validator("params")
    @classmethod
    def _check_params(cls, v: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        return _check_params(v, multipart_written_params(info.data.get("subtype", "")))

    @field_validator("subtype")
    @classmethod
    def _check_subtype(cls, v: str) -> str:
        v = v.lower()
        if not MIME_TOKEN.fullmatch(v):
            raise rule_error("invalid-content-type", field="subtype", value=f"multipart/{v}",
                             reason="the subtype is not a MIME token")
        return v

    @model_validator(mode="after")
    def _check_tree(self) -> Multipart:
        if not self.parts:
            raise rule_error("empty-multipart", subtype=self.subtype)
        # Children are validated first, so each node checks only one level:
        # linear overall, and the cap is hit before any deep recursion.
        depth = 1 + max((p.depth for p in self.parts if isinstance(p, Multipart)), default=0)
        if depth > MAX_MIME_DEPTH:
            raise rule_error("mime-too-deep", depth=depth, limit=MAX_MIME_DEPTH)
        count = sum(p.count if isinstance(p, Multipart) else 1 for p in self.parts) + 1
        if count > MAX_MIME_PARTS:
            raise rule_error("too-many-parts", count=count, limit=MAX_MIME_PARTS)
        self._depth = depth
        self._count = count
        return self

    @classmethod
    def of(cls, subtype: str, parts: list[Part]) -> Multipart:
        """A node from parts that are already valid, without validating again."""
        node = cls.model_construct(subtype=subtype, parts=parts)
        sub = [p for p in parts if isinstance(p, Multipart)]
        node._depth = 1 + max((p.depth for p in sub), default=0)
        node._count = 1 + sum(p.count if isinstance(p, Multipart) else 1 for p in parts)
        return node

    @property
    def depth(self) -> int:
        """Multipart levels in this subtree, this one included."""
        return self._depth

    @property
    def count(self) -> int:
        """Body parts in this subtree, this one included."""
        return self._count


Part = Annotated[Union[TextPart, HtmlPart, Attachment, Multipart], Field(discriminator="kind")]  # noqa: UP007
Multipart.model_rebuild()
