"""``mailfmt fmt``: rewrite a message into conforming form where that is safe.

What it changes, and why each change keeps what the message says:

- line endings become CRLF: readers (the stdlib included) already treat a
  bare CR or LF as a line break, so they read the same lines;
- header fields with a line over 78 octets are refolded, only by inserting
  CRLF before whitespace that is already there (never inside a quoted
  string): unfolding gives back the same value;
- non-ASCII text in unstructured fields (Subject, Comments, X-*) becomes
  RFC 2047 encoded words of the same UTF-8 text;
- leaf bodies sent as 7bit/8bit with lines over 78 octets, 8-bit octets or
  NUL are re-encoded (quoted-printable for text, base64 otherwise): the
  decoded octets are the same.

It never guesses: a charset it does not know, a binary part, non-ASCII in
an address field or any other structured one (a date, a msg-id), text with
a control character or with encoded words already in it, a section with a
field written "Name :" (which readers disagree on), an unbreakable token
over 998 octets are left as they are, and the lint findings that remain are
reported. It reads the MIME fields the linter reads: the first of each name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .._grammar import FORBIDDEN_IN_VALUE
from .._limits import MAX_HEADER_FIELDS, MAX_MIME_DEPTH
from ..format.fold import Chunk, fold, unstructured_chunks
from ..format.params import ParamError, parse_params, token_value
from ..format.transfer import b64_lines, encode_qp, max_line_length
from ..models.header import MIME_STRUCTURED, is_raw_header
from .checks.headers import ADDRESS_FIELDS
from .checks.mime import _delimiters, first_fields
from .engine import LintConfig, lint
from .source import Field, read_section
from .violation import Violation

__all__ = ["FixResult", "fix"]

_NEWLINES = re.compile(rb"\r\n|\r|\n")
# Structured fields of RFC 5322 3.6 whose grammar has no place for an encoded
# word (RFC 2047 5): a date or a msg-id with one is no longer valid.
_NO_WORDS = frozenset({"date", "resent-date", "message-id", "resent-message-id",
                       "in-reply-to", "references"})

# Message types whose body is a whole message (RFC 2046 5.2.1, RFC 6532 3.7).
_EMBEDDED = frozenset({"message/rfc822", "message/global"})

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|\((?:[^()\\]|\\.)*\)?|[^\s"(]+|\s+')


@dataclass
class FixResult:
    """The rewritten bytes, whether anything changed, and what is left to fix."""

    data: bytes
    changed: bool
    remaining: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def fix(raw: bytes, config: LintConfig | None = None) -> FixResult:
    """Return ``raw`` in conforming form where that is safe (idempotent)."""
    notes: list[str] = []
    if _has_binary_part(raw):
        notes.append("a part is declared binary: line endings left as they are")
        data = raw
    else:
        data = _NEWLINES.sub(b"\r\n", raw)
    out = _fix_entity(data, 0, len(data), notes, top=True)
    remaining = [v for v in lint(out, config).violations if v.severity.value == "error"]
    return FixResult(out, out != raw, remaining, notes)


def _has_binary_part(raw: bytes) -> bool:
    return re.search(rb"(?im)^content-transfer-encoding:[ \t]*binary[ \t]*\r?$", raw) is not None


def _fix_entity(data: bytes, start: int, end: int, notes: list[str], *, top: bool,
                depth: int = 0) -> bytes:
    """The entity ``data[start:end]`` fixed; ``top``: it is a message (the
    whole one, or one embedded in a message/rfc822 part); ``depth``: how many
    multiparts and embedded messages hold it."""
    if depth > MAX_MIME_DEPTH:
        # The linter reports M101 here; a walk this deep has nothing safe to do.
        notes.append(f"parts nested deeper than {MAX_MIME_DEPTH}: left as they are")
        return data[start:end]
    sec = read_section(data, start, end, MAX_HEADER_FIELDS)
    if sec.problems:
        notes.append("the header section has lines that are not fields: left as it is")
        return data[start:end]
    if any(f.obsolete_space for f in sec.fields):
        # RFC 5322 4.5 allows "Name :", but readers disagree (the stdlib
        # takes such a line for the start of the body): rewriting around it
        # could change what one of them reads.
        notes.append("a field with blanks before its colon: left as it is")
        return data[start:end]
    h = first_fields(sec)       # the fields the linter's MIME walk reads
    ctype, params = "text/plain", {"charset": "us-ascii"}
    if "content-type" in h:
        try:
            ctype, params = parse_params(h["content-type"].value)
        except ParamError:
            notes.append("an unreadable Content-Type: part left as it is")
            return data[start:end]
    body = data[sec.body_start:end]
    field_bytes = [_fix_field(data, f, sec.fields, i, sec.body_start, notes)
                   for i, f in enumerate(sec.fields)]
    sep = data[_header_end(sec.fields, data, start, sec.body_start):sec.body_start]
    if ctype.startswith("multipart/"):
        new_body = _fix_multipart(data, sec.body_start, end, params, notes, depth)
        return b"".join(field_bytes) + sep + new_body
    cte_f = h.get("content-transfer-encoding")
    cte = token_value(cte_f.value) if cte_f else "7bit"
    if ctype.startswith("message/"):
        # RFC 2046 5.2.1: a message is never encoded as a whole; an embedded
        # message is fixed as the message it is, other kinds left as they are.
        if ctype in _EMBEDDED and cte in ("7bit", "8bit"):
            new_body = _fix_entity(data, sec.body_start, end, notes, top=True, depth=depth + 1)
            return b"".join(field_bytes) + sep + new_body
        if _needs_reencoding(body):
            notes.append(f"a {ctype} part cannot be re-encoded: left as it is")
        return b"".join(field_bytes) + sep + body
    if cte not in ("7bit", "8bit") or not _needs_reencoding(body):
        return b"".join(field_bytes) + sep + body
    # Re-encode; the transfer encoding field is replaced or added.
    is_text = ctype.startswith("text/")
    if not is_text and ctype != "text/plain" and "content-type" not in h and not top:
        is_text = True
    if top and "content-type" not in h and not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            notes.append("an 8-bit body in an unknown charset: left as it is")
            return b"".join(field_bytes) + sep + body
    encoded, new_cte = (encode_qp(body), "quoted-printable") if is_text \
        else (b64_lines(body), "base64")
    fields = [fb for f, fb in zip(sec.fields, field_bytes, strict=True)
              if f.key != "content-transfer-encoding"]
    extra = f"Content-Transfer-Encoding: {new_cte}\r\n".encode()
    if top and "mime-version" not in h:
        extra = b"MIME-Version: 1.0\r\n" + extra
    if "content-type" not in h:
        charset = "us-ascii" if body.isascii() else "utf-8"
        extra += f'Content-Type: text/plain; charset="{charset}"\r\n'.encode()
    return b"".join(fields) + extra + sep + encoded


def _header_end(fields: list[Field], data: bytes, start: int, body_start: int) -> int:
    """Offset just after the last field's bytes (where the blank line starts)
    in the entity that begins at ``start``."""
    if not fields:
        # No field: all before the body is the blank line, if any (an empty
        # part has none; the CRLF before it ends its delimiter line).
        return start
    last = fields[-1]
    nl = data.find(b"\r\n", last.offset + last.pieces[-1][1])
    while nl != -1 and data[nl + 2:nl + 3] in (b" ", b"\t"):
        nl = data.find(b"\r\n", nl + 2)
    return body_start if nl == -1 else nl + 2


def _needs_reencoding(body: bytes) -> bool:
    return (not body.isascii()) or b"\x00" in body or max_line_length(body) > 78


def _fix_field(data: bytes, f: Field, fields: list[Field], i: int, body_start: int,
               notes: list[str]) -> bytes:
    end = fields[i + 1].offset if i + 1 < len(fields) \
        else _header_end(fields, data, fields[0].offset, body_start)
    raw = data[f.offset:end]
    lines = raw[:-2].split(b"\r\n") if raw.endswith(b"\r\n") else raw.split(b"\r\n")
    longest = max(map(len, lines))
    long = longest > 78
    non_ascii = not raw.isascii()
    if not long and not non_ascii:
        return raw
    try:
        value = raw.split(b":", 1)[1].replace(b"\r\n", b"").decode("utf-8")
    except UnicodeDecodeError:
        notes.append(f"{f.name}: not UTF-8 text: left as it is")
        return raw
    name = f.name
    key = name.lower()
    if non_ascii and (key in ADDRESS_FIELDS or key in _NO_WORDS or is_raw_header(key)
                      or key in MIME_STRUCTURED):
        notes.append(f"{name}: non-ASCII in a structured field: left as it is")
        return raw
    if FORBIDDEN_IN_VALUE.search(value):
        # A control character or a Unicode line break: an encoded word would
        # hide it, not remove it, and a fold may take it for a blank.
        notes.append(f"{name}: a control character in the text: left as it is")
        return raw
    if non_ascii and "=?" in value:
        # Encoded words next to raw 8-bit text: encoding the whole would
        # turn them into literal text for a reader that decoded them.
        notes.append(f"{name}: encoded words and 8-bit text together: left as it is")
        return raw
    stripped = value.strip(" \t")
    if non_ascii:
        chunks = unstructured_chunks(stripped, utf8=False, room=78 - len(name) - 2,
                                     literal=False)
    else:
        chunks = _structured_chunks(stripped)
    try:
        out = fold(name, chunks).encode("ascii")
    except Exception:  # an unbreakable token over 998 octets
        notes.append(f"{name}: a token too long to fold: left as it is")
        return raw
    if not non_ascii:
        # Refolding must not change the unfolded value (a leading space
        # aside), and is worth it only if the longest line gets shorter: a
        # field folded before where this fold may not break (inside what
        # reads as a comment or a quoted string) is left as it is, so that
        # fixing twice gives what fixing once gave.
        if out.split(b":", 1)[1].replace(b"\r\n", b"").strip() != \
                value.encode("utf-8").strip():
            return raw
        if max(map(len, out.split(b"\r\n"))) >= longest:
            return raw
    return out


def _structured_chunks(value: str) -> list[Chunk]:
    """Chunks that fold only before existing whitespace outside quotes/comments."""
    # (whitespace before, the tokens that follow it with none between): each
    # chunk's text is joined once, not grown token by token (quadratic).
    runs: list[tuple[str, list[str]]] = []
    ws = ""
    for tok in _TOKENS.findall(value):
        if tok.isspace():
            ws += tok
            continue
        if runs and not ws:
            runs[-1][1].append(tok)
        else:
            runs.append((ws, [tok]))
        ws = ""
    return [Chunk(w, "".join(toks)) for w, toks in runs]


def _fix_multipart(data: bytes, start: int, end: int, params: dict[str, str],
                   notes: list[str], depth: int) -> bytes:
    boundary = params.get("boundary")
    if not boundary:
        return data[start:end]
    delim = b"--" + boundary.encode("latin-1", "replace")
    opens, close = _delimiters(data, delim, start, end)
    if not opens or close is None:
        notes.append("a multipart without its delimiters: left as it is")
        return data[start:end]
    out = [data[start:opens[0][0]]]
    for i, (dstart, body_start) in enumerate(opens):
        stop = opens[i + 1][0] if i + 1 < len(opens) else close
        # The CRLF before a delimiter is the delimiter's (RFC 2046 5.1.1), but
        # not the one that ends this part's own opening delimiter line: an
        # empty part has none.
        cend = stop - 2 if stop - 2 >= body_start and data[stop - 2:stop] == b"\r\n" \
            else stop
        part = _fix_entity(data, body_start, cend, notes, top=False, depth=depth + 1)
        if re.search(rb"(?m)^" + re.escape(delim), part):
            notes.append("a re-encoded part would contain the boundary: left as it is")
            part = data[body_start:cend]
        out.append(data[dstart:body_start] + part + data[cend:stop])
    out.append(data[close:end])
    return b"".join(out)
