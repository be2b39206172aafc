"""Header sections proved clean by one regex match.

Most mail is written by programs, and its top-level header section is plain:
printable ASCII, each field of the simplest form its name allows, encoded
words only in unstructured text. One match of ``_PLAIN_SECTION`` proves
that, field by field, in C; or, when the optional extension is built, its
twin ``plain_header`` (mailfmt/_speedups.c), which walks the same grammar in
one pass with the same answers. When it matches, the names show no duplicate
and From, Date and Message-ID present, and every encoded word decodes, the header rules
(check_section_syntax, check_message_fields) cannot find anything, and the
linter skips them and the Field objects they read. Unstructured text may
hold 8-bit octets too: then what E101 reports is all they could find, and
this module lists it.

A body part's header section has only the syntax rules to pass: any
well-formed field of printable ASCII. ``plain_part`` proves that, and
remembers the answer for header bytes it has seen (parts repeat their
headers from message to message).

Every alternative below is narrower than what the full checks accept, so a
section this module passes is one the full checks pass too; when in doubt it
declines, and the full checks run. tests/lint/test_plain.py holds that to
account: lint with and without this module gives the same findings.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

from .._date import read_date
from .._grammar import HIGH_OCTET, MSG_ID
from .._limits import MAX_HEADER_FIELDS
from ..models.header import MIME_SINGLETONS, MIME_STRUCTURED, is_raw_header
from ._shared import accelerated
from .checks.headers import ADDRESS_FIELDS, SINGLETONS, word_problems
from .source import Field, field_at, fields_of

__all__ = ["MIME_KEYS", "SPEEDUPS", "match_section", "plain_part", "plain_section",
           "prove_section"]

# RFC 5322 3.2.2 FWS: blanks, or a line break (CRLF, or the bare LF the
# line rules report) followed by a blank; unfolding deletes the break. Runs
# of one octet class, not a repeated alternation: the regex engine takes
# those in one step.
_FWS = rb"[ \t]*(?:\r?\n[ \t]+)*"
# Printable ASCII and HTAB, folded: no octet that the non-ASCII or control
# rules (E101, H104) report, and no CR or LF outside a fold.
_TEXT = rb"[\t\x20-\x7e]*(?:\r?\n[ \t][\t\x20-\x7e]*)*"
# The same with 8-bit octets, for the fields no rule but E101 reads them:
# programs write raw UTF-8 into a Subject often enough.
_TEXT8 = rb"[\t\x20-\x7e\x80-\xff]*(?:\r?\n[ \t][\t\x20-\x7e\x80-\xff]*)*"
_ATEXT = rb"A-Za-z0-9!#$%&'*+\-/=?^_`{|}~"
# An addr-spec that headers._addr_problem passes without email-validator
# (its _SIMPLE_ADDR, narrowed): a dot-atom local part of at most 64
# characters; LDH labels of at most 63 without "--", a letter TLD, and at
# most 189 characters in all, so the whole is at most 254.
_ADDR = (rb"(?=[" + _ATEXT + rb".]{1,64}@)[" + _ATEXT + rb"]+(?:\.[" + _ATEXT + rb"]+)*@"
         rb"(?=[A-Za-z0-9.-]{1,189}(?![A-Za-z0-9.-]))"
         rb"(?:(?=[A-Za-z0-9-]{1,63}\.)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\.)+[A-Za-z]{2,63}"
         rb"(?![" + _ATEXT + rb".@])")
# A display name of atoms (no dots, which obs-phrase would allow) or one
# quoted string without escapes, and without "@": a name that shows an
# address is the full checks' to judge (A108).
_PHRASE = (rb"(?:[" + _ATEXT + rb"]+(?:(?=[ \t\r\n])" + _FWS + rb"[" + _ATEXT + rb"]+)*"
           rb'|"[\t\x20\x21\x23-\x3f\x41-\x5b\x5d-\x7e]*")')
_MAILBOX = rb"(?:" + _ADDR + rb"|" + _PHRASE + _FWS + rb"<" + _ADDR + rb">)"
_MAILBOX_LIST = _FWS + _MAILBOX + rb"(?:" + _FWS + rb"," + _FWS + _MAILBOX + rb")*" + _FWS
# RFC 5322 3.6.4 msg-id: the grammar's own pattern (ASCII only, so it reads
# bytes the same way).
_MSG_ID = MSG_ID.pattern.encode("ascii")
# RFC 5322 3.3 date-time on one line: what _grammar.DATE_TIME matches with
# blanks for its \s, narrowed to the values 3.3 allows: a year from 1900, a
# time of day up to 23:59:60, a zone up to 9959. Whether the day (day of
# week, day, month, year) exists and is that day of the week is read after
# the match, once per day (_day_ok), since mail of one day shares it; a
# capture group here would cost the whole match a fifth more.
_DATE = (rb"[ \t]*(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[ \t]*,)?[ \t]*"
         rb"[0-9]{1,2}[ \t]+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[ \t]+"
         rb"(?:19|[2-9][0-9])[0-9]{2}[ \t]+(?:[01][0-9]|2[0-3]):[0-5][0-9](?::(?:[0-5][0-9]|60))?"
         rb"[ \t]+(?:[+-](?:[0-8][0-9]{3}|9[0-8][0-9]{2}|99[0-5][0-9])|UT|GMT)[ \t]*"
         rb"(?:\([\x20-\x27\x2a-\x5b\x5d-\x7e]*\)[ \t]*)?")
_EOL = rb"\r?\n"
# The names the full checks read with a grammar of their own; any other
# field is unstructured text to them (or not read at all).
_SPECIAL = (rb"from|sender|reply-to|to|cc|bcc|resent-from|resent-sender|resent-to|"
            rb"resent-cc|resent-bcc|disposition-notification-to|mail-followup-to|"
            rb"mail-reply-to|date|resent-date|message-id|resent-message-id|"
            rb"content-id|in-reply-to|references")
# The special fields in their usual spellings (a case-sensitive literal is
# quicker to rule out than a case-insensitive one); other spellings, and the
# Resent- fields, fail the generic branch's look-ahead and go to the full
# checks.
_PLAIN_FIELD = (
    # RFC 5322 3.6.2: from = mailbox-list (one here: several need a Sender,
    # which the full checks ask for); sender = mailbox
    rb"(?:From|Sender):" + _FWS + _MAILBOX + _FWS + _EOL
    + rb"|(?:To|Cc|Bcc|Reply-To):" + _MAILBOX_LIST + _EOL
    + rb"|Date:" + _DATE + _EOL
    + rb"|(?:Message-I[Dd]|Content-I[Dd]):" + _FWS + _MSG_ID + _FWS + _EOL
    + rb"|(?:In-Reply-To|References):" + _FWS + rb"(?:" + _MSG_ID + _FWS + rb")+" + _EOL
    # The fields the MIME walk reads, captured (the names are checked for
    # duplicates, so the last capture is the first field too).
    + rb"|(?P<ct>(?i:content-type)):(?P<ctv>" + _TEXT + rb")" + _EOL
    + rb"|(?P<cte>(?i:content-transfer-encoding)):(?P<ctev>" + _TEXT + rb")" + _EOL
    + rb"|(?P<mv>(?i:mime-version)):(?P<mvv>" + _TEXT + rb")" + _EOL
    # Any other field, its text unstructured to the rules. Not a MIME field
    # whose 8-bit value failed its own branch: the walk would miss it. Nor a
    # Content-Disposition, which the walk reads too and the proof does not
    # capture (rare at the top, and a capture costs every match).
    + rb"|(?!(?i:" + _SPECIAL + rb"|content-type|content-transfer-encoding|mime-version"
    + rb"|content-disposition):)"
    + rb"[\x21-\x39\x3b-\x7e]+:" + _TEXT8 + _EOL
)
_PLAIN_SECTION = re.compile(rb"(?:" + _PLAIN_FIELD + rb")+" + _EOL)
# The fields that may appear once (RFC 5322 3.6, and the MIME fields the
# walk reads), found after a line break in the lower-cased section: a
# literal first octet lets the engine skip ahead in C.
_ONCE = re.compile(rb"\n(" + "|".join(sorted(SINGLETONS)).encode() + rb"):")
# headers._EW_CANDIDATE on bytes: anything shaped like an encoded word. It
# has no whitespace, so it never spans a fold, and reading it from the raw
# bytes finds what the full checks find in the unfolded value.
_WORD = re.compile(rb"=\?[^?\s]*\?[^?\s]*\?[^\s]*?\?=")
# Structured fields whose grammar the proof checked: no encoded-word rule.
_NO_WORD_RULE = frozenset({"date", "resent-date", "message-id", "resent-message-id",
                           "content-id", "in-reply-to", "references"})
# A body part's header section is read by the syntax rules only: any field
# of printable ASCII, well formed, passes them.
_PLAIN_PART = re.compile(rb"(?:[\x21-\x39\x3b-\x7e]+:" + _TEXT + _EOL + rb")*" + _EOL)
_CACHED_HEAD = 1024
_PART_FIELDS = ((b"\ncontent-type:", "content-type"),
                (b"\ncontent-transfer-encoding:", "content-transfer-encoding"),
                (b"\ncontent-disposition:", "content-disposition"),
                (b"\ncontent-id:", "content-id"))
_PART_ONCE = tuple(b"\n" + name.encode() + b":" for name in sorted(MIME_SINGLETONS))
#: the MIME fields the proof captures, in the order it gives their places
MIME_KEYS = ("content-type", "content-transfer-encoding", "mime-version")
# (name group, value group) by group number: quicker than by name.
_MIME_GROUPS = tuple((_PLAIN_SECTION.groupindex[g], _PLAIN_SECTION.groupindex[g + "v"])
                     for g in ("ct", "cte", "mv"))

#: what the proof gives: where the section ends, then for each of MIME_KEYS
#: where its (last) field starts and where its value starts and ends; -1 for
#: a field that is not there
Proof = tuple[int, int, int, int, int, int, int, int, int, int]


def match_section(raw: bytes) -> Proof | None:
    """The proof by _PLAIN_SECTION's match, or None: the pure-Python twin.

    >>> match_section(b"MIME-Version: 1.0\\r\\n\\r\\n")
    (21, -1, -1, -1, -1, -1, -1, 0, 13, 17)
    """
    m = _PLAIN_SECTION.match(raw)
    if m is None:
        return None
    (ct, ctv), (cte, ctev), (mv, mvv) = _MIME_GROUPS
    return (m.end(), m.start(ct), m.start(ctv), m.end(ctv), m.start(cte), m.start(ctev),
            m.end(ctev), m.start(mv), m.start(mvv), m.end(mvv))


# The C twin (plain_header in mailfmt/_speedups.c) walks the same grammar in
# one pass, without the regex engine's trial of one branch of the alternation
# after another; tests/lint/test_plain.py holds the two to the same answers.
prove_section: Callable[[bytes], Proof | None]
prove_section, SPEEDUPS = accelerated("plain_header", match_section)


def plain_section(raw: bytes) -> tuple[dict[str, Field], int, list[tuple[int, str]]] | None:
    """When the message's own header section is proved clean but for 8-bit
    octets in unstructured fields: its MIME fields (Content-Type,
    Content-Transfer-Encoding, MIME-Version, the first of each by lower-case
    name), where its body starts, and (offset, field name) of the first
    8-bit octet of each field that has one (what E101 reports). None when
    the full checks must run.

    >>> head = (b"From: a@example.com\\r\\nDate: 1 Jan 2026 00:00 +0000\\r\\n"
    ...         b"Message-ID: <1@x.example>\\r\\n")
    >>> plain_section(head + b"\\r\\n")
    ({}, 80, [])
    >>> plain_section(head + b"Subject: caf\\xc3\\xa9\\r\\n\\r\\n")[2]
    [(90, 'Subject')]
    >>> plain_section(b"From: a@example.com\\r\\n\\r\\n") is None  # no Date
    True
    """
    proof = prove_section(raw)
    if proof is None:
        return None
    end = proof[0]
    head = b"\n" + raw[:end].lower()
    eight_bit = not head.isascii()
    if head.count(b"\n") > MAX_HEADER_FIELDS or (b"=?" in head and (
            # _WORD reads 8-bit text otherwise than the full checks' str regex.
            eight_bit or not _words_pass(raw, head, end))):
        return None
    once = _ONCE.findall(head)
    if (b"from" not in once or b"date" not in once or b"message-id" not in once
            or len(set(once)) != len(once)):
        return None     # the full checks report what is missing, or twice there
    # The Date value starts after "date:" (head has one octet more in front);
    # its first colon is the time's, and the hour before it is dropped.
    at = head.find(b"\ndate:") + 5
    if not _day_ok(raw[at:raw.index(b":", at)].rsplit(None, 1)[0]):
        return None     # the full checks say what is wrong with the date
    first: dict[str, Field] = {}
    for i, key in enumerate(MIME_KEYS):
        at = proof[3 * i + 1]
        if at == -1:
            continue
        value_at = proof[3 * i + 2]
        name, value = raw[at:value_at - 1], raw[value_at:proof[3 * i + 3]]
        nl = value.find(b"\n")
        if nl == -1:
            first[key] = _mime_field(name, value).shifted(at)
        else:
            # Folded: most often a multipart type, whose boundary no other
            # message shares, so not cached. The match has the pieces: the
            # first line (its CR is dropped by the builder) and the
            # continuation lines, each ended by an LF.
            first[key] = fields_of([(name, b"", value[:nl], value[nl + 1:] + b"\n")], at)[0]
    return first, end, _first_8bit(raw, head, end) if eight_bit else []


@functools.lru_cache(maxsize=64)
def _day_ok(day: bytes) -> bool:
    """Whether the day part of a Date the section's regex matched names a day
    that exists, of that day of the week (RFC 5322 3.3); the time and zone
    given here are ones the regex proved fine."""
    return read_date(day.decode("ascii") + " 00:00 +0000").problem is None


def _first_8bit(raw: bytes, head: bytes, end: int) -> list[tuple[int, str]]:
    """(offset, field name as written) of the first 8-bit octet of each field
    in the section ``raw[:end]`` that has one; ``head`` as in _words_pass."""
    out: list[tuple[int, str]] = []
    field_end = -1
    for m in HIGH_OCTET.finditer(raw, 0, end):
        pos = m.start()
        if pos < field_end:
            continue        # reported: the first octet of this field was
        start = _field_start(head, pos)
        out.append((pos, raw[start:raw.index(b":", start)].decode("ascii")))
        field_end = _field_end(raw, pos)
    return out


def _field_end(raw: bytes, pos: int) -> int:
    """Where the next field starts after ``raw[pos]``, in a header section
    that ends with an empty line: after the first line break that a blank
    does not follow."""
    while True:
        pos = raw.index(b"\n", pos) + 1
        if raw[pos] not in b" \t":
            return pos


def _field_start(head: bytes, pos: int) -> int:
    """Where the field holding ``raw[pos]`` starts; ``head`` is the section
    lower-cased with one LF in front, so its LF's index is that offset."""
    start = head.rfind(b"\n", 0, pos + 1)
    while head[start + 1] in b" \t":
        start = head.rfind(b"\n", 0, start)
    return start


