"""MIME structure and transfer encoding rules (M and E rules in bodies)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from types import MappingProxyType

from ..._grammar import BCHARS, HIGH_OCTET, MIME_TOKEN
from ..._limits import MAX_HEADER_FIELDS, MAX_MIME_DEPTH, MAX_MIME_PARTS
from ..._msgid import unfold_ids
from ...format.params import (
    ParamError,
    blank_comments,
    nonstandard_params,
    parse_params_view,
    token_value,
)
from ...format.transfer import qp_trailing_blank
from ...models.header import MIME_SINGLETONS
from .._shared import lines_over
from ..context import Context
from ..plain import plain_part
from ..source import Field, Section, read_section
from .headers import charset_known, check_duplicates, check_ids, check_section_syntax

__all__ = ["check_entity", "first_fields"]

_KNOWN_CTE = frozenset({"7bit", "8bit", "binary", "quoted-printable", "base64"})
_QP_BAD_ESCAPE = re.compile(rb"=(?![0-9A-Fa-f]{2}|[ \t]*\r?\n|[ \t]*$)")
_B64_BAD = re.compile(rb"[^A-Za-z0-9+/=\r\n]")
_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_VERSION = re.compile(r"([0-9]+)\.([0-9]+)")
# RFC 2045 5.2: no Content-Type means text/plain; charset=us-ascii.
_DEFAULT_PARAMS: Mapping[str, str] = MappingProxyType({"charset": "us-ascii"})
_NO_PARAMS: Mapping[str, str] = MappingProxyType({})


def first_fields(sec: Section) -> dict[str, Field]:
    """The first field of each name in ``sec``, by lower-case name: the one
    the MIME walk reads."""
    out: dict[str, Field] = {}
    for f in sec.fields:
        out.setdefault(f.key, f)
    return out


def check_entity(ctx: Context, top: dict[str, Field], body_start: int, end: int) -> None:
    """Walk the MIME tree from the message's own fields (``first_fields``),
    iteratively."""
    # Each entity: its fields, what to add to their offsets (see plain_part),
    # where its body starts and ends, its part path and depth.
    stack: list[tuple[Mapping[str, Field], int, int, int, str | None, int]] = [
        (top, 0, body_start, end, None, 0)]
    parts = 0
    first = True
    while stack:
        h, delta, body_start, stop, path, depth = stack.pop()
        parts += 1
        if parts > MAX_MIME_PARTS:
            ctx.add("too-many-parts", body_start, part=path, count=parts,
                    limit=MAX_MIME_PARTS)
            return
        if first:
            first = False
            mv = h.get("mime-version")
            if mv is None:
                if "content-type" in h or "content-transfer-encoding" in h:
                    ctx.add("missing-mime-version", (h.get("content-type")
                                                     or h["content-transfer-encoding"]).offset)
            elif mv.value.strip() != "1.0" and not _version_1_0(mv.value):
                ctx.add("invalid-mime-version", mv.value_start(), header=mv.name,
                        value=mv.value.strip()[:40])
        ctf = h.get("content-type")
        ctef = h.get("content-transfer-encoding")
        ctype, params, bad_params, typ, sub, cte, type_ok = _facts(
            None if ctf is None else ctf.value, None if ctef is None else ctef.value)
        # Offsets only where a finding is made: most entities have none.
        if ctf is not None:
            if bad_params is not None:
                ctx.add("invalid-content-type", ctf.offset + delta, header=ctf.name,
                        part=path, value=ctf.value.strip()[:80], reason=bad_params)
            elif (odd := nonstandard_params(ctf.value)) is not None:
                ctx.add("nonstandard-parameter", ctf.offset + delta, header=ctf.name,
                        part=path, field=ctf.name, reason=odd)
            if not type_ok:
                ctx.add("invalid-content-type", ctf.offset + delta, header=ctf.name,
                        part=path, value=ctype,
                        reason="expected type/subtype made of MIME tokens")
        if path is not None and (cid := h.get("content-id")) is not None:
            # A part's Content-ID (RFC 2045 7); the message's own is read with
            # its other header fields.
            check_ids(ctx, cid.shifted(delta), single=True, part=path)
        cdf = h.get("content-disposition")
        if cdf is not None:
            if (bad_cd := _disposition_problem(cdf.value)) is not None:
                ctx.add("invalid-content-type", cdf.offset + delta, header=cdf.name, part=path,
                        value=cdf.value.strip()[:80], reason=bad_cd)
            elif (odd := nonstandard_params(cdf.value)) is not None:
                ctx.add("nonstandard-parameter", cdf.offset + delta, header=cdf.name,
                        part=path, field=cdf.name, reason=odd)
        if ctef is not None and cte not in _KNOWN_CTE:
            ctx.add("unknown-transfer-encoding", ctef.offset + delta, header=ctef.name,
                    part=path or "1", value=cte)
        if ctef is not None and cte in ("quoted-printable", "base64") and \
                typ in ("multipart", "message"):
            # RFC 2045 6.4, RFC 2046 5.2: composite types are never encoded whole
            ctx.add("encoded-multipart", ctef.offset + delta, header=ctef.name,
                    part=path, type=typ, subtype=sub, value=cte)
        if typ == "multipart":
            assert ctf is not None      # the default type is text/plain
            if depth >= MAX_MIME_DEPTH:
                ctx.add("mime-too-deep", body_start, part=path, depth=depth + 1,
                        limit=MAX_MIME_DEPTH)
                continue
            children = _split_multipart(ctx, body_start, stop, params, sub, path, ctf,
                                        ctf.offset + delta)
            entities = []
            for i, (start, cend) in enumerate(children, 1):
                child_path = f"{path}.{i}" if path else str(i)
                plain = plain_part(ctx.raw, start, cend)
                if plain is None:
                    csec = read_section(ctx.raw, start, cend, MAX_HEADER_FIELDS)
                    check_section_syntax(ctx, csec, child_path)
                    check_duplicates(ctx, csec.fields, MIME_SINGLETONS, child_path)
                    plain = first_fields(csec), 0, csec.body_start
                entities.append((*plain, cend, child_path, depth + 1))
            if sub == "related" and entities:
                reason = _related_problem(params, [e[0] for e in entities])
                if reason is not None:
                    ctx.add("invalid-related-type", ctf.offset + delta, header=ctf.name,
                            part=path, reason=reason)
            stack.extend(reversed(entities))
            continue
        _check_leaf(ctx, body_start, stop, cte, typ, params, path,
                    body_start if ctf is None else ctf.offset + delta)


def _related_problem(params: Mapping[str, str],
                     children: list[Mapping[str, Field]]) -> str | None:
    """What is wrong with a multipart/related's type and start parameters
    (RFC 2387 3.1, 3.2), given its parts' fields; None when nothing is."""
    declared = params.get("type")
    if declared is None:
        return "has no type parameter (RFC 2387 3.1 requires the root part's type)"
    root = children[0]
    start = params.get("start")
    if start is not None:
        want = unfold_ids(start)
        named = [c for c in children
                 if (cid := c.get("content-id")) is not None and unfold_ids(cid.value) == want]
        if not named:
            return f"has start={start[:80]!r}, which is no part's Content-ID"
        root = named[0]
    ctf = root.get("content-type")
    actual = _facts(None if ctf is None else ctf.value, None)[0]
    if declared.strip().lower() != actual:
        return f"has type={declared[:80]!r}, but its root part is {actual}"
    return None


