"""Serialization options, passed explicitly or through the validation context."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo

from ._limits import MAX_LINE, RECOMMENDED_LINE

__all__ = ["Policy", "policy_from"]


class Policy(BaseModel):
    """How a message is written.

    >>> Policy(utf8=True).utf8
    True

    ``utf8``: write UTF-8 in header fields (RFC 6532) and 8bit bodies instead
    of RFC 2047 encoded words and quoted-printable; such a message needs a
    server that offers SMTPUTF8. Non-ASCII local parts need it.

    ``test_environment``: accept addresses in the special-use domain ``test``
    and its subdomains (RFC 6761), as email-validator's option of that name.

    ``max_line_length``: fold header fields and encode body text so that lines
    stay within this many octets where the grammar allows (RFC 5322 2.1.1
    SHOULD: 78). Never above 998.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    utf8: bool = False
    test_environment: bool = False
    max_line_length: int = Field(default=RECOMMENDED_LINE, ge=RECOMMENDED_LINE, le=MAX_LINE)


_DEFAULT = Policy()


def policy_from(info: ValidationInfo | None, explicit: Any = None) -> Policy:
    """The policy in force: explicit, else ``context["policy"]``, else the default."""
    if isinstance(explicit, Policy):
        return explicit
    ctx = info.context if info is not None else None
    if isinstance(ctx, dict):
        p = ctx.get("policy")
        if isinstance(p, Policy):
            return p
        if isinstance(p, dict):
            return Policy.model_validate(p)
    return _DEFAULT