@functools.lru_cache(maxsize=256)
def _mime_field(name: bytes, value: bytes) -> Field:
    """The one-line field ``name: value`` read at offset 0. Messages repeat
    their MIME fields ("MIME-Version: 1.0"), so most are read once and
    shifted."""
    return fields_of([(name, b"", value, b"")], 0)[0]


def _words_pass(raw: bytes, head: bytes, end: int) -> bool:
    """Whether every "=?" in the section ``raw[:end]`` passes the encoded-word
    rules (RFC 2047): in unstructured text each encoded word must be well
    formed and decode; in an address field any "=?" goes to the full checks
    (which read display names and find misplaced words); other fields have
    no rule on them. ``head`` is the section lower-cased, one LF in front.
    """
    pos = raw.find(b"=?", 0, end)
    field_end = -1
    unstructured = False
    while pos != -1:
        if pos >= field_end:
            # A field is found once, not once per "=?" in it: walking back
            # over a field folded on many lines for each would be quadratic.
            start = _field_start(head, pos)
            name = head[start + 1:head.index(b":", start)].decode("ascii")
            if name in ADDRESS_FIELDS:
                return False
            unstructured = not (name in _NO_WORD_RULE or name in MIME_STRUCTURED
                                or is_raw_header(name))
            field_end = _field_end(raw, pos)
        m = _WORD.match(raw, pos, end)
        if m is not None and unstructured and word_problems(m.group().decode("ascii")):
            return False
        pos = raw.find(b"=?", m.end() if m is not None else pos + 2, end)
    return True


