"""Header field rules (H, A and E rules that live in header fields)."""

from __future__ import annotations

import functools
import re
from collections import Counter
from typing import Any

import email_validator

from ..._charset import codec_for
from ..._date import read_date
from ..._grammar import ENCODED_WORD, MSG_ID
from ..._msgid import unfold_ids
from ..._scripts import mixed_label
from ...format.encoded_word import EncodedWordError, decode_words
from ...models._extra import ADDRESS_EXTRAS
from ...models.header import MIME_SINGLETONS, MIME_STRUCTURED, is_raw_header
from ...parse.address import (
    AddressSyntaxError,
    ParsedGroup,
    ParsedMailbox,
    parse_address_list_lenient,
)
from ..context import Context
from ..source import Field, Section

__all__ = ["check_duplicates", "check_ids", "check_message_fields", "check_section_syntax",
           "word_problems"]

#: the fields a message may have once (RFC 5322 3.6, and the MIME ones)
SINGLETONS = frozenset({"from", "sender", "reply-to", "to", "cc", "bcc", "subject", "date",
                        "message-id", "in-reply-to", "references"}) | MIME_SINGLETONS
#: the address fields: RFC 5322 3.6.2, 3.6.3, and those the models check as
#: extra fields (the Resent- fields of 3.6.6, Disposition-Notification-To ...)
ADDRESS_FIELDS = frozenset({"from", "sender", "reply-to", "to", "cc", "bcc"}) | frozenset(
    ADDRESS_EXTRAS)
# Their grammars: mailbox-list or mailbox, not address-list (no groups); one
# mailbox; or, as Bcc, no address at all.
_NO_GROUPS = frozenset({"from", "sender"} | {k for k, s in ADDRESS_EXTRAS.items()
                                               if not s.groups})
