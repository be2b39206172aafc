"""MIME header parameters: writing them (RFC 2045 quoted strings, RFC 2231
extended and continued values) and reading them back strictly.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections.abc import Mapping
from types import MappingProxyType

from .._grammar import ENCODED_WORD, MIME_TOKEN
from .encoded_word import EncodedWordError, decode_words
from .fold import Chunk

__all__ = ["ParamError", "blank_comments", "nonstandard_params", "param_chunks", "parse_params",
           "parse_params_view", "token_value"]

# RFC 2231 section 7: attribute-char := <any (US-ASCII) CHAR except SPACE,
# CTLs, "*", "'", "%", or tspecials>. Everything else is %-encoded.
_ATTR_SAFE = "!#$&+-.^_`|~"
# Longest plain quoted value; continuation lines are cut so that
# ' name*12*=' + segment + ';' stays within 78 octets.
_PLAIN_MAX = 60
_LINE = 78


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def param_chunks(name: str, value: str, *, utf8: bool = False) -> list[Chunk]:
    """Chunks for ``; name=value``: quoted when short and ASCII, RFC 2231 otherwise.

    Each chunk is preceded by a space; continuation sections are separated by
    ';' and the caller adds the ';' before the first one. With ``utf8``
    (RFC 6532) non-ASCII is written as it is.
    """
    # Quoted only when nothing needs escaping: readers disagree about
    # quoted-pairs (CPython unquotes '"\\"\\""' to ''), RFC 2231's %XX is exact.
    # Nor when it holds "=?": readers decode encoded words in quoted values
    # (RFC 2047 5 forbids them there, but clients write them), RFC 2231's never.
    if (value.isascii() or utf8) and len(value) <= _PLAIN_MAX and '"' not in value \
            and "\\" not in value and "=?" not in value:
        return [Chunk(" ", f"{name}={_quote(value)}")]
    encoded = urllib.parse.quote(value, safe=_ATTR_SAFE, encoding="utf-8")
    single = f"{name}*=utf-8''{encoded}"
    if len(single) + 2 <= _LINE:
        return [Chunk(" ", single)]
    out: list[Chunk] = []
    pos = 0
    while pos < len(encoded):
        prefix = f"{name}*{len(out)}*=" + ("utf-8''" if not out else "")
        room = max(_LINE - 2 - len(prefix), 12)  # the space before, the ';' after
        end = min(pos + room, len(encoded))
        # never split a %XX escape
        pct = encoded.rfind("%", max(pos, end - 2), end)
        if pct != -1 and end < len(encoded):
            end = pct
        # nor a character: readers that decode each section alone (CPython)
        # find half a UTF-8 sequence; a continuation octet is 0x80-0xBF
        while end < len(encoded) and end - 3 > pos and encoded[end] == "%" \
                and encoded[end + 1] in "89AB":
            end -= 3
        out.append(Chunk(" ", f"{prefix}{encoded[pos:end]};"))
        pos = end
    last = out[-1]
    out[-1] = Chunk(last.ws, last.text[:-1])
    return out


class ParamError(ValueError):
    """A Content-Type / Content-Disposition value that does not parse."""


# RFC 2045 5.1 / RFC 5322 3.2.4 quoted-string: runs of plain characters
# between quoted pairs (unrolled: a run is one step for the regex engine,
# where an alternation inside the repeat would be one step per character).
_QUOTED = re.compile(r'"([^"\\\r\n]*(?:\\.[^"\\\r\n]*)*)"')
_PARAM = re.compile(r"\s*;\s*([!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+)\s*=\s*")
_HEAD = re.compile(r"\s*([^;\s]+)\s*")
_QUOTED_PAIR = re.compile(r"\\(.)")
_SECTION = re.compile(r"^(?P<name>[^*]+)(?:\*(?P<num>[0-9]+))?(?P<ext>\*)?$")


def blank_comments(value: str) -> str:
    """``value`` with each comment outside a quoted string turned into as many
    blanks (so positions in it still hold). RFC 2045 5.1 allows comments in
    MIME's structured fields as RFC 822 does; its own example is
    ``text/plain; charset=us-ascii (Plain text)``. Comments nest and take
    quoted pairs (RFC 5322 3.2.2); an unclosed one is left for the grammar
    to refuse.

    >>> blank_comments('text/plain (a "b" (c)); x="(not one)"')
    'text/plain            ; x="(not one)"'
    """
    if "(" not in value:
        return value
    out = list(value)
    depth = 0
    quoted = escaped = False
    start = 0
    for i, c in enumerate(value):
        if escaped:
            escaped = False
        elif c == "\\" and (quoted or depth):
            escaped = True
        elif quoted:
            quoted = c != '"'
        elif c == "(":
            if depth == 0:
                start = i
            depth += 1
        elif depth:
            if c == ")":
                depth -= 1
                if depth == 0:
                    out[start:i + 1] = " " * (i + 1 - start)
        elif c == '"':
            quoted = True
    return "".join(out)


def token_value(value: str) -> str:
    """A MIME field whose value is one token (Content-Transfer-Encoding):
    comments blanked, blanks stripped, lower-cased.

    >>> token_value(" 7BIT (plain)")
    '7bit'
    """
    return blank_comments(value).strip().lower()


@functools.lru_cache(maxsize=1024)
def _parse_cached(value: str) -> tuple[str, Mapping[str, str]] | ParamError:
    try:
        head, params = _parse_params(value)
    except ParamError as exc:
        return exc
    return head, MappingProxyType(params)


def parse_params(value: str) -> tuple[str, dict[str, str]]:
    """Split ``type/subtype; a=b; c*=utf-8''...`` into the lower-cased value and
    its parameters (see :func:`_parse_params`); raises :class:`ParamError`."""
    head, params = parse_params_view(value)
    return head, dict(params)


def parse_params_view(value: str) -> tuple[str, Mapping[str, str]]:
    """:func:`parse_params` with the parameters as a read-only view, shared
    by every caller of the same value (no copy: the linter asks per part)."""
    res = _parse_cached(value)
    if isinstance(res, ParamError):
        raise ParamError(str(res))
    return res


def _parse_params(value: str) -> tuple[str, dict[str, str]]:
    """Split ``type/subtype; a=b; c*=utf-8''...`` into the lower-cased value and
    its parameters (names lower-cased, RFC 2231 continuations joined and
    decoded, RFC 2047 words in quoted values decoded as mail clients do).
    """
    value = blank_comments(value)
    m = _HEAD.match(value)
    if not m:
        raise ParamError("empty value")
    head = m.group(1).lower()
    pos = m.end()
    raw: dict[str, tuple[bool, str]] = {}
    sections: dict[str, dict[int, tuple[bool, str]]] = {}
    while pos < len(value):
        if value[pos:].strip() in ("", ";"):
            break
        pm = _PARAM.match(value, pos)
        if not pm:
            raise ParamError(f"expected ';name=value' at character {pos}")
        pname = pm.group(1).lower()
        pos = pm.end()
        if value.startswith('"', pos):
            qm = _QUOTED.match(value, pos)
            if not qm:
                raise ParamError(f"unterminated quoted string at character {pos}")
            pval = qm.group(1)
            if "\\" in pval:
                pval = _QUOTED_PAIR.sub(r"\1", pval)
            quoted = True
            pos = qm.end()
        else:
            tm = MIME_TOKEN.match(value, pos)
            if not tm:
                raise ParamError(f"expected a token or quoted string at character {pos}")
            pval = tm.group(0)
            quoted = False
            pos = tm.end()
        # RFC 2231 sections are named "name*", "name*0", "name*0*".
        sm = _SECTION.match(pname) if "*" in pname else None
        if sm and (sm.group("num") is not None or sm.group("ext")):
            base = sm.group("name")
            num = int(sm.group("num") or 0)
            bucket = sections.setdefault(base, {})
            if num in bucket:
                raise ParamError(f"parameter {pname!r} given twice")
            bucket[num] = (bool(sm.group("ext")), pval)
        else:
            if pname in raw:
                raise ParamError(f"parameter {pname!r} given twice")
            raw[pname] = (quoted, pval)
    params: dict[str, str] = {}
    for pname, (quoted, pval) in raw.items():
        if quoted and "=?" in pval:
            try:
                pval = decode_words(pval)
            except EncodedWordError as exc:
                raise ParamError(f"parameter {pname!r}: {exc.reason}") from None
        params[pname] = pval
    for base, bucket in sections.items():
        if sorted(bucket) != list(range(len(bucket))):
            raise ParamError(f"parameter {base!r} has missing continuation sections")
        params[base] = _join_2231(base, [bucket[i] for i in range(len(bucket))])
    return head, params


# RFC 2231 7: an extended value (name*= or name*N*=) is written bare, in its
# own syntax; never a quoted string.
_EXT_QUOTED = re.compile(r";\s*([!#$%&'+\-.0-9A-Z^_`a-z{|}~]+\*(?:[0-9]+\*)?)\s*=\s*\"")


@functools.lru_cache(maxsize=1024)
def nonstandard_params(value: str) -> str | None:
    """Why the parameters of ``value``, which parses, are not written as
    RFC 2231 and RFC 2047 say, though readers take them; None when they are.

    >>> nonstandard_params('attachment; filename="=?utf-8?q?caf=C3=A9.pdf?="')[:30]
    'an RFC 2047 encoded word in a '
    >>> nonstandard_params("attachment; filename*=utf-8''caf%C3%A9.pdf") is None
    True
    """
    if "*" not in value and "=?" not in value:
        return None     # the usual answer
    text = blank_comments(value) if "(" in value else value
    if "*" in text and (m := _EXT_QUOTED.search(text)):
        return (f"parameter {m.group(1)!r} is an RFC 2231 extended value in quotes, "
                "which RFC 2231 7 writes bare")
    semi = text.find(";")
    if semi != -1 and (w := ENCODED_WORD.search(text, semi)):
        return (f"an RFC 2047 encoded word in a parameter ({w.group()[:40]!r}), which RFC "
                "2047 5 forbids: readers that follow RFC 2231 show it as it is")
    return None


def _join_2231(name: str, parts: list[tuple[bool, str]]) -> str:
    charset = "us-ascii"
    pieces: list[bytes] = []
    for i, (ext, text) in enumerate(parts):
        if ext:
            if i == 0:
                bits = text.split("'", 2)
                if len(bits) != 3:
                    raise ParamError(f"parameter {name!r}: missing charset'language' prefix")
                charset = bits[0] or "us-ascii"
                text = bits[2]
            pieces.append(urllib.parse.unquote_to_bytes(text))
        else:
            pieces.append(text.encode("utf-8"))
    try:
        # ValueError: undecodable octets, or a charset name with a NUL
        return b"".join(pieces).decode(charset)
    except (LookupError, ValueError):
        raise ParamError(f"parameter {name!r} is not valid {charset}") from None
