"""``Message.from_bytes``: strict parsing of .eml bytes into the models.

Strict means: what the models could not have written is refused with a
:class:`~mailfmt.errors.ParseError` naming the rule, the line and the offset,
rather than guessed at. (The linter reads anything; this reads mail.) Last,
the linter reads the bytes too: a message it finds an error in is refused
with that finding, so whatever this accepts lints without an error.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from .._charset import codec_for
from .._date import read_date
from .._grammar import FIELD_NAME
from .._limits import MAX_MIME_DEPTH, MAX_MIME_PARTS, MAX_PARSE_INPUT
from .._msgid import unfold_ids
from ..errors import ParseError
from ..format.encoded_word import EncodedWordError, decode_words
from ..format.flowed import unflow
from ..format.params import ParamError, parse_params, token_value
from ..format.transfer import DecodeError, decode_base64, decode_qp
from ..format.writer import format_date
from ..lint.engine import LintConfig, lint
from ..models._extra import ADDRESS_EXTRAS, structured_extras
from ..models.address import as_dict, as_written
from ..models.body import (
    TEXT_WRITTEN_PARAMS,
    Attachment,
    HtmlPart,
    Multipart,
    Part,
    TextPart,
    multipart_written_params,
)
from ..models.header import MIME_SINGLETONS, MIME_STRUCTURED, Header, is_raw_header
from ..policy import Policy
from ..rules import Severity, get_rule
from .address import AddressSyntaxError, parse_address_list_lenient

if TYPE_CHECKING:
    from ..models.message import Message

__all__ = ["RawField", "parse_message", "split_header"]

_SINGLETONS = {"from", "sender", "reply-to", "to", "cc", "bcc", "subject", "date",
               "message-id", "in-reply-to", "references"} | MIME_STRUCTURED
_BARE = re.compile(rb"\r(?!\n)|(?<!\r)\n|\x00")
# The linter's settings for a message read with Policy(utf8=True): made once.
_LINT_UTF8 = LintConfig(utf8=True)


@dataclass(frozen=True, slots=True)
class RawField:
    """One header field: name, unfolded value, and where it starts."""

    name: str
    value: str
    line: int
    offset: int


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


class _Lines:
    """Line numbers of offsets in one buffer, asked for in increasing order
    as the reader goes: each count starts where the last one stopped, so a
    message of many parts is read in linear time (counting from the top for
    each part would be quadratic)."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self._at = 0
        self._line = 1

    def __call__(self, offset: int) -> int:
        if offset < self._at:
            return _line_of(self.raw, offset)     # out of order: from the top
        self._line += self.raw.count(b"\n", self._at, offset)
        self._at = offset
        return self._line


def split_header(raw: bytes, base: int, lines: _Lines, *,
                 utf8: bool) -> tuple[list[RawField], int]:
    """Fields of the header section starting at ``raw[0]`` and the offset of the body.

    ``base`` is ``raw``'s offset in the message whose ``lines`` count its
    line numbers.
    """
    end = raw.find(b"\r\n\r\n")
    if raw.startswith(b"\r\n"):
        head, body_at = b"", 2
    elif end == -1:
        head, body_at = raw[:-2] if raw.endswith(b"\r\n") else raw, len(raw)
    else:
        head, body_at = raw[:end], end + 4
    fields: list[tuple[str, list[bytes], int, int]] = []
    pos = 0
    # Line numbers counted once for the section, then one per line: counting
    # from the start for every field would be quadratic in the field count.
    first_line = lines(base)
    for i, line in enumerate(head.split(b"\r\n") if head else []):
        at = base + pos
        if line[:1] in (b" ", b"\t"):
            if not fields:
                raise ParseError("continuation-first-line", line=lines(at), offset=at)
            fields[-1][1].append(line)
        else:
            bname, colon, bvalue = line.partition(b":")
            if not colon:
                raise ParseError("header-line-without-colon", line=lines(at), offset=at)
            sname = bname.decode("latin-1")
            # RFC 5322 4.5 obs-optional: blanks before the colon belong to no
            # name, and a receiver must accept them (RFC 5322 4).
            name = sname.rstrip(" \t")
            if not FIELD_NAME.fullmatch(name):
                raise ParseError("header-name-invalid", line=lines(at), offset=at,
                                 value=sname, reason="not printable ASCII without ':'")
            sname = name
            fields.append((sname, [bvalue], at, first_line + i))
        pos += len(line) + 2
    out: list[RawField] = []
    for name, pieces, at, line_no in fields:
        # Unfolding is removing the CRLFs (RFC 5322 2.2.3).
        value = b"".join(pieces)
        if not value.isascii() and not utf8:
            raise ParseError("non-ascii-header", line=lines(at), offset=at, field=name)
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("non-ascii-header", line=lines(at), offset=at,
                             field=name) from None
        out.append(RawField(name, text.strip(" \t"), line_no, at))
    return out, body_at