_ONE_MAILBOX = frozenset({"sender"} | {k for k, s in ADDRESS_EXTRAS.items() if s.single})
_MAY_BE_EMPTY = frozenset({"bcc"} | {k for k, s in ADDRESS_EXTRAS.items() if s.may_be_empty})
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = re.compile(rb"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NON_ASCII = re.compile(r"[\x80-\xff]")
# Anything shaped like an encoded word, valid or not (checked one by one).
_EW_CANDIDATE = re.compile(r"=\?[^?\s]*\?[^?\s]*\?[^\s]*?\?=")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_MSG_IDS = re.compile(rf"(?:\s|\([^()]*\))*(?:{MSG_ID.pattern}(?:\s|\([^()]*\))*)+")


def check_section_syntax(ctx: Context, sec: Section, part: str | None) -> None:
    """Problems of the section's shape, and per-field octet rules."""
    for kind, offset in sec.problems:
        if kind == "no-colon":
            ctx.add("header-line-without-colon", offset, part=part)
        elif kind == "continuation-first":
            ctx.add("continuation-first-line", offset, part=part)
        elif kind == "bad-name":
            end = ctx.raw.find(b":", offset)
            ctx.add("header-name-invalid", offset, part=part,
                    value=ctx.raw[offset:end].decode("latin-1"),
                    reason="a field name is printable ASCII without spaces or ':'")
        elif kind == "no-separator":
            ctx.add("missing-header-separator", offset, part=part)
        elif kind == "too-many":
            ctx.add("too-many-headers", offset, part=part, count=len(sec.fields),
                    limit=len(sec.fields))
    if not sec.fields:
        return
    # One C-level look at the section's bytes decides whether the per-field
    # searches are needed at all.
    head = ctx.raw[sec.fields[0].offset:sec.body_start]
    ascii_only = head.isascii()
    controls = _CONTROL_BYTES.search(head) is not None
    for f in sec.fields:
        if f.obsolete_space:
            ctx.add("obsolete-syntax", f.offset, header=f.name, part=part,
                    what="whitespace before the colon")
        if not ascii_only:
            m = _NON_ASCII.search(f.value)
            if m and ctx.utf8:
                # RFC 6532 3.2: UTF-8 is allowed; only invalid octets break it.
                try:
                    f.value.encode("latin-1").decode("utf-8")
                    m = None
                except UnicodeDecodeError as exc:
                    m = _NON_ASCII.search(f.value, exc.start)
            if m:
                ctx.add("non-ascii-header", f.offset_of(m.start()), header=f.name, part=part)
        m = _CONTROL.search(f.value) if controls else None
        if m:
            ctx.add("control-character", f.offset_of(m.start()), header=f.name, part=part,
                    char=f"U+{ord(m.group()):04X}", index=m.start())


def check_duplicates(ctx: Context, fields: list[Field], once: frozenset[str],
                     part: str | None = None) -> dict[str, Field]:
    """H203 for each field after the first of a name in ``once``; returns
    the first of each of those names."""
    seen: dict[str, Field] = {}
    counts: Counter[str] | None = None
    for f in fields:
        key = f.key
        if key in once:
            if key not in seen:
                seen[key] = f
            else:
                if counts is None:  # counted once, not once per duplicate
                    counts = Counter(g.key for g in fields)
                ctx.add("duplicate-header", f.offset, header=f.name, part=part, name=f.name,
                        count=counts[key])
    return seen


def check_message_fields(ctx: Context, sec: Section) -> None:
    """Rules for the message's own (top-level) header fields."""
    seen = check_duplicates(ctx, sec.fields, SINGLETONS)
    n_from = 0
    for f in sec.fields:
        key = f.key
        if key in ADDRESS_FIELDS:
            n = _check_addresses(ctx, f)
            if key == "from" and f is seen["from"]:
                n_from = n
        elif key in ("date", "resent-date"):
            _check_date(ctx, f)
        elif key in ("message-id", "resent-message-id", "content-id"):
            check_ids(ctx, f, single=True)
        elif key in ("in-reply-to", "references"):
            check_ids(ctx, f, single=False)
        elif "=?" in f.value and key not in MIME_STRUCTURED and not is_raw_header(key):
            _check_unstructured(ctx, f)
    if "from" not in seen:
        ctx.add("missing-from", 0)
    if "date" not in seen:
        ctx.add("missing-date", 0)
    if "message-id" not in seen:
        ctx.add("missing-message-id", 0)
    if n_from > 1 and "sender" not in seen:
        ctx.add("sender-required", seen["from"].offset, header="From", count=n_from)


def _check_unstructured(ctx: Context, f: Field) -> None:
    if "=?" not in f.value:
        return
    for m in _EW_CANDIDATE.finditer(f.value):
        _check_word(ctx, f, m.group(), m.start())


def _check_word(ctx: Context, f: Field, word: str, index: int) -> None:
    offset = f.offset_of(index)
    for rule, values in word_problems(word):
        ctx.add(rule, offset, header=f.name, **values)


def word_problems(word: str) -> list[tuple[str, dict[str, Any]]]:
    """What is wrong with one encoded word (RFC 2047 2 and 6): (rule, values)
    for each finding, none when it is well formed and decodes."""
    if not ENCODED_WORD.fullmatch(word):
        return [("malformed-encoded-word",
                 {"value": word, "reason": "not of the form =?charset?Q|B?text?="})]
    out: list[tuple[str, dict[str, Any]]] = []
    if len(word) > 75:
        out.append(("encoded-word-too-long", {"length": len(word)}))
    try:
        decode_words(word)
    except EncodedWordError as exc:
        out.append(("malformed-encoded-word", {"value": word, "reason": exc.reason}))
    return out


# Plainly valid: an ASCII dot-atom local part (RFC 5322 3.4.1) and LDH labels
# with a letter TLD (RFC 1035 2.3.1, RFC 3696 2). No "--" in labels, so no
# A-label needs IDNA checks. Everything else goes to email-validator.
_SIMPLE_ADDR = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9]|-(?!-)){0,62}(?<!-)\.)+[A-Za-z]{2,63}"
)


