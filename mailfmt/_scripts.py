"""Scripts of the letters in a domain name: the mixed-script test of Unicode
Technical Standard #39 (5.2, "Highly Restrictive"), per label.

A label that mixes scripts (Cyrillic "а" among Latin letters: "аpple") is the
classic look-alike of another domain; UTS #39 allows one script per label,
or Latin with the scripts written together in Japanese, Chinese and Korean.
The script of a letter is read from its Unicode name ("CYRILLIC SMALL LETTER
A"), which names it for every script a domain may hold; digits, hyphens,
marks and the signs shared by Hiragana and Katakana belong to none.

    >>> mixed_label("xn--pple-43d.example.com")
    ('аpple', ('Cyrillic', 'Latin'))
    >>> mixed_label("例え.example.com") is None     # Han and Hiragana: Japanese
    True
"""

from __future__ import annotations

import functools
import unicodedata

__all__ = ["mixed_label"]

# UTS #39 5.2: the combinations of scripts allowed together in one label
_TOGETHER = (frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA"}),
             frozenset({"LATIN", "CJK", "BOPOMOFO"}),
             frozenset({"LATIN", "CJK", "HANGUL"}))
# Unicode names whose first word is not a script
_NO_SCRIPT = frozenset({"KATAKANA-HIRAGANA", "COMBINING", "MODIFIER"})
# the scripts' own names where the Unicode name's first word is not one
_SHOWN = {"CJK": "Han"}


def _script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    first = unicodedata.name(ch, "").split(" ", 1)[0]
    return None if not first or first in _NO_SCRIPT else first


def _u_label(label: str) -> str:
    """The Unicode form of an A-label (RFC 5890 2.3.2.1), else the label."""
    if label[:4].lower() == "xn--":
        try:
            return label[4:].lower().encode("ascii").decode("punycode")
        except (UnicodeError, ValueError):
            return label    # not a valid A-label: the address checks say so
    return label


@functools.lru_cache(maxsize=1024)
def mixed_label(domain: str) -> tuple[str, tuple[str, ...]] | None:
    """The first label of ``domain`` (A-labels read as Unicode) whose letters
    are of scripts not allowed together, with those scripts; None when
    every label keeps to one."""
    for label in domain.split("."):
        text = _u_label(label)
        if text.isascii():
            continue
        scripts = {s for s in map(_script, text) if s is not None}
        if len(scripts) > 1 and not any(scripts <= allowed for allowed in _TOGETHER):
            return text, tuple(sorted(_SHOWN.get(s, s.title()) for s in scripts))
    return None