def _parse_date(f: RawField) -> datetime:
    # RFC 5322 4: the obsolete grammar is read too (receivers MUST accept it).
    reading = read_date(f.value)
    if reading.fields is None or reading.problem is not None:
        raise ParseError("invalid-date", line=f.line, offset=f.offset, field=f.name,
                         reason=reading.problem)
    year, month, day, hour, minute, second, zone = reading.fields
    # Valid dates a datetime cannot hold: refused rather than changed.
    if year > 9999 or second == 60 or abs(zone) >= 24 * 60:
        what = (f"the year {year}" if year > 9999 else "a leap second" if second == 60
                else "a zone of 24 hours or more")
        raise ParseError("invalid-date", line=f.line, offset=f.offset, field=f.name,
                         reason=f"{what} cannot be held by the model's datetime")
    return datetime(year, month, day, hour, minute, second,
                    tzinfo=timezone(timedelta(minutes=zone)))


def _extra_value(f: RawField, policy: Policy) -> str:
    """An extra field of the message as the model holds it. Those with a
    grammar the model checks (models._extra) are read as a reader must,
    obsolete forms included, and given in the form the model writes; a value
    that breaks the grammar is refused at its own line."""
    key = f.name.lower()
    if key in ADDRESS_EXTRAS:
        value = _addresses_text(f.value)
    elif key == "resent-date":
        reading = read_date(f.value)
        # RFC 5322 4.3: read, but written in the current form
        value = format_date(_parse_date(f)) if reading.obsolete else f.value
    elif key == "resent-message-id":
        value = unfold_ids(f.value)
    else:
        return f.value if is_raw_header(f.name) else _decode(f)
    try:
        return structured_extras([Header.model_construct(name=f.name, value=value)],
                                 policy)[0].value
    except PydanticCustomError as exc:
        ctx = dict(exc.context or {})
        ctx.pop("code", None)
        raise ParseError(exc.type, line=f.line, offset=f.offset, **ctx) from None


def _addresses_text(value: str) -> str:
    """An address field read leniently (see _addresses), as the text the
    model parses strictly; what no reading makes sense of, as it is."""
    try:
        items, _ = parse_address_list_lenient(value, comment_names=True)
    except AddressSyntaxError:
        return value
    return ", ".join(str(as_written(p)) for p in items)


def _decode(f: RawField) -> str:
    try:
        return decode_words(f.value)
    except EncodedWordError as exc:
        raise ParseError("malformed-encoded-word", line=f.line, offset=f.offset, field=f.name,
                         value=exc.word, reason=exc.reason) from None


