"""ESMTP capabilities from an EHLO reply (RFC 5321 4.1.1.1).

    S: 250-mail.example.com greets client.example.com
    S: 250-PIPELINING
    S: 250-SIZE 10240000
    S: 250-AUTH PLAIN LOGIN
    S: 250-AUTH=PLAIN LOGIN          (the pre-RFC 4954 form some servers add)
    S: 250 SMTPUTF8
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._events import Reply

__all__ = ["Capabilities"]


@dataclass(frozen=True)
class Capabilities:
    """Keywords (upper-cased) and their parameters, as the server offered them."""

    keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_ehlo(cls, reply: Reply) -> Capabilities:
        kw: dict[str, tuple[str, ...]] = {}
        for line in reply.lines[1:]:
            parts = line.split()
            if not parts:
                continue
            key = parts[0].upper()
            if key.startswith("AUTH="):
                kw["AUTH"] = tuple(sorted({*kw.get("AUTH", ()), key[5:],
                                           *(p.upper() for p in parts[1:])}))
                continue
            params = tuple(p.upper() for p in parts[1:]) if key == "AUTH" else tuple(parts[1:])
            if key == "AUTH":
                params = tuple(sorted({*kw.get("AUTH", ()), *params}))
            kw[key] = params
        return cls(kw)

    def has(self, keyword: str) -> bool:
        # Keywords are stored upper-cased, and callers mostly ask in capitals.
        return keyword in self.keywords or keyword.upper() in self.keywords

    @property
    def size(self) -> int | None:
        """The SIZE limit (RFC 1870); None if not offered or unlimited (0)."""
        p = self.keywords.get("SIZE")
        if p is None or not p or not p[0].isdigit():
            return None
        return int(p[0]) or None

    @property
    def auth(self) -> frozenset[str]:
        return frozenset(self.keywords.get("AUTH", ()))
