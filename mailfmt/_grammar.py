"""RFC 5322 / 2045 / 2046 / 2047 grammar as named regular expressions.

Each pattern quotes the ABNF it implements. Other modules import these names
and write no inline regexes of their own.
"""

from __future__ import annotations

import re

__all__ = [
    "ATEXT",
    "BCHARS",
    "COMMENT",
    "DATE_TIME",
    "DOT_ATOM",
    "ENCODED_WORD",
    "ENCODED_WORD_LIKE",
    "FIELD_NAME",
    "FORBIDDEN_IN_VALUE",
    "HIGH_OCTET",
    "LINE_BREAKS",
    "MIME_TOKEN",
    "MSG_ID",
    "OBS_DATE_TIME",
    "PHRASE_ATOMS",
    "PHRASE_ATOMS_UTF8",
    "QP_SAFE_IN_PHRASE",
    "TSPECIAL_FREE",
]

# RFC 5322 3.2.3:
#   atext = ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
#           "-" / "/" / "=" / "?" / "^" / "_" / "`" / "{" / "|" / "}" / "~"
_ATEXT = r"A-Za-z0-9!#$%&'*+\-/=?^_`{|}~"
ATEXT = re.compile(rf"[{_ATEXT}]+")

#   dot-atom-text = 1*atext *("." 1*atext)
DOT_ATOM = re.compile(rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*")

# A display name that can be written as a sequence of atoms separated by
# single spaces (RFC 5322 3.2.5 phrase = 1*word), with no quoting needed.
PHRASE_ATOMS = re.compile(rf"[{_ATEXT}]+(?: [{_ATEXT}]+)*")

# RFC 6532 section 3.2: with UTF-8 headers, atext also takes UTF8-non-ascii.
PHRASE_ATOMS_UTF8 = re.compile(rf"[{_ATEXT}\u0080-\U0010ffff]+(?: [{_ATEXT}\u0080-\U0010ffff]+)*")

# RFC 5322 3.6.8:
#   field-name = 1*ftext
#   ftext      = %d33-57 / %d59-126   ; printable US-ASCII except ":"
FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")

# RFC 5322 3.6.4 (without the obsolete forms):
#   msg-id     = [CFWS] "<" id-left "@" id-right ">" [CFWS]
#   id-left    = dot-atom-text
#   id-right   = dot-atom-text / no-fold-literal
#   no-fold-literal = "[" *dtext "]"
MSG_ID = re.compile(rf"<{DOT_ATOM.pattern}@(?:{DOT_ATOM.pattern}|\[[\x21-\x5a\x5e-\x7e]*\])>")

# Characters rejected in any value that reaches the wire: NUL and every C0
# control except HTAB (RFC 5322 3.2.2 / 3.5: CR and LF only as CRLF; the
# models take no pre-folded input), DEL, the C1 NEL, and the Unicode line and
# paragraph separators that some converters turn into line breaks
# (Jakarta Mail CVE-2025-7962).
FORBIDDEN_IN_VALUE = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")

# RFC 5322 2.1 and RFC 2045 2.7: a message is US-ASCII, and 7bit data has no
# octet above 127; one that has is 8-bit (in bytes).
HIGH_OCTET = re.compile(rb"[\x80-\xff]")

# The subset of FORBIDDEN_IN_VALUE that acts as a line break somewhere:
# CR, LF, VT, FF, NEL, LS, PS (what str.splitlines() splits on, bar the
# file/group/record separators).
LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")

# RFC 2047 section 2:
#   encoded-word = "=?" charset "?" encoding "?" encoded-text "?="
#   charset and encoding are tokens: no SPACE, CTLs or especials
#   especials = "(" / ")" / "<" / ">" / "@" / "," / ";" / ":" / "
#               <"> / "/" / "[" / "]" / "?" / "." / "="
#   encoded-text = 1*<Any printable ASCII character other than "?" or SPACE>
# RFC 2231 section 5 adds an optional "*language" after the charset.
ENCODED_WORD = re.compile(
    r"=\?(?P<charset>[^\x00-\x20()<>@,;:\"/\[\]?.=*]+)(?:\*(?P<lang>[A-Za-z0-9-]+))?"
    r"\?(?P<encoding>[QqBb])\?(?P<text>[\x21-\x3e\x40-\x7e]*)\?="
)

# Anything a lenient decoder might take for an encoded word. Literal text of
# this shape is itself encoded, so that no receiver decodes what the caller
# wrote as plain text (CPython decodes them even inside quoted strings).
ENCODED_WORD_LIKE = re.compile(r"=\?.*\?=", re.DOTALL)

# RFC 2047 section 5 (3): in a phrase the Q-encoded text may contain only
#   upper and lower case letters, digits, "!", "*", "+", "-", "/", "=", "_".
# "=" and "_" have meaning in Q, so they are encoded too.
QP_SAFE_IN_PHRASE = re.compile(r"[A-Za-z0-9!*+\-/]")

# RFC 2045 section 5.1:
#   token := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials>
#   tspecials := "(" / ")" / "<" / ">" / "@" / "," / ";" / ":" / "\" /
#                <"> / "/" / "[" / "]" / "?" / "="
MIME_TOKEN = re.compile(r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+")
TSPECIAL_FREE = MIME_TOKEN

# RFC 2046 section 5.1.1:
#   bchars := bcharsnospace / " "
#   bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_" / "," /
#                    "-" / "." / "/" / ":" / "=" / "?"
BCHARS = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")

# RFC 5322 3.3 (date-time without obs- forms, except the obs-zone names
# "UT"/"GMT", which are still common), with an optional trailing comment
# such as "(UTC)":
#   date-time = [ day-of-week "," ] date time [CFWS]
#   date = day month year;  time = hour ":" minute [ ":" second ] FWS zone
DATE_TIME = re.compile(
    r"\s*(?:(?P<dow>Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s*,)?\s*"
    r"(?P<day>\d{1,2})\s+(?P<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+"
    r"(?P<year>\d{4})\s+(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s+"
    r"(?P<zone>[+-]\d{4}|UT|GMT)\s*(?:\([^()\\]*\)\s*)?"
)

# RFC 5322 4.3 obs-date-time, read after its comments are blanked out
# (COMMENT): blanks around every part, names in any case, a year of two or
# more digits, and the obsolete zones (obs-zone: UT, GMT, the US zones, and
# the military letters, J excepted). Nothing else may follow the zone.
OBS_DATE_TIME = re.compile(
    r"\s*(?:(?P<dow>Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s*,)?\s*(?P<day>\d{1,2})\s*"
    r"(?P<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s*(?P<year>\d{2,})\s*"
    r"(?P<hour>\d{2})\s*:\s*(?P<minute>\d{2})(?:\s*:\s*(?P<second>\d{2}))?\s*"
    r"(?P<zone>[+-]\d{4}|UT|GMT|[ECMP][SD]T|[A-IK-Z])\s*",
    re.IGNORECASE,
)
# RFC 5322 3.2.2 comment without nesting (nested ones are not blanked out)
COMMENT = re.compile(r"\((?:[^()\\]|\\.)*\)")