@functools.lru_cache(maxsize=8192)
def _addr_problem(spec: str) -> str | None:
    if len(spec) > 254:
        return f"it is {len(spec)} characters long (max 254)"
    if _SIMPLE_ADDR.fullmatch(spec) and spec.index("@") <= 64:
        return None
    try:
        # Syntax only: deliverability and special-use domains are not RFC rules.
        email_validator.validate_email(spec, check_deliverability=False, strict=True,
                                       allow_smtputf8=True, test_environment=True,
                                       globally_deliverable=False)
    except email_validator.EmailNotValidError as exc:
        return str(exc)
    return None


def _check_addresses(ctx: Context, f: Field) -> int:
    """Check an address field; returns the number of mailboxes (groups expanded)."""
    text = f.value
    key = f.key
    # RFC 5322 3.6.3: bcc = "Bcc:" [address-list / CFWS]; the others need an address
    may_be_empty = key in _MAY_BE_EMPTY
    if not text.strip():
        if not may_be_empty:
            ctx.add("invalid-address-list", f.offset_of(0), header=f.name, value="",
                    reason="the field is empty", index=0)
        return 0
    parsed = _parse_addresses(text)
    if isinstance(parsed, AddressSyntaxError):
        ctx.add("invalid-address-list", f.offset_of(parsed.index), header=f.name,
                value=_clip(text.strip()), reason=parsed.reason, index=parsed.index)
        return 0
    items, notes = parsed
    for rule, what, index in notes:
        ctx.add(rule, f.offset_of(index), header=f.name, what=what)
    shape = _shape_problem(key, f.name, items, may_be_empty)
    if shape is not None:
        reason, index = shape
        ctx.add("invalid-address-list", f.offset_of(index), header=f.name,
                value=_clip(text.strip()), reason=reason, index=index)
    mailboxes: list[ParsedMailbox] = []
    for item in items:
        mailboxes.extend(item.members if isinstance(item, ParsedGroup) else [item])
    for mb in mailboxes:
        if mb.display_name and "@" in mb.display_name:
            _check_name(ctx, f, mb)
        problem = _addr_problem(_as_text(mb.addr_spec))
        if problem:
            ctx.add("invalid-address", f.offset_of(mb.spec_index), header=f.name,
                    value=mb.addr_spec, reason=problem)
        if "=?" in mb.addr_spec:
            ctx.add("encoded-word-misplaced", f.offset_of(mb.spec_index), header=f.name,
                    where="an addr-spec")
        domain = mb.addr_spec.rpartition("@")[2]
        if not domain.isascii() or "xn--" in domain.lower():
            mixed = mixed_label(_as_text(domain))
            if mixed is not None:
                ctx.add("mixed-script-domain", f.offset_of(mb.spec_index), header=f.name,
                        value=_as_text(mb.addr_spec), label=mixed[0],
                        scripts=" and ".join(mixed[1]))
    if "=?" in text:
        quoted = [(m.start(), m.end()) for m in _QUOTED.finditer(text)]
        for m in _EW_CANDIDATE.finditer(text):
            if any(a < m.start() < b for a, b in quoted):
                ctx.add("encoded-word-misplaced", f.offset_of(m.start()), header=f.name,
                        where="a quoted string")
            elif not any(m.group() in mb.addr_spec for mb in mailboxes):
                _check_word(ctx, f, m.group(), m.start())
    return len(mailboxes)


# Something a reader takes for an address: a dot-atom-like local part, "@",
# and a domain with at least one dot (Unicode letters allowed, as IDNs are).
_SHOWN_ADDR = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def _check_name(ctx: Context, f: Field, mb: ParsedMailbox) -> None:
    """A108: the display name shows an address other than the mailbox's."""
    own = _as_text(mb.addr_spec).lower()
    name = _as_text(mb.display_name or "")
    for m in _SHOWN_ADDR.finditer(name):
        if m.group().lower().strip(".") != own:
            ctx.add("address-in-display-name", f.offset_of(mb.index), header=f.name,
                    name=_clip(name, 60), shown=m.group(), addr=mb.addr_spec)
            return


