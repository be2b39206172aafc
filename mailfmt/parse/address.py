"""A strict, linear RFC 5322 section 3.4 address-list parser.

It reads mailboxes (``addr-spec`` or ``[phrase] <addr-spec>``) and groups
(``phrase: mailbox-list;``). It does not recover: input that is not plainly
one of these raises :class:`AddressSyntaxError` with the character index, so
that no two readers can extract different recipients from it
(CVE-2023-27043). Strict mode (for building messages) refuses comments and the
obsolete forms; lenient mode (for the linter) skips comments, which are valid
CFWS, and reads routes, empty list elements and blanks or comments inside an
addr-spec, noting where they were. The addr-spec itself is validated by the
caller (email-validator).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from .._grammar import ENCODED_WORD
from ..format.encoded_word import EncodedWordError, decode_words

__all__ = [
    "AddressSyntaxError",
    "ParsedGroup",
    "ParsedMailbox",
    "parse_address_list",
    "parse_address_list_lenient",
]


class AddressSyntaxError(ValueError):
    def __init__(self, reason: str, index: int) -> None:
        super().__init__(f"{reason} at character {index}")
        self.reason = reason
        self.index = index


@dataclass(frozen=True, slots=True)
class ParsedMailbox:
    display_name: str | None
    addr_spec: str
    index: int
    #: where the addr-spec starts in the text
    spec_index: int = 0


@dataclass(frozen=True, slots=True)
class ParsedGroup:
    display_name: str
    members: list[ParsedMailbox] = field(default_factory=list)
    index: int = 0


# One token per match: whitespace, a quoted string, a comment opener, an
# atom-ish run (atext plus '.', which obs-phrase allows and addr-spec needs),
# a special, or anything else (an error).
_TOKEN = re.compile(
    r"""(?P<ws>[ \t]+)
      | (?P<qs>"(?:[^"\\\r\n]|\\[\x01-\x7f\u0080-\U0010ffff])*")
      | (?P<atom>[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.\u0080-\U0010ffff]+)
      | (?P<special>[<>@,:;\[\]])
      | (?P<comment>\()
      | (?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _skip_comment(text: str, start: int) -> int:
    """End of the (possibly nested) comment opening at ``start`` (RFC 5322 3.2.2)."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise AddressSyntaxError("unterminated comment", start)


def _tokens(text: str, lenient: bool = False,
            comments: list[tuple[int, int]] | None = None) -> list[tuple[str, str, int]]:
    """The tokens of ``text``; in lenient mode comments are skipped, and
    their (start, end) added to ``comments`` when it is given."""
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m is not None  # the pattern ends in a catch-all
        kind = m.lastgroup or "other"
        if kind == "comment":
            if not lenient:
                raise AddressSyntaxError("comments are not supported in addresses", m.start())
            pos = _skip_comment(text, m.start())
            if comments is not None:
                comments.append((m.start(), pos))
            continue
        pos = m.end()
        if kind == "other":
            if m.group() == '"':
                raise AddressSyntaxError("unterminated quoted string", m.start())
            raise AddressSyntaxError(f"unexpected character {m.group()!r}", m.start())
        if kind == "special" and m.group() in "[]":
            raise AddressSyntaxError("domain literals are not supported", m.start())
        out.append((kind, m.group(), m.start()))
    return out


def _phrase(words: list[tuple[str, str, int]]) -> str:
    """Join phrase words: one space between words, none between encoded words."""
    parts: list[str] = []
    prev_ew = False
    for kind, text, pos in words:
        if kind == "qs":
            value = _UNESCAPE.sub(r"\1", text[1:-1])
            is_ew = False
        elif ENCODED_WORD.fullmatch(text):
            try:
                value = decode_words(text)
            except EncodedWordError as exc:
                raise AddressSyntaxError(f"malformed encoded word: {exc.reason}", pos) from None
            is_ew = True
        else:
            value = text
            is_ew = False
        if parts and not (is_ew and prev_ew):
            parts.append(" ")
        parts.append(value)
        prev_ew = is_ew
    return "".join(parts)


class _Parser:
    def __init__(self, text: str, lenient: bool = False, comment_names: bool = False) -> None:
        self.text = text
        self.lenient = lenient
        #: (start, end) of each comment, when a bare addr-spec takes its name from one
        self.comments: list[tuple[int, int]] | None = [] if comment_names else None
        self._next_comment = 0
        self.toks = [t for t in _tokens(text, lenient, self.comments) if t[0] != "ws"]
        self.i = 0
        #: what lenient mode read that a writer must or should not write:
        #: (rule name, what, index), for the linter
        self.notes: list[tuple[str, str, int]] = []

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def at(self, special: str) -> bool:
        t = self.peek()
        return t is not None and t[0] == "special" and t[1] == special

    def pos(self) -> int:
        t = self.peek()
        return t[2] if t else len(self.text)

    def expect(self, special: str, what: str) -> None:
        if not self.at(special):
            raise AddressSyntaxError(f"expected {what}", self.pos())
        self.i += 1

    def words(self) -> list[tuple[str, str, int]]:
        out = []
        while (t := self.peek()) is not None and t[0] in ("atom", "qs"):
            out.append(t)
            self.i += 1
        return out

    def addr_spec(self, words: list[tuple[str, str, int]], start: int) -> str:
        """local-part '@' domain, with the local part already read into ``words``."""
        local = self._dotted(words)
        if local is None:
            raise AddressSyntaxError("expected one local part before '@'", start)
        at = self.pos()
        self.expect("@", "'@'")
        domain = self.words()
        if self.lenient and words and domain:
            # RFC 5322 3.4.1: comments and FWS SHOULD NOT be used around the
            # "@" (tokens are raw text, so a gap is what was skipped).
            _, last, last_at = words[-1]
            gap = (last_at + len(last), at) if last_at + len(last) < at \
                else (at + 1, domain[0][2])
            if gap[0] < gap[1]:
                what = "a comment" if "(" in self.text[gap[0]:gap[1]] else "blanks"
                self.notes.append(("cfws-around-at", what, gap[0]))
        dom = self._dotted(domain) if all(k == "atom" for k, _, _ in domain) else None
        if dom is None:
            raise AddressSyntaxError("expected a domain after '@'", self.pos())
        if self.at("@"):
            raise AddressSyntaxError("more than one '@'", self.pos())
        return local + "@" + dom

    def _dotted(self, words: list[tuple[str, str, int]]) -> str | None:
        """The words of a local part or domain as one string, or None. One
        word in strict mode; in lenient mode also RFC 5322 4.4's obs-local-part
        and obs-domain, whose words and dots may have blanks or comments
        between them ("john . q . public", "machine(comment).  example"):
        read joined, and noted."""
        if len(words) == 1:
            return words[0][1]
        if not self.lenient or not words:
            return None
        for (_, left, _), (_, right, _) in itertools.pairwise(words):
            if not (left.endswith(".") or right.startswith(".")):
                return None     # two words with nothing but a blank between
        self.notes.append(("obsolete-syntax", "blanks or comments inside an addr-spec",
                           words[0][2]))
        return "".join(text for _, text, _ in words)

    def mailbox(self, words: list[tuple[str, str, int]], start: int) -> ParsedMailbox:
        if self.at("<"):
            self.i += 1
            if self.at("@"):
                if not self.lenient:
                    raise AddressSyntaxError("source routes are not supported", self.pos())
                self.route()
            inner_start = self.pos()
            spec = self.addr_spec(self.words(), inner_start)
            self.expect(">", "'>'")
            name = _phrase(words) if words else None
            return ParsedMailbox(name or None, spec, start, inner_start)
        if self.at("@"):
            spec = self.addr_spec(words, start)
            return ParsedMailbox(self.comment_name(), spec, start, start)
        if not words:
            raise AddressSyntaxError("expected an address", self.pos())
        raise AddressSyntaxError("expected '@' or '<'", self.pos())

    def comment_name(self) -> str | None:
        """With comment_names: the text of the comments between the addr-spec
        just read and the next token (``john@example.com (John Doe)``), as
        the display name the mailbox otherwise lacks; the stdlib's parseaddr
        reads it so too."""
        comments = self.comments
        if not comments:
            return None
        _, last, at = self.toks[self.i - 1]
        after, before = at + len(last), self.pos()
        # Mailboxes come in order: the comments before this one are passed
        # for good (a scan from the start each time would be quadratic).
        k = self._next_comment
        while k < len(comments) and comments[k][0] < after:
            k += 1
        texts = []
        while k < len(comments) and comments[k][0] < before:
            a, b = comments[k]
            texts.append(_UNESCAPE.sub(r"\1", self.text[a + 1:b - 1]))
            k += 1
        self._next_comment = k
        name = " ".join(" ".join(texts).split())
        return name or None

    def route(self) -> None:
        """obs-route = obs-domain-list ":" (RFC 5322 4.4), read and noted."""
        self.notes.append(("obsolete-syntax", "a source route", self.pos()))
        while self.at("@") or self.at(","):
            self.i += 1
            if self.peek() is not None and self.peek()[0] == "atom":  # type: ignore[index]
                self.i += 1
        self.expect(":", "':' after the route")

    def address_list(self, *, allow_groups: bool) -> list[ParsedMailbox | ParsedGroup]:
        items: list[ParsedMailbox | ParsedGroup] = []
        if self.peek() is None:
            return items
        while True:
            while self.lenient and self.at(","):
                # obs-addr-list allows empty elements (RFC 5322 4.4)
                self.notes.append(("obsolete-syntax", "an empty list element", self.pos()))
                self.i += 1
            if self.lenient and self.peek() is None:
                return items
            start = self.pos()
            words = self.words()
            if self.at(":"):
                if not allow_groups:
                    raise AddressSyntaxError("a group is not allowed here", start)
                if not words:
                    raise AddressSyntaxError("a group needs a display name", start)
                self.i += 1
                members: list[ParsedMailbox] = []
                if not self.at(";"):
                    while True:
                        mstart = self.pos()
                        members.append(self.mailbox(self.words(), mstart))
                        if self.at(","):
                            self.i += 1
                            continue
                        break
                self.expect(";", "';' to end the group")
                items.append(ParsedGroup(_phrase(words), members, start))
            else:
                items.append(self.mailbox(words, start))
            if self.peek() is None:
                return items
            self.expect(",", "',' between addresses")
            if self.peek() is None:
                raise AddressSyntaxError("expected an address after ','", self.pos())


def parse_address_list(
    text: str, *, allow_groups: bool = True
) -> list[ParsedMailbox | ParsedGroup]:
    """Parse an address-list strictly. Raises :class:`AddressSyntaxError`."""
    return _Parser(text).address_list(allow_groups=allow_groups)


def parse_address_list_lenient(
    text: str, *, allow_groups: bool = True, comment_names: bool = False
) -> tuple[list[ParsedMailbox | ParsedGroup], list[tuple[str, str, int]]]:
    """Parse as a reader must (comments, obsolete forms) and say, as (rule
    name, what, index), what a writer must not write (obsolete-syntax) or
    should not (cfws-around-at).

    ``comment_names``: a bare addr-spec followed by a comment takes the
    comment's text as its display name (see _Parser.comment_name).
    Raises :class:`AddressSyntaxError` for what no reading makes sense of.
    """
    p = _Parser(text, lenient=True, comment_names=comment_names)
    return p.address_list(allow_groups=allow_groups), p.notes