def _version_1_0(value: str) -> bool:
    """RFC 2045 4: version := "MIME-Version" ":" 1*DIGIT "." 1*DIGIT, with
    comments and blanks anywhere ("1.(produced by MetaSend Vx.x)0" is its own
    example); 1.0 is the version it defines."""
    m = _VERSION.fullmatch("".join(blank_comments(value).split()))
    return m is not None and int(m.group(1)) == 1 and int(m.group(2)) == 0


@functools.lru_cache(maxsize=256)
def _disposition_problem(value: str) -> str | None:
    """What is wrong with a Content-Disposition value (RFC 2183 2: a token,
    then parameters as Content-Type's), or None. The parser reads its
    filename, RFC 2231 and RFC 2047 forms included, and refuses what this
    refuses."""
    try:
        disposition, _ = parse_params_view(value)
    except ParamError as exc:
        return str(exc)
    if not MIME_TOKEN.fullmatch(disposition):
        return f"the disposition {disposition[:40]!r} is not a token"
    return None


@functools.lru_cache(maxsize=512)
def _facts(ct: str | None, cte: str | None) -> tuple[str, Mapping[str, str], str | None,
                                                     str, str, str, bool]:
    """What an entity's Content-Type and Content-Transfer-Encoding values
    say: (type/subtype, parameters, why the parameters do not parse or None,
    type, subtype, transfer encoding, whether type and subtype are MIME
    tokens). Kept per value pair: parts repeat their fields from message to
    message."""
    ctype, params, bad = "text/plain", _DEFAULT_PARAMS, None
    if ct is not None:
        try:
            ctype, params = parse_params_view(ct)
        except ParamError as exc:
            ctype, params, bad = "text/plain", _NO_PARAMS, str(exc)
    typ, slash, sub = ctype.partition("/")
    # RFC 2045 5.1: type "/" subtype, each a token (no tspecials, blanks or controls)
    type_ok = bool(slash and MIME_TOKEN.fullmatch(typ) and MIME_TOKEN.fullmatch(sub))
    return (ctype, params, bad, typ, sub, "7bit" if cte is None else token_value(cte),
            type_ok)


