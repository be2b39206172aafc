"""Extra fields with a grammar of their own, held to it.

The model takes the Resent- fields (RFC 5322 3.6.6) and a few other fields
that readers parse only as extra fields. A value that breaks the field's
grammar would make a message the linter reports, so each is checked as its
own field is: the addresses as the From and To addresses are (and written
as they are, display names as encoded words when not ASCII), the date as a
date-time, the msg-id as a msg-id.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

from pydantic import ValidationError

from .._date import read_date
from .._limits import MAX_ADDRESSES_PER_FIELD
from ..policy import Policy
from ..rules import get_rule, rule_error
from ._checks import check_msg_id
from .address import Address, Group, parse_addresses
from .header import Header

__all__ = ["ADDRESS_EXTRAS", "extra_addresses", "structured_extras"]


class _Shape(NamedTuple):
    """What an address field's grammar allows."""

    groups: bool        # address-list, not mailbox-list
    single: bool        # exactly one mailbox
    may_be_empty: bool  # the Bcc form: [address-list / CFWS]


#: extra fields that hold addresses, lower-case name -> grammar
ADDRESS_EXTRAS = {
    # RFC 5322 3.6.6: resent-from is a mailbox-list, resent-sender one
    # mailbox, resent-to/cc address-lists, resent-bcc as bcc
    "resent-from": _Shape(groups=False, single=False, may_be_empty=False),
    "resent-sender": _Shape(groups=False, single=True, may_be_empty=False),
    "resent-to": _Shape(groups=True, single=False, may_be_empty=False),
    "resent-cc": _Shape(groups=True, single=False, may_be_empty=False),
    "resent-bcc": _Shape(groups=True, single=False, may_be_empty=True),
    # RFC 8098 2.1: mailbox *("," mailbox)
    "disposition-notification-to": _Shape(groups=False, single=False, may_be_empty=False),
    # the mailing-list fields most clients honour: address-lists, as Reply-To
    "mail-followup-to": _Shape(groups=True, single=False, may_be_empty=False),
    "mail-reply-to": _Shape(groups=True, single=False, may_be_empty=False),
}


@functools.lru_cache(maxsize=1024)
def extra_addresses(name: str, value: str, policy: Policy) -> tuple[Address | Group, ...]:
    """The addresses of an extra address field, validated as To's are.

    >>> [str(a) for a in extra_addresses("Resent-To", "Zoë <z@example.com>, b@example.org",
    ...                                  Policy())]
    ['Zoë <z@example.com>', 'b@example.org']
    """
    shape = ADDRESS_EXTRAS[name.lower()]
    items = parse_addresses(value, name)
    if not items and not shape.may_be_empty:
        raise rule_error("invalid-address-list", field=name, value=value,
                         reason="the field has no address", index=0)
    groups = [i for i in items if "members" in i]
    if groups and not shape.groups:
        raise rule_error("invalid-address-list", field=name, value=value,
                         reason=f"{name} takes mailboxes, not groups", index=0)
    if shape.single and len(items) != 1:
        raise rule_error("invalid-address-list", field=name, value=value,
                         reason=f"{name} takes exactly one mailbox, not {len(items)}", index=0)
    out: list[Address | Group] = []
    context = {"policy": policy}
    for item in items:
        kind: type[Address] | type[Group] = Group if "members" in item else Address
        try:
            out.append(kind.model_validate(item, context=context))
        except ValidationError as exc:
            # The address's own error, told of this field.
            err = exc.errors()[0]
            try:
                rule = get_rule(err["type"])
            except KeyError:
                raise rule_error("invalid-address-list", field=name, value=value,
                                 reason=err["msg"], index=0) from None
            raise rule.error(**{**err.get("ctx", {}), "field": name}) from None
    count = sum(len(a.members) if isinstance(a, Group) else 1 for a in out)
    if count > MAX_ADDRESSES_PER_FIELD:
        raise rule_error("too-many-addresses", field=name, count=count,
                         limit=MAX_ADDRESSES_PER_FIELD)
    return tuple(out)


def _structured(h: Header, policy: Policy) -> Header:
    key = h.name.lower()
    if key in ADDRESS_EXTRAS:
        # Kept in the form it is written in and read back as, so that a
        # message survives to_bytes and from_bytes unchanged.
        text = ", ".join(str(a) for a in extra_addresses(h.name, h.value, policy))
    elif key == "resent-date":
        reading = read_date(h.value)
        problem = reading.problem or (
            "it is in the obsolete form of RFC 5322 4.3, which must not be written"
            if reading.obsolete else None)
        if problem is not None:
            raise rule_error("invalid-date", field=h.name, reason=problem)
        text = h.value
    elif key == "resent-message-id":
        text = check_msg_id(h.value, h.name)
    else:
        return h
    return h if text == h.value else Header.model_construct(name=h.name, value=text)


def structured_extras(headers: Sequence[Header], policy: Policy) -> list[Header]:
    """The message's extra fields, those with a grammar checked by it and
    kept in their written form; raises the rule error of the first that breaks it."""
    return [_structured(h, policy) for h in headers]
