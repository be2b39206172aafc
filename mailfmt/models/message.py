"""The whole message, and the cross-field rules of RFC 5322 section 3.6."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, Union

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .._limits import (
    MAX_ADDRESSES_PER_FIELD,
    MAX_HEADER_VALUE,
    MAX_REFERENCES,
)
from ..policy import Policy, policy_from
from ..rules import rule_error
from ._checks import check_msg_id, check_surrogates, check_text
from ._extra import ADDRESS_EXTRAS, extra_addresses, structured_extras
from .address import Address, Group, parse_addresses
from .body import Attachment, HtmlPart, Multipart, Part, TextPart
from .header import Header, HeaderList, check_extra_fields, is_raw_header

__all__ = ["Envelope", "Message", "given_parts"]


def _mailbox_or_group(v: Any) -> str:
    if isinstance(v, Group) or (isinstance(v, dict) and "members" in v):
        return "group"
    if isinstance(v, str) and v.rstrip().endswith(";") and ":" in v:
        return "group"
    return "mailbox"


AddressOrGroup = Annotated[
    Union[Annotated[Address, Tag("mailbox")], Annotated[Group, Tag("group")]],  # noqa: UP007
    Discriminator(_mailbox_or_group),
]

# Fields the model writes itself: they cannot also come in as extra headers.
_MANAGED = {
    "from": "from_", "sender": "sender", "reply-to": "reply_to", "to": "to", "cc": "cc",
    "bcc": "bcc", "subject": "subject", "date": "date", "message-id": "message_id",
    "in-reply-to": "in_reply_to", "references": "references", "mime-version": "body",
    "content-type": "body", "content-transfer-encoding": "body",
    "content-disposition": "body", "content-id": "body",
}

_ADDRESS_FIELDS = ("from_", "reply_to", "to", "cc", "bcc")
_FIELD_LABEL = {"from_": "From", "reply_to": "Reply-To", "to": "To", "cc": "Cc", "bcc": "Bcc",
                "sender": "Sender", "in_reply_to": "In-Reply-To", "references": "References",
                "message_id": "Message-ID"}


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class Envelope:
    """The SMTP envelope of a message: reverse-path and forward-paths.

    >>> Message(from_="a@example.com", to="b@example.org", bcc="c@example.net").envelope
    Envelope(mail_from='a@example.com', rcpt_to=('b@example.org', 'c@example.net'))
    """

    mail_from: str
    rcpt_to: tuple[str, ...]


class Message(BaseModel):
    """An email message that cannot be wrong.

    >>> msg = Message(from_="Alice <alice@example.com>", to=["bob@example.org"],
    ...               subject="Grüße", text="Hello\\n")
    >>> raw = msg.to_bytes()
    >>> b"Subject: =?utf-8?b?R3LDvMOfZQ==?=" in raw      # RFC 2047, the shorter of Q and B
    True
    >>> Message.from_bytes(raw) == msg
    True

    Every field is validated on construction; a failure raises
    ``pydantic.ValidationError`` whose error ``type`` is a rule name from
    :mod:`mailfmt.rules`. ``Date`` defaults to now and ``Message-ID`` is
    generated from the From domain. ``bcc`` is part of the envelope, never of
    the written bytes.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        ser_json_bytes="base64",
        val_json_bytes="base64",
    )

    # First, so that the validators of the fields after it can read it.
    policy: Policy = Policy()
    from_: list[AddressOrGroup] = Field(
        default_factory=list,
        validation_alias=AliasChoices("from", "from_"),
        serialization_alias="from",
        validate_default=True,
    )
    sender: Address | None = Field(default=None, validate_default=True)
    reply_to: list[AddressOrGroup] = Field(default_factory=list)
    to: list[AddressOrGroup] = Field(default_factory=list)
    cc: list[AddressOrGroup] = Field(default_factory=list)
    bcc: list[AddressOrGroup] = Field(default_factory=list)
    subject: str | None = None
    date: datetime = Field(default_factory=_now)
    message_id: str | None = Field(default=None, validate_default=True)
    in_reply_to: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    body: Part | None = Field(default=None, validate_default=True)
    headers: HeaderList = Field(default_factory=list)

    # ---- validation -------------------------------------------------------

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        if data.get("policy") is None:
            data = {**data, "policy": policy_from(info)}
        if (data.get("text") is None and data.get("html") is None
                and not data.get("attachments") and data.get("body") is None):
            data = {**data, "text": ""}
        return data

    @field_validator(*_ADDRESS_FIELDS, mode="before",
                     json_schema_input_type=Union[str, AddressOrGroup,  # noqa: UP007
                                                  list[AddressOrGroup]])
    @classmethod
    def _address_list_input(cls, v: Any, info: ValidationInfo) -> Any:
        return cls._address_input(v, info)

    @field_validator("sender", mode="before")
    @classmethod
    def _sender_input(cls, v: Any, info: ValidationInfo) -> Any:
        return cls._address_input(v, info)

    @classmethod
    def _address_input(cls, v: Any, info: ValidationInfo) -> Any:
        # Text and dicts are validated here, under the policy in force (the
        # explicit field or the context), so that nested address checks
        # (test domains, non-ASCII local parts) see it.
        policy: Policy = info.data.get("policy") or Policy()
        if info.field_name == "sender":
            if v is not None and _mailbox_or_group(v) == "group":
                # RFC 5322 3.6.2: sender = mailbox
                raise rule_error("invalid-address-list", field="Sender", value=str(v)[:120],
                                 reason="Sender takes one mailbox, not a group", index=0)
            return None if v is None else _under_policy(v, policy, "Sender")
        label = _FIELD_LABEL[info.field_name or ""]
        if isinstance(v, str):
            v = parse_addresses(v, label)
        elif isinstance(v, (Address, Group, dict)):
            v = [v]
        if isinstance(v, list):
            # Each item's error names the field and the item ("To, item 2").
            return [_under_policy(item, policy, f"{label}, item {i}" if len(v) > 1 else label)
                    for i, item in enumerate(v, 1)]
        return v

    @field_validator(*_ADDRESS_FIELDS)
    @classmethod
    def _address_rules(
        cls, v: list[Address | Group], info: ValidationInfo
    ) -> list[Address | Group]:
        label = _FIELD_LABEL[info.field_name or ""]
        mailboxes = list(_mailboxes(v))
        if len(mailboxes) > MAX_ADDRESSES_PER_FIELD:
            raise rule_error("too-many-addresses", field=label, count=len(mailboxes),
                             limit=MAX_ADDRESSES_PER_FIELD)
        _check_ascii(mailboxes, label, info)
        if info.field_name == "from_":
            if not mailboxes:
                raise rule_error("missing-from")
            if any(isinstance(a, Group) for a in v):
                raise rule_error("invalid-address-list", field="From", value=str(v[0]),
                                 reason="From takes mailboxes, not groups", index=0)
        return v

    @field_validator("sender")
    @classmethod
    def _sender_rule(cls, v: Address | None, info: ValidationInfo) -> Address | None:
        if v is not None:
            _check_ascii([v], "Sender", info)
            return v
        from_ = info.data.get("from_") or []
        if len(from_) > 1:
            raise rule_error("sender-required", count=len(from_))
        return v

    @field_validator("subject")
    @classmethod
    def _subject(cls, v: str | None) -> str | None:
        if v is None:
            return None
        return check_text(v, "Subject", MAX_HEADER_VALUE).strip(" \t")

    @field_validator("date")
    @classmethod
    def _date(cls, v: datetime) -> datetime:
        if v.tzinfo is None or v.utcoffset() is None:
            raise rule_error("invalid-date", field="Date",
                             reason="it has no time zone (pass an aware datetime)")
        if not 1900 <= v.year <= 9999:
            # RFC 5322 3.3: year is 4 or more digits, obs-year before 1900.
            raise rule_error("invalid-date", field="Date", reason=f"year {v.year} is out of range")
        return v.replace(microsecond=0)

    @field_validator("message_id")
    @classmethod
    def _message_id(cls, v: str | None, info: ValidationInfo) -> str:
        if v is None:
            from_ = info.data.get("from_") or []
            domain = (from_[0].ascii_addr_spec or "").rsplit("@", 1)[-1] if from_ else ""
            return f"<{secrets.token_hex(16)}@{domain or 'mailfmt.invalid'}>"
        return check_msg_id(v, "Message-ID")

    @field_validator("in_reply_to", "references", mode="before",
                     json_schema_input_type=Union[str, list[str]])  # noqa: UP007
    @classmethod
    def _id_list_input(cls, v: Any) -> Any:
        if isinstance(v, str):
            check_text(v, "References", MAX_HEADER_VALUE)
            return v.split()
        return v

    @field_validator("in_reply_to", "references")
    @classmethod
    def _id_list(cls, v: list[str], info: ValidationInfo) -> list[str]:
        label = _FIELD_LABEL[info.field_name or ""]
        if len(v) > MAX_REFERENCES:
            raise rule_error("too-many-references", field=label, count=len(v),
                             limit=MAX_REFERENCES)
        return [check_msg_id(i, label) for i in v]

    @field_validator("text", "html")
    @classmethod
    def _body_text(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None:
            return None
        check_surrogates(v, info.field_name or "text")
        from ..format.transfer import normalize_newlines

        return normalize_newlines(v)

    @field_validator("body")
    @classmethod
    def _body(cls, v: Part | None, info: ValidationInfo) -> Part | None:
        d = info.data
        if v is not None and (d.get("text") or d.get("html") or d.get("attachments")):
            raise rule_error("body-conflict",
                             reason="body= is a whole MIME tree: leave text, html and "
                                    "attachments unset when you give it")
        parts = len(d.get("attachments") or ()) + 2
        if isinstance(v, Multipart):
            parts = v.count
        from .._limits import MAX_MIME_PARTS

        if parts > MAX_MIME_PARTS:
            raise rule_error("too-many-parts", count=parts, limit=MAX_MIME_PARTS)
        return v

    @field_validator("headers")
    @classmethod
    def _headers(cls, v: list[Header], info: ValidationInfo) -> list[Header]:
        policy: Policy = info.data.get("policy") or Policy()
        check_extra_fields(v, _MANAGED, utf8=policy.utf8, typed=ADDRESS_EXTRAS)
        return structured_extras(v, policy)

    @model_validator(mode="after")
    def _part_headers(self) -> Message:
        body = self.body
        if body is not None and body.headers:
            # The root part's fields are the message's own: they go in
            # headers, where the parser reads them back.
            raise rule_error("managed-header", name=body.headers[0].name, attribute="headers")
        if not self.policy.utf8:
            # What the parts write as it is, under this message's policy (a
            # part alone does not know it): fields, and embedded messages.
            for part in given_parts(body, self.attachments):
                for h in part.headers:
                    if is_raw_header(h.name) and not h.value.isascii():
                        raise rule_error("non-ascii-header", field=h.name)
                if isinstance(part, Attachment) and part.eight_bit:
                    raise rule_error(
                        "8bit-without-declaration", part=part.filename or part.content_type,
                        encoding="7bit: a message cannot be encoded (RFC 2046 5.2.1), so "
                                 "an 8-bit one needs Policy(utf8=True)")
        return self

    # ---- derived views -----------------------------------------------------

    @property
    def envelope(self) -> Envelope:
        """MAIL FROM (Sender, else the first From) and RCPT TO (To, Cc, Bcc, deduplicated).

        A message being resent (RFC 5322 3.6.6) goes to the resent block's
        recipients instead: Resent-To, Resent-Cc and Resent-Bcc, from
        Resent-Sender, else the first Resent-From, else as above. When there
        are several blocks, the first is the newest (each resend puts its own
        on top); it ends where a second Resent-Date starts the next.

        >>> Message(from_="a@example.com", to="b@example.org", headers=[
        ...     ("Resent-From", "c@example.com"), ("Resent-To", "d@example.net"),
        ...     ("Resent-Bcc", "e@example.net")]).envelope
        Envelope(mail_from='c@example.com', rcpt_to=('d@example.net', 'e@example.net'))
        """
        utf8 = self.policy.utf8
        origin = self.sender or next(iter(_mailboxes(self.from_)))
        fields: tuple[list[AddressOrGroup], ...] = (self.to, self.cc, self.bcc)
        if self.headers:
            block = _resent_block(self.headers, self.policy)
            if block:
                resent_from = block.get("resent-sender") or block.get("resent-from")
                if resent_from:
                    origin = next(iter(_mailboxes(resent_from)))
                if any(block.get(k) for k in ("resent-to", "resent-cc", "resent-bcc")):
                    fields = tuple(block.get(k, []) for k in ("resent-to", "resent-cc",
                                                              "resent-bcc"))
        seen: dict[str, None] = {}
        # Asked at every send: plain loops, no generator per field.
        for field in fields:
            for item in field:
                for mb in (item.members if isinstance(item, Group) else (item,)):
                    if (spec := _spec(mb, utf8)) not in seen:
                        seen[spec] = None
        return Envelope(_spec(origin, utf8), tuple(seen))

    def mime_tree(self) -> Part:
        """The body as one MIME tree (the shortcuts text/html/attachments expanded)."""
        if self.body is not None:
            return self.body
        # Built from fields that are already valid: no second validation.
        content: list[Part] = []
        if self.text is not None:
            content.append(TextPart.model_construct(content=self.text))
        if self.html is not None:
            content.append(HtmlPart.model_construct(content=self.html))
        main: Part | None
        if len(content) == 2:
            main = Multipart.of("alternative", content)
        else:
            main = content[0] if content else None
        if not self.attachments:
            assert main is not None  # the before-validator sets text="" otherwise
            return main
        return Multipart.of("mixed", ([main] if main is not None else []) + list(self.attachments))

    def __eq__(self, other: object) -> bool:
        """Equal when every header field and the MIME tree are equal, however the
        body was given (``text=...`` or ``body=TextPart(...)`` alike)."""
        if not isinstance(other, Message):
            return NotImplemented
        return bool(
            all(getattr(self, k) == getattr(other, k) for k in _HEAD_FIELDS)
            and self.mime_tree() == other.mime_tree()
        )

    __hash__ = None  # type: ignore[assignment]

    # ---- bytes ---------------------------------------------------------------

    def iter_bytes(self) -> Iterator[bytes]:
        """The message as bytes, in chunks; attachments from paths are streamed."""
        from ..format.writer import iter_message

        return iter_message(self)

    def to_bytes(self) -> bytes:
        """The whole message as bytes (CRLF, ASCII unless ``policy.utf8``)."""
        return b"".join(self.iter_bytes())

    @classmethod
    def from_bytes(cls, raw: bytes, *, policy: Policy | None = None) -> Message:
        """Parse .eml bytes strictly; raises :class:`mailfmt.errors.ParseError`."""
        from ..parse.message import parse_message

        return parse_message(raw, policy=policy)


def given_parts(body: Part | None, attachments: list[Attachment] | None) -> Iterator[Part]:
    """Every part given: the tree's nodes, or the attachments. Not
    mime_tree(): the text and html shortcuts' parts carry no fields or
    files of their own, and building the tree costs a model per part."""
    stack: list[Part] = [body] if body is not None else list(attachments or ())
    while stack:
        part = stack.pop()
        yield part
        if isinstance(part, Multipart):
            stack.extend(part.parts)


_HEAD_FIELDS = tuple(k for k in Message.model_fields
                     if k not in ("text", "html", "attachments", "body"))


def _under_policy(item: Any, policy: Policy, field: str | None = None) -> Any:
    if not isinstance(item, (str, dict)):
        return item
    model = Group if _mailbox_or_group(item) == "group" else Address
    try:
        return model.model_validate(item, context={"policy": policy})
    except ValidationError as exc:
        err = exc.errors()[0]
        ctx = {k: v for k, v in (err.get("ctx") or {}).items() if k != "code"}
        if field is not None and "field" in ctx:
            ctx["field"] = field
        try:
            raise rule_error(err["type"], **ctx) from None
        except KeyError:
            raise PydanticCustomError(err["type"], err["msg"]) from None


def _resent_block(headers: list[Header], policy: Policy) -> dict[str, list[Address | Group]]:
    """The addresses of the newest resent block, by lower-case field name."""
    out: dict[str, list[Address | Group]] = {}
    dated = False
    for h in headers:
        key = h.name.lower()
        if key == "resent-date":
            if dated:
                break       # the next (older) block starts
            dated = True
        elif key.startswith("resent-") and key in ADDRESS_EXTRAS and key not in out:
            out[key] = list(extra_addresses(h.name, h.value, policy))
    return out


def _spec(mb: Address, utf8: bool) -> str:
    return mb.addr_spec if utf8 else (mb.ascii_addr_spec or mb.addr_spec)


def _mailboxes(items: list[Address | Group]) -> Iterator[Address]:
    for item in items:
        if isinstance(item, Group):
            yield from item.members
        else:
            yield item


def _check_ascii(mailboxes: list[Address], label: str, info: ValidationInfo) -> None:
    policy: Policy = info.data.get("policy") or Policy()
    if policy.utf8:
        return
    for mb in mailboxes:
        if mb.needs_smtputf8:
            raise rule_error("non-ascii-local-part", field=label, value=mb.addr_spec)