def _split_multipart(ctx: Context, body_start: int, stop: int, params: Mapping[str, str],
                     sub: str, path: str | None, ctf: Field,
                     ct_at: int) -> list[tuple[int, int]]:
    """The (start, end) of each body part; ``ct_at`` is where the entity's
    Content-Type field ``ctf`` is."""
    boundary = params.get("boundary")
    if not boundary:
        ctx.add("multipart-without-boundary", ct_at, header=ctf.name, part=path,
                subtype=sub)
        return []
    if not BCHARS.fullmatch(boundary):
        # RFC 2046 5.1.1: boundary := 0*69<bchars> bcharsnospace
        ctx.add("invalid-content-type", ct_at, header=ctf.name, part=path,
                value=ctf.value.strip()[:80],
                reason=f"the boundary {boundary[:75]!r} is not 1 to 70 of RFC 2046's "
                       "boundary characters, the last not a blank")
    delim = b"--" + boundary.encode("latin-1", "replace")
    opens, close = _delimiters(ctx.raw, delim, body_start, stop)
    if not opens:
        ctx.add("boundary-not-found", ct_at, header=ctf.name, part=path,
                kind="first", subtype=sub)
        return []
    if close is None:
        ctx.add("boundary-not-found", ct_at, header=ctf.name, part=path,
                kind="closing", subtype=sub)
    end_of_last = close if close is not None else stop
    out = []
    for i, (_, body_start) in enumerate(opens):
        cend = opens[i + 1][0] if i + 1 < len(opens) else end_of_last
        # The line break before a delimiter belongs to the delimiter.
        if cend > body_start and ctx.raw[cend - 1] == 0x0A:
            cend -= 2 if cend - 2 >= body_start and ctx.raw[cend - 2] == 0x0D else 1
        out.append((body_start, max(cend, body_start)))
    return out


def _delimiters(raw: bytes, delim: bytes, start: int,
                stop: int) -> tuple[list[tuple[int, int]], int | None]:
    """Delimiter lines (RFC 2046 5.1.1) in ``raw[start:stop]``, found leniently
    (LF or CRLF endings, transport padding): the (start, end) of each opening
    delimiter line, and the start of the closing one. bytes.find does the
    scanning, so this is linear at C speed.
    """
    opens: list[tuple[int, int]] = []
    find = raw.find
    pos = find(delim, start, stop)
    n = len(delim)
    while pos != -1:
        after = pos + n
        if pos == start or raw[pos - 1] == 0x0A:
            closing = raw[after:after + 2] == b"--"
            if closing:
                after += 2
            eol = find(b"\n", after, stop)
            rest = raw[after:stop if eol == -1 else eol]
            if not rest.strip(b" \t\r"):
                if closing:
                    return opens, pos
                opens.append((pos, stop if eol == -1 else eol + 1))
        pos = find(delim, pos + n, stop)
    return opens, None


