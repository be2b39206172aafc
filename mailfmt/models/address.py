"""Mailboxes and groups (RFC 5322 section 3.4)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import email_validator
from pydantic import (
    BaseModel,
    ConfigDict,
    GetJsonSchemaHandler,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from .._limits import MAX_ADDR_SPEC, MAX_ADDRESS_INPUT, MAX_DISPLAY_NAME
from ..parse.address import AddressSyntaxError, ParsedGroup, ParsedMailbox, parse_address_list
from ..policy import policy_from
from ..rules import rule_error
from ._checks import check_text

__all__ = ["Address", "Group", "as_dict", "as_written", "parse_addresses"]


@dataclass(frozen=True, slots=True)
class _Checked:
    normalized: str
    ascii: str | None


@functools.lru_cache(maxsize=8192)
def _validate(addr: str) -> _Checked:
    """email-validator in strict mode, cached: the same addresses recur a lot."""
    # test_environment=True here only lifts the ban on "test" domains; the
    # policy decides about those (see _check_spec).
    v = email_validator.validate_email(
        addr, check_deliverability=False, strict=True, allow_smtputf8=True,
        test_environment=True,
    )
    return _Checked(v.normalized, v.ascii_email)


def _check_addr_spec(value: str, field: str = "address") -> _Checked:
    # Capped before email-validator and idna see it: both are linear, but a
    # megabyte still costs half a second (and idna has had quadratic bugs).
    if len(value) > MAX_ADDR_SPEC:
        raise rule_error("address-too-long", field=field, length=len(value), limit=MAX_ADDR_SPEC)
    check_text(value, field, MAX_ADDR_SPEC)
    try:
        return _validate(value)
    except email_validator.EmailNotValidError as exc:
        raise rule_error("invalid-address", field=field, value=value, reason=str(exc)) from None


class Address(BaseModel):
    """One mailbox: an optional display name and an addr-spec.

    >>> a = Address.parse('"Doe, John" <john@example.com>')
    >>> a.display_name, a.addr_spec
    ('Doe, John', 'john@example.com')
    >>> str(a)
    '"Doe, John" <john@example.com>'

    A string is accepted wherever an Address is expected. The addr-spec is
    validated by email-validator (strict, no DNS) and kept in its normalized
    form; ``ascii_addr_spec`` is the form sent without SMTPUTF8 (IDN domains
    as A-labels), ``None`` when the local part is not ASCII.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    display_name: str | None = None
    addr_spec: str

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            return _one_mailbox(data)
        return data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        if handler.mode == "validation":
            # Input may also be one string, as the before-validator accepts.
            return {"anyOf": [{"type": "string", "examples": ["Alice <alice@example.com>"]},
                              schema]}
        return schema

    @field_validator("display_name")
    @classmethod
    def _check_name(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = _squeeze(v)
        if len(v) > MAX_DISPLAY_NAME:
            raise rule_error("display-name-too-long", field="display_name",
                             length=len(v), limit=MAX_DISPLAY_NAME)
        check_text(v, "display_name", MAX_DISPLAY_NAME)
        return v or None

    @field_validator("addr_spec")
    @classmethod
    def _check_spec(cls, v: str, info: ValidationInfo) -> str:
        checked = _check_addr_spec(v.strip(" \t"), "addr_spec")
        policy = policy_from(info)
        if checked.ascii is None and not policy.utf8 and _context_has_policy(info):
            raise rule_error("non-ascii-local-part", field="addr_spec", value=v)
        domain = checked.normalized.rsplit("@", 1)[1].lower()
        if (domain == "test" or domain.endswith(".test")) and not policy.test_environment:
            raise rule_error("invalid-address", field="addr_spec", value=v,
                             reason="'test' is a special-use domain (RFC 6761); "
                                    "Policy(test_environment=True) allows it")
        return checked.normalized

    @property
    def ascii_addr_spec(self) -> str | None:
        """The address with an A-label domain; None if the local part is not ASCII."""
        return _validate(self.addr_spec).ascii

    @property
    def needs_smtputf8(self) -> bool:
        return self.ascii_addr_spec is None

    @property
    def domain(self) -> str:
        return self.addr_spec.rsplit("@", 1)[1]

    @classmethod
    def parse(cls, text: str) -> Address:
        """Parse ``Name <addr>`` or ``addr``; raises ``pydantic.ValidationError``."""
        return cls.model_validate(text)

    def __str__(self) -> str:
        from ..format.address import address_list_chunks

        return "".join(c.ws + c.text for c in address_list_chunks([self], utf8=True))


class Group(BaseModel):
    """A named group of mailboxes, e.g. ``undisclosed-recipients:;`` (RFC 5322 3.4).

    >>> g = Group.model_validate("Team: a@example.com, Bob <b@example.org>;")
    >>> [m.addr_spec for m in g.members]
    ['a@example.com', 'b@example.org']
    >>> str(Group(display_name="undisclosed-recipients"))
    'undisclosed-recipients:;'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    display_name: str
    members: list[Address] = []

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            items = _parse(data, "group", allow_groups=True)
            if len(items) != 1 or not isinstance(items[0], dict) or "members" not in items[0]:
                raise rule_error("invalid-address-list", field="group", value=data,
                                 reason="expected exactly one group", index=0)
            return items[0]
        return data

    @field_validator("display_name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        v = _squeeze(v)
        if not v:
            raise rule_error("invalid-address-list", field="group", value=v,
                             reason="a group needs a display name", index=0)
        if len(v) > MAX_DISPLAY_NAME:
            raise rule_error("display-name-too-long", field="display_name",
                             length=len(v), limit=MAX_DISPLAY_NAME)
        return check_text(v, "display_name", MAX_DISPLAY_NAME)

    def __str__(self) -> str:
        from ..format.address import address_list_chunks

        return "".join(c.ws + c.text for c in address_list_chunks([self], utf8=True))


_WSP_RUN = re.compile(r"[ \t]+")


def _squeeze(name: str) -> str:
    """RFC 5322 3.2.2: in a structured field a run of whitespace between
    lexical elements means one space; readers collapse it, so we do too, and
    drop whitespace at the ends (Unicode whitespace included, as they do)."""
    return _WSP_RUN.sub(" ", name).strip()


def _context_has_policy(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and "policy" in info.context


def _parse(text: str, field: str, *, allow_groups: bool) -> list[dict[str, Any]]:
    if len(text) > MAX_ADDRESS_INPUT * 64:
        raise rule_error("address-too-long", field=field, length=len(text),
                         limit=MAX_ADDRESS_INPUT * 64)
    check_text(text, field, MAX_ADDRESS_INPUT * 64)
    try:
        parsed = parse_address_list(text, allow_groups=allow_groups)
    except AddressSyntaxError as exc:
        raise rule_error("invalid-address-list", field=field, value=_clip(text),
                         reason=exc.reason, index=exc.index) from None
    return [as_dict(p) for p in parsed]


def as_dict(p: ParsedMailbox | ParsedGroup) -> dict[str, Any]:
    """A parsed mailbox or group, ready for Address / Group validation."""
    if isinstance(p, ParsedGroup):
        return {"display_name": p.display_name,
                "members": [as_dict(m) for m in p.members]}
    return {"display_name": p.display_name, "addr_spec": p.addr_spec}


def as_written(p: ParsedMailbox | ParsedGroup) -> Address | Group:
    """A parsed mailbox or group as a model, not validated: for writing a
    field read from a message again (its addr-specs kept as they are)."""
    if isinstance(p, ParsedGroup):
        return Group.model_construct(display_name=p.display_name,
                                     members=[_mailbox_as_written(m) for m in p.members])
    return _mailbox_as_written(p)


def _mailbox_as_written(p: ParsedMailbox) -> Address:
    return Address.model_construct(display_name=p.display_name, addr_spec=p.addr_spec)


def _one_mailbox(text: str) -> dict[str, Any]:
    if len(text) > MAX_ADDRESS_INPUT:
        raise rule_error("address-too-long", field="address", length=len(text),
                         limit=MAX_ADDRESS_INPUT)
    items = _parse(text, "address", allow_groups=False)
    if len(items) != 1:
        raise rule_error("invalid-address-list", field="address", value=_clip(text),
                         reason=f"expected exactly one mailbox, found {len(items)}", index=0)
    return items[0]


def parse_addresses(text: str, field: str) -> list[dict[str, Any]]:
    """An address-list string as dicts ready for Address / Group validation."""
    return _parse(text, field, allow_groups=True)


def _clip(text: str, n: int = 200) -> str:
    return text if len(text) <= n else text[:n] + "..."