class _Body:
    def __init__(self, policy: Policy, lines: _Lines) -> None:
        self.policy = policy
        self.lines = lines
        self.parts = 0

    def entity(self, fields: list[RawField], body: bytes, at: int, path: str, depth: int) -> Part:
        self.parts += 1
        if self.parts > MAX_MIME_PARTS:
            raise ParseError("too-many-parts", offset=at, count=self.parts, limit=MAX_MIME_PARTS)
        h: dict[str, RawField] = {}
        for f in fields:
            key = f.name.lower()
            if key in h and key in MIME_SINGLETONS:
                # Two would leave the choice to the reader (the top level
                # checked all its singletons already).
                count = sum(1 for g in fields if g.name.lower() == key)
                raise ParseError("duplicate-header", line=f.line, offset=f.offset, part=path,
                                 name=f.name, count=count)
            h.setdefault(key, f)
        ctf = h.get("content-type")
        ctype, params = "text/plain", {"charset": "us-ascii"}
        if ctf is not None:
            try:
                ctype, params = parse_params(ctf.value)
            except ParamError as exc:
                raise ParseError("invalid-content-type", line=ctf.line, offset=ctf.offset,
                                 field="Content-Type", value=ctf.value, reason=str(exc)) from None
        typ, _, sub = ctype.partition("/")
        # A body part's other fields are its own (the message's are read
        # with the message): Content-Description, Content-Language, ...
        extra = [(f.name, f.value if is_raw_header(f.name) else _decode(f)) for f in fields
                 if f.name.lower() not in MIME_STRUCTURED] if depth else []
        cid = h.get("content-id")
        # What every kind of part has: its Content-ID and its own fields.
        own = {"content_id": unfold_ids(cid.value) if cid else None, "headers": extra}
        if typ == "multipart":
            return self.multipart(sub, params, ctf, body, at, path, depth, own)
        return self.leaf(h, typ, sub, params, body, at, path, own)

    def multipart(self, sub: str, params: dict[str, str], ctf: RawField | None, body: bytes,
                  at: int, path: str, depth: int, own: dict[str, Any]) -> Multipart:
        assert ctf is not None
        if depth >= MAX_MIME_DEPTH:
            raise ParseError("mime-too-deep", line=ctf.line, offset=ctf.offset,
                             depth=depth + 1, limit=MAX_MIME_DEPTH)
        boundary = params.get("boundary")
        if not boundary:
            raise ParseError("multipart-without-boundary", line=ctf.line, offset=ctf.offset,
                             subtype=sub)
        delim = b"--" + boundary.encode("ascii", "replace")
        # A delimiter line is CRLF "--" boundary, then "--" or transport
        # padding and CRLF (RFC 2046 5.1.1); the first may open the body.
        pat = re.compile(rb"(?:^|\r\n)" + re.escape(delim) + rb"(--)?[ \t]*(?:\r\n|$)")
        marks = list(pat.finditer(body))
        opens = [m for m in marks if not m.group(1)]
        close = next((m for m in marks if m.group(1)), None)
        if not opens:
            raise ParseError("boundary-not-found", line=ctf.line, offset=ctf.offset,
                             kind="first", subtype=sub)
        if close is None:
            raise ParseError("boundary-not-found", line=ctf.line, offset=ctf.offset,
                             kind="closing", subtype=sub)
        opens = [m for m in opens if m.start() < close.start()]
        parts: list[Part] = []
        for i, m in enumerate(opens, 1):
            start = m.end()
            stop = opens[i].start() if i < len(opens) else close.start()
            chunk = body[start:stop]
            cfields, body_at = split_header(chunk, at + start, self.lines, utf8=self.policy.utf8)
            parts.append(self.entity(cfields, chunk[body_at:], at + start + body_at,
                                     f"{path}.{i}", depth + 1))
        try:
            if sub == "related" and "start" in params:
                # RFC 2387 3.2: start names the root; the models write it first.
                want = unfold_ids(params["start"])
                root = next((p for p in parts if p.content_id == want), None)
                if root is not None:
                    parts.remove(root)
                    parts.insert(0, root)
            # The boundary is the writer's to make, and a related's type and
            # start follow from its root, now first.
            made = multipart_written_params(sub)
            return Multipart(subtype=sub, parts=parts,
                             params={k: v for k, v in params.items() if k not in made}, **own)
        except ValidationError as exc:
            raise _from_validation(exc, ctf.line, ctf.offset) from None

    def leaf(self, h: dict[str, RawField], typ: str, sub: str, params: dict[str, str],
             body: bytes, at: int, path: str, own: dict[str, Any]) -> Part:
        ctef = h.get("content-transfer-encoding")
        cte = token_value(ctef.value) if ctef else "7bit"
        line = self.lines(at)
        if cte in ("7bit", "8bit", "binary"):
            if cte == "7bit" and not body.isascii():
                raise ParseError("8bit-without-declaration", line=line, offset=at, part=path,
                                 encoding="7bit")
            data = body
        elif cte == "base64":
            try:
                data = decode_base64(body)
            except ValueError as exc:
                raise ParseError("invalid-base64", line=line, offset=at, part=path,
                                 reason=str(exc)) from None
        elif cte == "quoted-printable":
            try:
                data = decode_qp(body)
            except DecodeError as exc:
                where = at + (exc.offset or 0)
                raise ParseError("invalid-quoted-printable", line=self.lines(where),
                                 offset=where, part=path, reason=str(exc)) from None
        else:
            assert ctef is not None
            raise ParseError("unknown-transfer-encoding", line=ctef.line, offset=ctef.offset,
                             part=path, value=cte)
        disp, dparams = "", dict[str, str]()
        cdf = h.get("content-disposition")
        if cdf is not None:
            try:
                disp, dparams = parse_params(cdf.value)
            except ParamError as exc:
                raise ParseError("invalid-content-type", line=cdf.line, offset=cdf.offset,
                                 field="Content-Disposition", value=cdf.value,
                                 reason=str(exc)) from None
        filename = dparams.get("filename") or params.get("name")
        if typ == "text" and disp != "attachment" and filename is None:
            charset = params.get("charset", "us-ascii")
            ctf = h.get("content-type")
            info = codec_for(charset)
            if info is None:
                raise ParseError("unknown-charset", line=ctf.line if ctf else line,
                                 offset=ctf.offset if ctf else at, part=path,
                                 value=charset)
            codec = info.name
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise ParseError("unknown-charset", line=line, offset=at + exc.start, part=path,
                                 value=f"{charset} (undecodable octets)") from None
            if sub == "plain" and params.get("format", "").lower() == "flowed":
                # RFC 3676: the lines it means; written back as plain text
                text = unflow(text, delsp=params.get("delsp", "").lower() == "yes")
            try:
                if sub == "html":
                    return HtmlPart(content=text, **own)
                kept = {k: v for k, v in params.items() if k not in TEXT_WRITTEN_PARAMS}
                return TextPart(content=text, subtype=sub, params=kept, **own)
            except ValidationError as exc:
                raise _from_validation(exc, line, at) from None
        try:
            return Attachment(
                filename=filename, content=data, content_type=f"{typ}/{sub}", params=params,
                disposition="inline" if disp == "inline" else "attachment", **own,
            )
        except ValidationError as exc:
            raise _from_validation(exc, line, at) from None


