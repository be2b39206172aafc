"""``mailfmt fmt``: rewrite a message into conforming form where that is safe.

What it changes, and why each change keeps what the message says:

- line endings become CRLF: readers (the stdlib included) already treat a
  bare CR or LF as a line break, so they read the same lines;
- a header field line over 78 octets is broken, only by inserting CRLF
  before whitespace that is already there (never inside a quoted string or
  a comment): unfolding gives back the same value, and every other line,
  and every fold already made, stays as it is;
- non-ASCII text in unstructured fields (Subject, Comments, X-*) becomes
  RFC 2047 encoded words of the same UTF-8 text;
- so do non-ASCII display names in address fields (RFC 2047 5 (3)), each
  addr-spec written as it was: readers decode the names to the same text;
- encoded words there that break RFC 2047 in a way readers read past, a
  character split across two words (5) or a word over 75 characters (2),
  are written again from the text the stdlib reads in them;
- leaf bodies sent as 7bit/8bit with lines over 78 octets, 8-bit octets or
  NUL are re-encoded (quoted-printable for text, base64 otherwise): the
  decoded octets are the same.

It never guesses: a charset it does not know, a binary part, a non-ASCII
address, an address field with a comment or that the strict reader refuses,
non-ASCII in any other structured field (a date, a msg-id), text with
a control character or with encoded words already in it, a section with a
field written "Name :" (which readers disagree on), an unbreakable token
over 998 octets are left as they are, and the lint findings that remain are
reported. It reads the MIME fields the linter reads: the first of each name.

Nor does it break a signature (see _signed.py): a DKIM or ARC signed body,
and the first part of a multipart/signed, are left as they are; a signed
field is only refolded, and only under the relaxed canonicalization. Each
change a signature stops is reported. ``keep_signatures=False`` (``mailfmt
fmt --break-signatures``) makes the changes anyway.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from .._grammar import ENCODED_WORD, FORBIDDEN_IN_VALUE
from .._limits import MAX_HEADER_FIELDS, MAX_MIME_DEPTH
from ..errors import RuleError
from ..format.address import address_list_chunks
from ..format.encoded_word import EncodedWordError, decode_words
from ..format.fold import fold, unstructured_chunks
from ..format.params import ParamError, parse_params, token_value
from ..format.transfer import b64_lines, encode_qp, max_line_length
from ..models.address import as_written
from ..models.header import MIME_STRUCTURED, is_raw_header
from ..parse.address import AddressSyntaxError, ParsedGroup, parse_address_list
from ._signed import Signatures, read_signatures
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
_NO_SIGNATURES = Signatures()
# (multipart subtype, 0 for the first part, 1 for any other): why such a
# part is left byte for byte. RFC 1847 2.1: the signature covers the first
# part of a multipart/signed exactly as it is (RFC 3156 5 and RFC 8551
# 3.5 say so again for PGP and S/MIME); 2.2: a multipart/encrypted holds
# control information and ciphertext, neither of them text to rewrite.
_SIGNED = {("signed", 0): "it is signed (RFC 1847 2.1), and any change breaks the signature",
           ("encrypted", 0): "it is encrypted content (RFC 1847 2.2)",
           ("encrypted", 1): "it is encrypted content (RFC 1847 2.2)"}


@dataclass
class FixResult:
    """The rewritten bytes, whether anything changed, and what is left to fix."""

    data: bytes
    changed: bool
    remaining: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def fix(raw: bytes, config: LintConfig | None = None, *,
        keep_signatures: bool = True) -> FixResult:
    """Return ``raw`` in conforming form where that is safe (idempotent).

    With ``keep_signatures`` (the default) nothing a DKIM, ARC or
    multipart/signed signature covers is changed in a way that breaks it.
    """
    notes: list[str] = []
    if _has_binary_part(raw):
        notes.append("a part is declared binary: line endings left as they are")
        data = raw
    else:
        data = _NEWLINES.sub(b"\r\n", raw)
    out = _fix_entity(data, 0, len(data), notes, top=True, keep=keep_signatures)
    remaining = [v for v in lint(out, config).violations if v.severity.value == "error"]
    return FixResult(out, out != raw, remaining, notes)


def _has_binary_part(raw: bytes) -> bool:
    return re.search(rb"(?im)^content-transfer-encoding:[ \t]*binary[ \t]*\r?$", raw) is not None


def _fix_entity(data: bytes, start: int, end: int, notes: list[str], *, top: bool,
                keep: bool, depth: int = 0) -> bytes:
    """The entity ``data[start:end]`` fixed; ``top``: it is a message (the
    whole one, or one embedded in a message/rfc822 part); ``keep``: keep
    signatures whole; ``depth``: how many multiparts and embedded messages
    hold it."""
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
    sig = read_signatures(sec.fields) if top and keep else _NO_SIGNATURES
    field_bytes = [_keep_signed(_fix_field(old, f.name, notes), old, f.name, sig, notes)
                   for old, f in zip(_field_bytes(data, sec.fields, start, sec.body_start),
                                     sec.fields, strict=True)]
    sep = data[_header_end(sec.fields, data, start, sec.body_start):sec.body_start]
    if ctype.startswith("multipart/"):
        new_body = _fix_multipart(data, sec.body_start, end, ctype.partition("/")[2], params,
                                  notes, keep, depth)
        return b"".join(field_bytes) + sep + _keep_body(new_body, body, sig, notes)
    cte_f = h.get("content-transfer-encoding")
    cte = token_value(cte_f.value) if cte_f else "7bit"
    if ctype.startswith("message/"):
        # RFC 2046 5.2.1: a message is never encoded as a whole; an embedded
        # message is fixed as the message it is, other kinds left as they are.
        if ctype in _EMBEDDED and cte in ("7bit", "8bit"):
            new_body = _fix_entity(data, sec.body_start, end, notes, top=True, keep=keep,
                                   depth=depth + 1)
            return b"".join(field_bytes) + sep + _keep_body(new_body, body, sig, notes)
        if _needs_reencoding(body):
            notes.append(f"a {ctype} part cannot be re-encoded: left as it is")
        return b"".join(field_bytes) + sep + body
    if cte not in ("7bit", "8bit") or not _needs_reencoding(body):
        return b"".join(field_bytes) + sep + body
    if sig.body is not None:
        notes.append(f"the body needs re-encoding: left as it is: it is {sig.body}, "
                     "which a change breaks")
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


def _field_bytes(data: bytes, fields: list[Field], start: int,
                 body_start: int) -> list[bytes]:
    """Each field's bytes, its lines and their CRLFs, in the section that
    begins at ``start``."""
    if not fields:
        return []
    ends = [f.offset for f in fields[1:]]
    ends.append(_header_end(fields, data, start, body_start))
    return [data[f.offset:e] for f, e in zip(fields, ends, strict=True)]


def _keep_signed(new: bytes, old: bytes, name: str, sig: Signatures,
                 notes: list[str]) -> bytes:
    """``new`` unless it breaks a signature over the field ``old``: a field
    under the simple canonicalization may not change, one under the relaxed
    may only be folded otherwise."""
    if new == old:
        return new
    key = name.lower()
    why = sig.frozen.get(key)
    if why is None and new.replace(b"\r\n", b"") != old.replace(b"\r\n", b""):
        why = sig.refold_only.get(key)
    if why is None:
        return new
    notes.append(f"{name}: left as it is: it is {why}, which the change would break")
    return old


def _keep_body(new: bytes, old: bytes, sig: Signatures, notes: list[str]) -> bytes:
    """``new`` unless the body ``old`` is signed."""
    if new == old or sig.body is None:
        return new
    notes.append(f"the body: left as it is: it is {sig.body}, which the change would break")
    return old


def _fix_field(raw: bytes, name: str, notes: list[str]) -> bytes:
    """The field ``raw`` (its lines and CRLFs) fixed."""
    lines = raw[:-2].split(b"\r\n") if raw.endswith(b"\r\n") else raw.split(b"\r\n")
    non_ascii = not raw.isascii()
    key = name.lower()
    structured = (key in ADDRESS_FIELDS or key in _NO_WORDS or is_raw_header(key)
                  or key in MIME_STRUCTURED)
    words = not non_ascii and not structured and b"=?" in raw
    short = max(map(len, lines)) <= 78
    if short and not non_ascii and not words:
        return raw
    try:
        value = raw.split(b":", 1)[1].replace(b"\r\n", b"").decode("utf-8")
    except UnicodeDecodeError:
        notes.append(f"{name}: not UTF-8 text: left as it is")
        return raw
    if non_ascii and key in ADDRESS_FIELDS:
        return _address_field(name, value, raw, notes)
    if non_ascii and structured:
        notes.append(f"{name}: non-ASCII in a structured field: left as it is")
        return raw
    if FORBIDDEN_IN_VALUE.search(value):
        # A control character or a Unicode line break: an encoded word would
        # hide it, not remove it, and a fold may take it for a blank.
        notes.append(f"{name}: a control character in the text: left as it is")
        return raw
    if words and (text := _mended_words(value, name, notes)) is not None:
        return _encoded_field(name, text, raw, notes)
    if not non_ascii:
        return raw if short else _break_long_lines(lines, raw[len(raw.rstrip(b"\r\n")):])
    if "=?" in value:
        # Encoded words next to raw 8-bit text: encoding the whole would
        # turn them into literal text for a reader that decoded them.
        notes.append(f"{name}: encoded words and 8-bit text together: left as it is")
        return raw
    return _encoded_field(name, value, raw, notes)


def _address_field(name: str, value: str, raw: bytes, notes: list[str]) -> bytes:
    """The address field ``name`` holding ``value``, its non-ASCII display
    names written as encoded words (RFC 2047 5 (3)) and every addr-spec as
    it is; ``raw`` when that cannot keep what the field says: a comment (the
    rewrite drops comments), encoded words next to 8-bit text, syntax the
    strict reader refuses, or a non-ASCII address, which only SMTPUTF8 can
    carry."""
    if "(" in value or "=?" in value:
        notes.append(f"{name}: non-ASCII beside a comment or encoded words: left as it is")
        return raw
    try:
        items = parse_address_list(value)
    except AddressSyntaxError:
        notes.append(f"{name}: an address field that does not parse: left as it is")
        return raw
    specs = [m.addr_spec for p in items
             for m in (p.members if isinstance(p, ParsedGroup) else [p])]
    if not all(spec.isascii() for spec in specs):
        notes.append(f"{name}: a non-ASCII address, which needs SMTPUTF8: left as it is")
        return raw
    written = [as_written(p) for p in items]
    chunks = address_list_chunks(written, utf8=False, room=78 - len(name) - 2,
                                 as_written=True)
    try:
        return fold(name, chunks).encode("ascii")
    except RuleError:      # an addr-spec too long for any line (S101)
        notes.append(f"{name}: a token too long to fold: left as it is")
        return raw


def _encoded_field(name: str, text: str, raw: bytes, notes: list[str]) -> bytes:
    """The unstructured field ``name`` holding ``text``, its non-ASCII words
    (and any text that reads as an encoded word) encoded; ``raw`` when it
    cannot be folded."""
    chunks = unstructured_chunks(text.strip(" \t"), utf8=False, room=78 - len(name) - 2,
                                 literal=False)
    try:
        # lead=False: a fold before the first word would open the text with
        # a blank that readers keep (see fold).
        return fold(name, chunks, lead=False).encode("ascii")
    except Exception:  # an unbreakable token over 998 octets
        notes.append(f"{name}: a token too long to fold: left as it is")
        return raw


def _mended_words(value: str, name: str, notes: list[str]) -> str | None:
    """The text of an unstructured value whose encoded words break RFC 2047
    in a way readers read past: a character split across two words (5), a
    word over 75 characters (2). None when its words need nothing, or when
    one does not decode even so (then it is left, with a note)."""
    try:
        decode_words(value)
    except EncodedWordError:
        pass
    else:
        if all(len(m.group(0)) <= 75 for m in ENCODED_WORD.finditer(value)):
            return None
    try:
        return decode_words(value, join_split=True)
    except EncodedWordError as exc:
        notes.append(f"{name}: an encoded word that does not decode ({exc.reason}): "
                     "left as it is")
        return None


def _break_long_lines(lines: list[bytes], ending: bytes) -> bytes:
    """The ASCII field of ``lines`` (then ``ending``) with each line over 78
    octets broken before blanks already there, outside quoted strings and
    comments, and after the value's first word. Only CRLFs are added: the
    unfolded value is the same, and every other line stays as it is. A line
    that cannot be made short enough is broken as far as it can be; fixing
    again changes nothing (the breaks are chosen the same way)."""
    if any(b"\r" in line or b"\n" in line for line in lines):
        return b"\r\n".join(lines) + ending    # a bare CR or LF: not a fold to touch
    text = b"".join(lines).decode("ascii")
    value_at = text.index(":") + 1
    # (where a blank run starts, where the word after it starts): a break
    # before the run keeps the run as the fold's blank.
    runs: list[tuple[int, int]] = []
    pos, seen_word = value_at, False
    for tok in _TOKENS.findall(text, value_at):
        if not tok.strip(" \t"):
            if seen_word and pos + len(tok) < len(text):
                runs.append((pos, pos + len(tok)))
        else:
            seen_word = True
        pos += len(tok)
    starts = [r[0] for r in runs]
    breaks: list[int] = []
    line_start = 0
    for line in lines:
        line_end = line_start + len(line)
        cur = line_start
        while line_end - cur > 78:
            # The last run that keeps the piece within 78 octets, else the
            # first one there is; its word must start on this line, so that
            # no piece is blanks alone (a run can go on past a fold).
            i = bisect.bisect_right(starts, cur + 78) - 1
            while i >= 0 and starts[i] > cur and runs[i][1] >= line_end:
                i -= 1
            if i < 0 or starts[i] <= cur:
                i = bisect.bisect_right(starts, cur)
            if i >= len(runs) or runs[i][1] >= line_end:
                break
            breaks.append(starts[i])
            cur = starts[i]
        breaks.append(line_end)
        line_start = line_end
    out, prev = [], 0
    for b in breaks:
        out.append(text[prev:b])
        prev = b
    return "\r\n".join(out).encode("ascii") + ending


def _fix_multipart(data: bytes, start: int, end: int, subtype: str,
                   params: dict[str, str], notes: list[str], keep: bool, depth: int) -> bytes:
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
        part = _fix_entity(data, body_start, cend, notes, top=False, keep=keep,
                           depth=depth + 1)
        if re.search(rb"(?m)^" + re.escape(delim), part):
            notes.append("a re-encoded part would contain the boundary: left as it is")
            part = data[body_start:cend]
        elif keep and part != data[body_start:cend] and (
                (why := _SIGNED.get((subtype, min(i, 1)))) is not None):
            notes.append(f"part {i + 1} of a multipart/{subtype}: left as it is: {why}")
            part = data[body_start:cend]
        out.append(data[dstart:body_start] + part + data[cend:stop])
    out.append(data[close:end])
    return b"".join(out)
