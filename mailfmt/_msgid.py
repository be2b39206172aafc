"""Reading msg-id fields (Message-ID, Content-ID, In-Reply-To, References) as
RFC 5322 3.6.4 and 4.5.4 allow them to be written; the linter and the parser
share it.

    >>> unfold_ids(" <a@b.example> (sent by x)")
    '<a@b.example>'
    >>> unfold_ids("<1234   @   local(blah)  .machine .example>")
    '<1234@local.machine.example>'
    >>> unfold_ids("<a b@c.example>")      # two words with no dot: not an id
    '<a b@c.example>'
"""

from __future__ import annotations

import re

from .format.params import blank_comments

__all__ = ["unfold_ids"]

_ANGLED = re.compile(r"<[^<>]*>")
_BLANKS = re.compile(r"[ \t]+")


def unfold_ids(value: str) -> str:
    """``value`` with its comments gone (CFWS, RFC 5322 3.2.2), its blanks
    trimmed, and inside each ``<...>`` the blanks that obs-id-left and
    obs-id-right allow (4.5.4: next to a dot, the "@" or an angle bracket)
    taken out. What is left is read by the msg-id grammar (3.6.4)."""
    text = blank_comments(value) if "(" in value else value
    if " " in text or "\t" in text:
        text = _ANGLED.sub(_join, text)
    return text.strip(" \t")


def _join(m: re.Match[str]) -> str:
    # Each run of blanks is matched once and judged by its neighbours: a
    # look-ahead after a run would make a long run quadratic.
    text = m.group()

    def blank(b: re.Match[str]) -> str:
        before = text[b.start() - 1] if b.start() else ""
        after = text[b.end()] if b.end() < len(text) else ""
        return "" if before in (".", "@", "<") or after in (".", "@", ">") else b.group()
    return _BLANKS.sub(blank, text)