def plain_part(raw: bytes, start: int,
               end: int) -> tuple[Mapping[str, Field], int, int] | None:
    """The same proof for the header section of the body part ``raw[start:end]``:
    its Content-Type and Content-Transfer-Encoding fields, what to add to
    their offsets, and where its body starts; or None when the full reader
    must run.

    The part's header bytes are the key of a small cache: body parts repeat
    their headers from message to message far more than messages do. The
    fields are the cache's, read at offsets from the part's start, and
    shared by every hit: the walk adds the part's start to an offset only
    when it reports a finding there.

    >>> raw = b"x" * 5 + b"Content-Type: text/plain\\r\\n\\r\\nhi"
    >>> fields, delta, body = plain_part(raw, 5, len(raw))
    >>> fields["content-type"].offset + delta, fields["content-type"].value, body
    (5, ' text/plain', 33)
    """
    # The section ends at the first empty line (or is empty).
    if raw.startswith(b"\n", start, end) or raw.startswith(b"\r\n", start, end):
        stop = start + (1 if raw[start] == 0x0A else 2)
    else:
        crlf = raw.find(b"\n\r\n", start, end)
        lf = raw.find(b"\n\n", start, end if crlf == -1 else crlf + 2)
        stop = lf + 2 if lf != -1 else crlf + 3 if crlf != -1 else -1
    if stop == -1:
        return None
    head = raw[start:stop]
    # Only short headers are kept: the cache stays a few hundred KB at most.
    known = _part_head(head) if len(head) <= _CACHED_HEAD else _part_head.__wrapped__(head)
    if known is None:
        return None
    return known, start, stop


@functools.lru_cache(maxsize=512)
def _part_head(head: bytes) -> Mapping[str, Field] | None:
    """The MIME fields of a plain part header, at offsets from its start."""
    # Past MAX_HEADER_FIELDS lines the reader reports too many fields.
    if head.count(b"\n") > MAX_HEADER_FIELDS or _PLAIN_PART.fullmatch(head) is None:
        return None
    low = b"\n" + head.lower()
    if any(low.count(needle) > 1 for needle in _PART_ONCE):
        return None     # the reader reports the second one
    out = {}
    for needle, key in _PART_FIELDS:
        # The first of each; low has one more octet in front, so the LF's
        # index is the field's offset.
        at = low.find(needle)
        if at != -1:
            out[key] = field_at(head, at)
    return MappingProxyType(out)
