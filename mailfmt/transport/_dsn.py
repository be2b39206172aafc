"""Delivery status notifications (RFC 3461): what a sender asks the server for.

A :class:`DSN` says when the recipients' servers should report back to the
envelope sender (NOTIFY), how much of the message a report returns (RET),
and an envelope identifier the report quotes (ENVID). It travels as MAIL and
RCPT parameters, only to a server that offers the DSN extension: one that
does not would drop the request, and the sender would wait for reports that
never come, so sending with one is refused there, before MAIL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .._limits import DSN_MAIL_ROOM, DSN_RCPT_ROOM, MAX_DSN_ENVID, MAX_DSN_ORCPT
from ..errors import LocalProtocolError

__all__ = ["DSN", "NOTIFY_WHEN", "mail_room", "rcpt_room", "unxtext", "xtext"]

#: RFC 3461 4.1: the conditions NOTIFY may name (or NEVER, alone)
NOTIFY_WHEN = ("success", "failure", "delay")
# The parameters that give a MAIL or RCPT line the room above.
_MAIL_KEYS = ("RET=", "ENVID=")
_RCPT_KEYS = ("NOTIFY=", "ORCPT=")


def xtext(value: str) -> str:
    """RFC 3461 4: "+" and "=", and anything outside "!" to "~", as "+" and
    two upper-case hex digits. The value must be ASCII.

    >>> xtext("a+b=c d@example.com")
    'a+2Bb+3Dc+20d@example.com'
    """
    return "".join(c if "!" <= c <= "~" and c not in "+=" else f"+{ord(c):02X}" for c in value)


_XTEXT = re.compile(r"(?:[!-*,-<>-~]|\+[0-9A-F]{2})*")
_HEXCHAR = re.compile(r"\+([0-9A-F]{2})")


def unxtext(value: str) -> str:
    """The text an xtext value (RFC 3461 4) stands for; ValueError when it is
    not xtext (a bare "+" or "=", lower-case hex, a blank or a control).

    >>> unxtext("a+2Bb+3Dc+20d")
    'a+b=c d'
    """
    if not _XTEXT.fullmatch(value):
        raise ValueError(f"{value!r} is not xtext (RFC 3461 4)")
    return _HEXCHAR.sub(lambda m: chr(int(m.group(1), 16)), value)


@dataclass(frozen=True, slots=True)
class DSN:
    """Delivery status notifications to ask for (RFC 3461).

    ``notify``: when each recipient's report is sent: ``"never"``, or any of
    ``"success"``, ``"failure"``, ``"delay"`` (a tuple, or one string with
    commas); None leaves it to the server
    (failures, and maybe delays). ``ret``: ``"full"`` returns the whole
    message in a failure report, ``"hdrs"`` its header only; None leaves it
    to the server. ``envid``: an identifier of printable ASCII that every
    report quotes (Original-Envelope-Id), to match reports to sends.
    ``orcpt``: name each recipient as given (ORCPT), so that a report says
    who it was for even after the server rewrote the address; not for a
    non-ASCII address, which RFC 3461 4.2 cannot carry.

    >>> d = DSN(notify=("failure", "delay"), ret="hdrs", envid="batch 7")
    >>> d.mail_params(), d.rcpt_params("bob@example.org")
    (('RET=HDRS', 'ENVID=batch+207'), ('NOTIFY=FAILURE,DELAY', 'ORCPT=rfc822;bob@example.org'))
    """

    notify: str | tuple[str, ...] | None = None
    ret: Literal["full", "hdrs"] | None = None
    envid: str | None = None
    orcpt: bool = True

    def __post_init__(self) -> None:
        if self.notify is not None:
            object.__setattr__(self, "notify", _notify(self.notify))
        if self.ret is not None and self.ret not in ("full", "hdrs"):
            raise ValueError(f"DSN ret must be 'full' or 'hdrs', not {self.ret!r}")
        if self.envid is not None:
            if not self.envid or not all(" " <= c <= "~" for c in self.envid):
                raise ValueError(f"DSN envid must be printable ASCII (RFC 3461 4.4), "
                                 f"not {self.envid!r}")
            if len(xtext(self.envid)) > MAX_DSN_ENVID:
                raise ValueError(f"DSN envid is {len(xtext(self.envid))} characters as xtext "
                                 f"(max {MAX_DSN_ENVID}, RFC 3461 4.4)")

    def mail_params(self) -> tuple[str, ...]:
        """RET and ENVID, for MAIL."""
        out = []
        if self.ret is not None:
            out.append(f"RET={self.ret.upper()}")
        if self.envid is not None:
            out.append(f"ENVID={xtext(self.envid)}")
        return tuple(out)

    def rcpt_params(self, address: str) -> tuple[str, ...]:
        """NOTIFY and ORCPT, for the RCPT of ``address``."""
        out = []
        if self.notify is not None:
            out.append("NOTIFY=" + ",".join(w.upper() for w in self.notify))
        if self.orcpt and address.isascii():
            value = "rfc822;" + xtext(address)
            if len(value) > MAX_DSN_ORCPT:
                raise LocalProtocolError(f"the ORCPT of {address!r} is {len(value)} characters "
                                         f"(max {MAX_DSN_ORCPT}, RFC 3461 4.2)", phase="rcpt")
            out.append("ORCPT=" + value)
        return tuple(out)


def _notify(value: str | Iterable[str]) -> tuple[str, ...]:
    """NOTIFY's conditions in RFC 3461 4.1's order; "never" alone. A string
    may name several, with commas, as NOTIFY writes them."""
    given = value.split(",") if isinstance(value, str) else list(value)
    words = [w.lower() if isinstance(w, str) else w for w in given]
    if words == ["never"]:
        return ("never",)
    bad = [w for w in words if w not in NOTIFY_WHEN]
    if bad or not words:
        raise ValueError("DSN notify must be 'never', or one or more of 'success', 'failure' "
                         f"and 'delay' (RFC 3461 4.1), not {value!r}")
    return tuple(w for w in NOTIFY_WHEN if w in words)


def _has(params: tuple[str, ...], keys: tuple[str, ...]) -> bool:
    return any(p.upper().startswith(keys) for p in params)


def mail_room(params: tuple[str, ...]) -> int:
    """How much longer than 512 octets a MAIL line with ``params`` may be."""
    return DSN_MAIL_ROOM if _has(params, _MAIL_KEYS) else 0


def rcpt_room(params: tuple[str, ...]) -> int:
    """How much longer than 512 octets a RCPT line with ``params`` may be."""
    return DSN_RCPT_ROOM if _has(params, _RCPT_KEYS) else 0
