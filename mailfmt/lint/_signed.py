"""What the signatures in a header section cover: what ``fmt`` leaves as it is.

DKIM (RFC 6376) signs the body and the header fields its ``h=`` tag names,
the DKIM-Signature field itself included (3.5, 3.7). Under the "simple"
header canonicalization (3.4.1) any change to a signed field breaks the
signature; under "relaxed" (3.4.2) fields are unfolded and runs of blanks
made one before hashing, so a change of folding alone keeps it. No body
canonicalization survives a re-encoding (3.4.3, 3.4.4 ignore only blanks
and trailing empty lines), so a signed body is left as it is whole. Line
endings are not part of the question: signatures are computed over the
CRLF form the message travels in.

ARC (RFC 8617) adds ARC-Message-Signature, which signs as DKIM-Signature
does (4.1.2), and ARC-Seal, which signs the ARC fields with the relaxed
header canonicalization (5.1.1).

multipart/signed (RFC 1847 2.1) is read by the MIME walk in fix.py: its
first part is signed whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .source import Field

__all__ = ["Signatures", "read_signatures"]

# RFC 8617 4.1: the three fields of an ARC set; ARC-Seal signs them all.
_ARC_FIELDS = ("arc-authentication-results", "arc-message-signature", "arc-seal")


@dataclass(frozen=True)
class Signatures:
    """Why the body, or a field (by lower-case name), may not change."""

    #: why the body may not change at all, or None when it may
    body: str | None = None
    #: fields that may not change at all (the "simple" canonicalization)
    frozen: dict[str, str] = field(default_factory=dict)
    #: fields whose folding alone may change (the "relaxed" one)
    refold_only: dict[str, str] = field(default_factory=dict)


def _tags(value: str) -> dict[str, str]:
    """RFC 6376 3.2 tag=value list; blanks (FWS) around names and values
    dropped. A tag given twice makes the signature invalid (3.2): the first
    is kept, which only matters for what is left alone."""
    out: dict[str, str] = {}
    for spec in value.split(";"):
        name, eq, val = spec.partition("=")
        if eq:
            out.setdefault(name.strip(), val.strip())
    return out


def read_signatures(fields: list[Field]) -> Signatures:
    """The DKIM and ARC signatures among ``fields`` (a message's header
    section), and what they cover."""
    body: str | None = None
    frozen: dict[str, str] = {}
    refold: dict[str, str] = {}
    names = [f.key for f in fields]
    for f in fields:
        if f.key not in ("dkim-signature", "arc-message-signature", "arc-seal"):
            continue
        tags = _tags(f.value)
        kind = "DKIM" if f.key == "dkim-signature" else "ARC"
        why = f"signed by {kind} (d={tags.get('d', '?')[:64]})"
        if f.key == "arc-seal":
            for name in _ARC_FIELDS:
                refold.setdefault(name, why)
            continue
        body = body or why
        # RFC 6376 3.5 c=: header/body, each "simple" (the default) or
        # "relaxed"; one word names the header's. An unreadable h= signs
        # nothing verifiable: every field is kept, the safe reading.
        header_canon = tags.get("c", "simple").partition("/")[0].strip().lower()
        signed = ({n.strip().lower() for n in tags["h"].split(":")} if "h" in tags
                  else set(names))
        signed.add(f.key)
        target = refold if header_canon == "relaxed" else frozen
        for name in signed:
            target.setdefault(name, why)
    for name in frozen:
        refold.pop(name, None)
    return Signatures(body, frozen, refold)