def _shape_problem(key: str, name: str, items: list[ParsedMailbox | ParsedGroup],
                   may_be_empty: bool) -> tuple[str, int] | None:
    """What the field's grammar (RFC 5322 3.6.2, 3.6.3, 3.6.6; RFC 8098 2.1)
    says against the addresses it holds: (reason, index), or None."""
    if not items:
        # obs-addr-list and obs-mbox-list allow empty elements, not an empty list
        return None if may_be_empty else ("the field has no address", 0)
    if key in _NO_GROUPS:
        group = next((i for i in items if isinstance(i, ParsedGroup)), None)
        if group is not None:
            return f"{name} takes mailboxes, not groups", group.index
        if key in _ONE_MAILBOX and len(items) > 1:
            return f"{name} takes exactly one mailbox, not {len(items)}", items[1].index
    return None


@functools.lru_cache(maxsize=4096)
def _parse_addresses(text: str) -> tuple[
        list[ParsedMailbox | ParsedGroup], list[tuple[str, str, int]]] | AddressSyntaxError:
    """The lenient parse, cached: the same address fields recur across mail."""
    try:
        return parse_address_list_lenient(text)
    except AddressSyntaxError as exc:
        return exc


def _as_text(spec: str) -> str:
    # Field values are read as Latin-1 (one char per octet); UTF-8 addresses
    # (RFC 6532) are turned back into text before validation.
    if spec.isascii():
        return spec
    try:
        return spec.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return spec


def _check_date(ctx: Context, f: Field) -> None:
    reading = read_date(f.value)
    if reading.problem is not None:
        ctx.add("invalid-date", f.value_start(), header=f.name, reason=reading.problem)
    elif reading.obsolete:
        # Readable, but only by the obsolete grammar (RFC 5322 4.3): two-digit
        # years, named zones, blanks or comments between the parts.
        ctx.add("obsolete-syntax", f.offset_of(0), header=f.name,
                what="a date-time in obsolete form")


def _ids_ok(value: str, single: bool) -> tuple[bool, list[str]]:
    ids = MSG_ID.findall(value) if value.strip() else []
    return bool(_MSG_IDS.fullmatch(value)) and (len(ids) == 1 if single else bool(ids)), ids


def check_ids(ctx: Context, f: Field, *, single: bool, part: str | None = None) -> None:
    """msg-id syntax (RFC 5322 3.6.4): one id in Message-ID and Content-ID
    (``single``), one or more in In-Reply-To and References."""
    value = f.value.strip()
    ok, ids = _ids_ok(f.value, single)
    if not ok:
        # RFC 5322 4.5.4: obs-id-left and obs-id-right are a local-part and a
        # domain, which may have blanks and comments between their parts
        # ("<1234   @   local(blah)  .machine .example>", A.6.3).
        joined = unfold_ids(f.value)
        if joined != f.value.strip(" \t") and _ids_ok(joined, single)[0]:
            ctx.add("obsolete-syntax", f.value_start(), header=f.name, part=part,
                    what="blanks or comments inside a msg-id")
            return
        if not single and ids:
            # obs-in-reply-to / obs-references allow phrases between ids
            ctx.add("obsolete-syntax", f.value_start(), header=f.name, part=part,
                    what="words between message ids")
            return
        ctx.add("invalid-message-id", f.value_start(), header=f.name, part=part,
                value=_clip(value, 60),
                reason="expected " + ("one <id-left@id-right>" if single
                                      else "one or more <id-left@id-right>"))


def _clip(text: str, n: int = 120) -> str:
    return text if len(text) <= n else text[:n] + "..."


def charset_known(name: str) -> bool:
    """Whether Python has a codec for the charset ``name``."""
    return codec_for(name) is not None
