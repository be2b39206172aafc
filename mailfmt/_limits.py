"""Every numeric limit mailfmt enforces, once, with its source.

Limits marked *cap* are not RFC numbers: they are mailfmt's own bounds that
keep every algorithm linear and every input small enough to validate fast.
"""

from __future__ import annotations

__all__ = [
    "DSN_MAIL_ROOM",
    "DSN_RCPT_ROOM",
    "MAX_ADDRESSES_PER_FIELD",
    "MAX_ADDRESS_INPUT",
    "MAX_ADDR_SPEC",
    "MAX_BOUNDARY",
    "MAX_DISPLAY_NAME",
    "MAX_DSN_ENVID",
    "MAX_DSN_ORCPT",
    "MAX_ENCODED_LINE",
    "MAX_ENCODED_WORD",
    "MAX_EXTRA_HEADERS",
    "MAX_FILENAME",
    "MAX_HEADER_FIELDS",
    "MAX_HEADER_NAME",
    "MAX_HEADER_VALUE",
    "MAX_LINE",
    "MAX_MIME_DEPTH",
    "MAX_MIME_PARAMS",
    "MAX_MIME_PARTS",
    "MAX_MSG_ID",
    "MAX_PARSE_INPUT",
    "MAX_REFERENCES",
    "RECOMMENDED_LINE",
]

#: RFC 5322 section 2.1.1: "Each line of characters MUST be no more than 998
#: characters ... excluding the CRLF."
MAX_LINE = 998

#: RFC 5322 section 2.1.1: "... and SHOULD be no more than 78 characters,
#: excluding the CRLF."
RECOMMENDED_LINE = 78

#: RFC 2047 section 2: "An 'encoded-word' may not be more than 75 characters long."
MAX_ENCODED_WORD = 75

#: RFC 2045 sections 6.7 (rule 5) and 6.8: quoted-printable and base64 lines
#: are at most 76 characters.
MAX_ENCODED_LINE = 76

#: RFC 2046 section 5.1.1: a boundary is 1 to 70 characters.
MAX_BOUNDARY = 70

#: RFC 3696 erratum 1690 / RFC 5321 section 4.5.3.1.3: a forward-path is at
#: most 256 octets including the angle brackets, so an address is at most 254.
MAX_ADDR_SPEC = 254

#: cap: the longest string accepted as one address (display name and all)
#: before any parsing; email-validator and idna are linear but not free.
MAX_ADDRESS_INPUT = 2048

#: cap: display names; long enough for any real name, short enough that the
#: quoted form always fits one 998-octet line.
MAX_DISPLAY_NAME = 256

#: cap: header field names. 76 so that "Name: " plus a value fits in 78
#: (the same bound lettre uses).
MAX_HEADER_NAME = 76

#: cap: characters in one header field value (Postfix's header_size_limit is
#: 102400 for the whole header section).
MAX_HEADER_VALUE = 16384

#: cap: extra (non-managed) header fields on one message.
MAX_EXTRA_HEADERS = 256

#: cap: mailboxes in one address field (Postfix's smtpd_recipient_limit is 1000).
MAX_ADDRESSES_PER_FIELD = 1000

#: cap: msg-ids in In-Reply-To / References.
MAX_REFERENCES = 256

#: A msg-id cannot be folded (RFC 5322 section 3.6.4 allows no FWS inside it),
#: so it must fit one line with the longest field name that carries it:
#: "In-Reply-To: " is 13 octets, 998 - 13 = 985.
MAX_MSG_ID = MAX_LINE - len("In-Reply-To: ")

#: cap: filename length in characters (common file systems allow 255).
MAX_FILENAME = 255

#: cap: MIME nesting depth (Stalwart mail-parser uses 64, Postfix 100;
#: real mail rarely goes past 4).
MAX_MIME_DEPTH = 32

#: cap: parameters on one attachment's Content-Type (real ones carry one to
#: three: charset, name, method).
MAX_MIME_PARAMS = 64

#: cap: body parts in one message tree (Stalwart mail-parser: 10000).
MAX_MIME_PARTS = 1000

#: cap: header fields read from one header section by the linter, the fixer
#: and ``mailfmt send`` (Postfix's header_size_limit of 102400 octets allows
#: about this many short fields).
MAX_HEADER_FIELDS = 10_000

#: cap: bytes accepted by ``Message.from_bytes``.
MAX_PARSE_INPUT = 64 * 1024 * 1024

#: RFC 3461 section 4.4: an ENVID (as xtext) is at most 100 characters.
MAX_DSN_ENVID = 100

#: RFC 3461 section 4.2: an ORCPT value is at most 500 characters.
MAX_DSN_ORCPT = 500

#: RFC 3461 section 4: RET and ENVID may make a MAIL command line 110
#: characters longer than RFC 5321's 512, NOTIFY and ORCPT a RCPT line 520.
DSN_MAIL_ROOM = 110
DSN_RCPT_ROOM = 520