def _check_leaf(ctx: Context, start: int, stop: int, cte: str, typ: str,
                params: Mapping[str, str], path: str | None, ct_at: int) -> None:
    """The body ``raw[start:stop]`` of a leaf; ``ct_at``: where its
    Content-Type field is (its body's start when it has none)."""
    raw = ctx.raw
    part = path or "1"
    if typ == "text" and "charset" in params and not charset_known(params["charset"]):
        ctx.add("unknown-charset", ct_at, header="Content-Type", part=part,
                value=params["charset"])
    if cte in ("7bit", "quoted-printable", "base64") or cte not in _KNOWN_CTE:
        m = HIGH_OCTET.search(raw, start, stop) if not raw[start:stop].isascii() else None
        if m:
            ctx.add("8bit-without-declaration", m.start(), part=part, encoding=cte)
    if cte == "quoted-printable":
        m = _QP_BAD_ESCAPE.search(raw, start, stop)
        if m:
            ctx.add("invalid-quoted-printable", m.start(), part=part,
                    reason="'=' not followed by two hex digits or a line break")
        blank = qp_trailing_blank(raw, start, stop)
        if blank != -1:
            ctx.add("invalid-quoted-printable", blank, part=part,
                    reason="a line ends in a blank (RFC 2045 6.7 (3): encode it as =20 or =09)")
        _encoded_lines(ctx, start, stop, part, cte)
    elif cte == "base64":
        rest = _check_base64(ctx, start, stop, part)
        if rest is None or not _regular_lines(ctx, start, stop, rest):
            _encoded_lines(ctx, start, stop, part, cte)


def _regular_lines(ctx: Context, start: int, stop: int, rest: bytes) -> bool:
    """Whether ``raw[start:stop]`` is wrapped at one width of at most 76,
    every line but the last ending in CRLF (what every encoder writes) or
    every one in a bare LF (what a Unix mailbox holds). If so, the span up to
    the last line break goes in ``ctx.proven``.

    Proved with strided slices instead of a split: when every (w+2)th octet
    (w+1 for LF endings) ends a record, and ``rest`` (the body's octets
    outside the base64 alphabet, see _check_base64) holds no other line
    ending, every line is w octets long. Then the line rules need not read
    this span at all.
    """
    raw = ctx.raw
    w = raw.find(b"\n", start, stop) - start
    crlf = w > 0 and raw[start + w - 1] == 0x0D
    if crlf:
        w -= 1
    if not 0 < w <= 76:
        return False
    step = w + 2 if crlf else w + 1
    lfs = raw[start + step - 1:stop:step]
    n = len(lfs)
    if rest.count(b"\n") != n or rest.count(b"\r") != (n if crlf else 0) \
            or lfs.count(b"\n") != n \
            or (crlf and raw[start + w:start + n * step:step].count(b"\r") != n):
        return False
    # The last line needs no check: were it longer than w + 1, a stride
    # would fall inside it, on an octet that is not an LF; and w + 1 = 77
    # characters after lines of 76 is no multiple of four, so not valid base64.
    end = start + n * step
    ctx.proven.append((start, end, n, n if crlf else 0))
    return True


def _check_base64(ctx: Context, start: int, stop: int, part: str) -> bytes | None:
    """RFC 2045 6.8; returns the body's octets outside the alphabet when it is
    valid (None when not), which _regular_lines reuses."""
    raw = ctx.raw
    # RFC 2045 6.8, checked in C without decoding: deleting the alphabet
    # leaves the line breaks, at most the final "=" padding, and any stray
    # octet; that remainder is small, and it also gives the character count,
    # which must be a multiple of four.
    body = raw[start:stop]
    rest = body.translate(None, _B64_ALPHABET)
    pad = rest.translate(None, b"\r\n")
    n = len(body) - len(rest) + len(pad)
    if pad in (b"", b"=", b"==") and n % 4 == 0 and (
            not pad or not body[body.find(b"="):].translate(None, b"=\r\n")):
        return rest
    m = _B64_BAD.search(raw, start, stop)
    if m:
        reason = f"{chr(raw[m.start()])!r} is not in the base64 alphabet"
        ctx.add("invalid-base64", m.start(), part=part, reason=reason)
        return None
    if n % 4:
        reason = f"{n} base64 characters is not a multiple of 4"
    else:
        reason = "'=' padding appears before the end of the data"
    ctx.add("invalid-base64", start, part=part, reason=reason)
    return None


def _encoded_lines(ctx: Context, start: int, stop: int, part: str, cte: str) -> None:
    """RFC 2045 6.7 (5) and 6.8: encoded lines of at most 76 characters, the
    CRLF not counted."""
    lines = ctx.raw[start:stop].split(b"\n")
    for pos, length in lines_over(start, lines, 76):
        ctx.add("encoded-line-too-long", pos + 76, part=part, encoding=cte, length=length)