def _from_validation(exc: ValidationError, line: int | None, offset: int | None,
                     lines: dict[str, RawField] | None = None) -> ParseError:
    err = exc.errors()[0]
    ctx = dict(err.get("ctx") or {})
    ctx.pop("code", None)
    field = str(err["loc"][0]) if err["loc"] else None
    if lines and field:
        f = lines.get(field)
        if f is not None:
            line, offset = f.line, f.offset
    try:
        rule = get_rule(err["type"])
    except KeyError:
        rule = get_rule("invalid-address-list") if field else get_rule("body-conflict")
        ctx = {"field": field or "message", "value": "", "reason": err["msg"], "index": 0}
    return ParseError(rule, line=line, offset=offset, **ctx)


def _addresses(key: str, value: str) -> Any:
    """An address field as a reader must take it (RFC 5322 3.4 and 4.4):
    comments skipped, a comment after a bare addr-spec read as its display
    name (``john@example.com (John Doe)``), and the obsolete forms read (a
    route dropped, as RFC 5321 C says, empty list elements skipped). What no
    reading makes sense of goes to the model as it is, which says why."""
    try:
        items, _ = parse_address_list_lenient(value, comment_names=True)
    except AddressSyntaxError:
        return value
    if key == "sender":
        # one mailbox (RFC 5322 3.6.2); anything else the model refuses by name
        return as_dict(items[0]) if len(items) == 1 else value
    # RFC 5322 3.6.3: bcc = "Bcc:" [address-list / CFWS]; other fields need
    # an address, which the linter holds them to
    return [as_dict(p) for p in items]


def _shortcuts(tree: Part) -> dict[str, Any]:
    """The text/html/attachments form of a tree, when it has one (see mime_tree)."""

    def content(p: Part) -> dict[str, Any] | None:
        if p.headers or p.content_id:
            return None     # the shortcuts' parts have no fields of their own
        if isinstance(p, TextPart) and p.subtype == "plain" and not p.params:
            return {"text": p.content}
        if isinstance(p, HtmlPart):
            return {"html": p.content}
        if (isinstance(p, Multipart) and p.subtype == "alternative" and len(p.parts) == 2
                and isinstance(p.parts[0], TextPart) and p.parts[0].subtype == "plain"
                and isinstance(p.parts[1], HtmlPart)
                and content(p.parts[0]) is not None and content(p.parts[1]) is not None):
            return {"text": p.parts[0].content, "html": p.parts[1].content}
        return None

    c = content(tree)
    if c is not None:
        return c
    if isinstance(tree, Multipart) and tree.subtype == "mixed" and not (
            tree.headers or tree.content_id):
        if all(isinstance(p, Attachment) for p in tree.parts):
            return {"attachments": list(tree.parts)}
        first = content(tree.parts[0])
        rest = tree.parts[1:]
        if first is not None and rest and all(isinstance(p, Attachment) for p in rest):
            return {**first, "attachments": list(rest)}
    return {"body": tree}


