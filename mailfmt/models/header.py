"""Header fields: names and unstructured values, as Annotated types and a model."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from .._grammar import FIELD_NAME
from .._limits import MAX_EXTRA_HEADERS, MAX_HEADER_NAME, MAX_HEADER_VALUE, MAX_LINE
from ..format.fold import octets
from ..rules import rule_error
from ._checks import check_text

__all__ = ["MIME_SINGLETONS", "MIME_STRUCTURED", "Header", "HeaderList", "HeaderName",
           "HeaderText", "check_extra_fields", "is_raw_header"]


def _check_name(v: str) -> str:
    if len(v) > MAX_HEADER_NAME:
        raise rule_error("header-name-too-long", length=len(v), limit=MAX_HEADER_NAME)
    if not v:
        raise rule_error("header-name-invalid", value=v, reason="it is empty")
    if not FIELD_NAME.fullmatch(v):
        bad = next(c for c in v if not FIELD_NAME.fullmatch(c))
        raise rule_error("header-name-invalid", value=v,
                         reason=f"{bad!r} is not allowed (printable ASCII except ':')")
    return v


def _check_value(v: str) -> str:
    return check_text(v, "header value", MAX_HEADER_VALUE).strip(" \t")


#: A header field name: RFC 5322 ftext, 1 to 76 characters.
HeaderName = Annotated[str, AfterValidator(_check_name)]
#: Header text: no line breaks or controls (folding is the formatter's job).
HeaderText = Annotated[str, AfterValidator(_check_value)]


class Header(BaseModel):
    """An extra header field, e.g. ``Header(name="X-Campaign", value="autumn")``.

    A ``(name, value)`` tuple is accepted wherever a Header is expected. The
    value is unstructured text: non-ASCII words are written as RFC 2047 encoded
    words. Trace and signature fields (Received, DKIM-Signature, ARC-*, List-*,
    ...) are written as they are, folded only at whitespace.

    >>> Header.model_validate(("X-Campaign", "autumn"))
    Header(name='X-Campaign', value='autumn')
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: HeaderName
    value: HeaderText

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, data: Any) -> Any:
        if isinstance(data, (tuple, list)) and len(data) == 2:
            return {"name": data[0], "value": data[1]}
        return data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        if handler.mode == "validation":
            pair = {"type": "array", "prefixItems": [{"type": "string"}, {"type": "string"}],
                    "minItems": 2, "maxItems": 2}
            return {"anyOf": [pair, schema]}
        return schema


def _pairs(v: Any) -> Any:
    """A mapping of distinct names to values, {"X-Campaign": "autumn"}, as
    its (name, value) pairs, in order (nodemailer takes headers so too);
    fields that repeat a name go in a list."""
    if isinstance(v, Mapping):
        return list(v.items())
    return v


#: Extra header fields: Headers, (name, value) pairs, or a mapping of names
#: to values.
HeaderList = Annotated[list[Header], BeforeValidator(_pairs)]


#: the MIME fields an entity (the message or a body part) may have once
#: (RFC 2045 4, 5, 6): two give readers a choice, and they choose differently
MIME_SINGLETONS = frozenset({"mime-version", "content-type", "content-transfer-encoding"})

_RAW_NAMES = frozenset({"received", "return-path", "authentication-results",
                        "content-location", "auto-submitted", "mime-version",
                        # addresses the reader parses: RFC 8098 2.1, and the
                        # mailing-list fields most clients honour
                        "disposition-notification-to", "mail-followup-to",
                        "mail-reply-to"})


def is_raw_header(name: str) -> bool:
    """Structured fields that must not get encoded words (RFC 2047 section 5),
    kept and written as they are: trace, signature and list fields, the
    Resent- fields (RFC 5322 3.6.6: addresses, a date, a msg-id), which the
    model takes only as extra fields, and other address fields readers parse."""
    n = name.lower()
    return (n in _RAW_NAMES or n.endswith("-signature")
            or n.startswith(("arc-", "list-", "resent-")))


#: MIME fields with a grammar of their own (RFC 2045, 2183, 2392), read as such
#: and never as text. Other Content- fields are text: Content-Description is
#: *text (RFC 2045 8), and an unknown one is an extension field (RFC 2047 5).
MIME_STRUCTURED = MIME_SINGLETONS | {"content-disposition", "content-id"}


def check_extra_fields(headers: Sequence[Header], managed: Mapping[str, str], *,
                       utf8: bool | None, typed: Collection[str] = ()) -> None:
    """The rules on a list of extra fields, of the message or of a body part:
    at most MAX_EXTRA_HEADERS, none that the model writes itself (``managed``:
    lower-case name -> the attribute that sets it), and the fields written as
    they are (is_raw_header) already fit to write. ``utf8``: whether the
    message travels with SMTPUTF8; None when that is not known yet (a body
    part is checked again by its message). ``typed``: lower-case names of
    fields checked and written by their own grammar, not as they are."""
    if len(headers) > MAX_EXTRA_HEADERS:
        raise rule_error("too-many-headers", count=len(headers), limit=MAX_EXTRA_HEADERS)
    for h in headers:
        attr = managed.get(h.name.lower())
        if attr is not None:
            raise rule_error("managed-header", name=h.name, attribute=attr)
        if is_raw_header(h.name) and h.name.lower() not in typed:
            if utf8 is False and not h.value.isascii():
                raise rule_error("non-ascii-header", field=h.name)
            longest = max((octets(w) for w in h.value.split()), default=0)
            if longest + len(h.name) + 2 > MAX_LINE:
                raise rule_error("line-too-long", where=f"a {h.name} header",
                                 length=longest + len(h.name) + 2, limit=MAX_LINE)