_ADDRESS_KEYS = {"from": "from_", "sender": "sender", "reply-to": "reply_to", "to": "to",
                 "cc": "cc", "bcc": "bcc"}


def parse_message(raw: bytes, *, policy: Policy | None = None) -> Message:
    """Parse one message. Raises :class:`ParseError` (never anything else on bad input)."""
    from ..models.message import Message

    policy = policy or Policy()
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected bytes, got {type(raw).__name__}")
    raw = bytes(raw)
    if len(raw) > MAX_PARSE_INPUT:
        raise ParseError("header-value-too-long", field="message", length=len(raw),
                         limit=MAX_PARSE_INPUT)
    bad = _BARE.search(raw)
    if bad:
        rule = {b"\r": "bare-cr", b"\n": "bare-lf", b"\x00": "nul-byte"}[bad.group()]
        line = _line_of(raw, bad.start())
        raise ParseError(rule, line=line, offset=bad.start())
    line_of = _Lines(raw)
    fields, body_at = split_header(raw, 0, line_of, utf8=policy.utf8)
    seen: dict[str, RawField] = {}
    for f in fields:
        key = f.name.lower()
        if key in _SINGLETONS:
            if key in seen:
                count = sum(1 for g in fields if g.name.lower() == key)
                raise ParseError("duplicate-header", line=f.line, offset=f.offset,
                                 name=f.name, count=count)
            seen[key] = f
    if "from" not in seen:
        raise ParseError("missing-from", line=1, offset=0)
    if "date" not in seen:
        raise ParseError("missing-date", line=1, offset=0)
    data: dict[str, Any] = {"policy": policy}
    lines: dict[str, RawField] = {}
    extra: list[tuple[str, str]] = []
    for f in fields:
        key = f.name.lower()
        if key in _ADDRESS_KEYS:
            data[_ADDRESS_KEYS[key]] = _addresses(key, f.value)
            lines[_ADDRESS_KEYS[key]] = f
        elif key == "subject":
            data["subject"] = _decode(f)
            lines["subject"] = f
        elif key == "date":
            data["date"] = _parse_date(f)
        elif key in ("message-id", "in-reply-to", "references"):
            k = key.replace("-", "_")
            # RFC 5322 3.6.4 and 4.5.4: comments around an id, and blanks inside
            # one next to its dots and "@", are not part of it
            ids = unfold_ids(f.value)
            data[k] = ids if key == "message-id" else ids.split()
            lines[k] = f
        elif key in _SINGLETONS:
            continue  # MIME fields: read below with the body
        else:
            extra.append((f.name, _extra_value(f, policy)))
            lines.setdefault("headers", f)
    data["headers"] = extra
    tree = _Body(policy, line_of).entity(fields, raw[body_at:], body_at, "1", 0)
    data.update(_shortcuts(tree))
    try:
        msg = Message.model_validate(data, context={"policy": policy})
    except ValidationError as exc:
        raise _from_validation(exc, None, None, lines) from None
    _refuse_lint_errors(raw, policy)
    if "message_id" not in data:
        # The model makes a random id for a message that has none (RFC 5322
        # 3.6.4 says it SHOULD have one); a message read twice gets the same
        # one, made from its bytes, on the domain the model chose.
        assert msg.message_id is not None
        domain = msg.message_id.rsplit("@", 1)[1].rstrip(">")
        msg = msg.model_copy(update={
            "message_id": f"<{hashlib.sha256(raw).hexdigest()[:32]}@{domain}>"})
    return msg


def _refuse_lint_errors(raw: bytes, policy: Policy) -> None:
    """What the reading above lets through but the linter calls an error (a
    line over 998 octets, an encoded word over 75 characters or inside a
    quoted string, base64 lines over 76, MIME fields without MIME-Version, ...)
    is not what the models could have written: refused as the linter
    reports it, so that whatever this accepts lints without an error."""
    report = lint(raw, _LINT_UTF8 if policy.utf8 else None)
    for v in report.violations:
        if v.severity is Severity.ERROR:
            raise ParseError.from_violation(v)
