"""The rule catalogue: every check mailfmt makes, once.

A rule has a stable code (area letter plus three digits, selectable by
prefix), a kebab-case name (the pydantic error ``type``), a severity, the RFC
clause it enforces and a message template whose ``{fields}`` come from the
context of each finding. The model validators, the parser, the linter and the
documentation all read this one table.

Areas: ``H`` header syntax, ``A`` addresses, ``M`` MIME structure, ``E``
encodings, ``S`` line-level rules that decide whether bytes may cross SMTP.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic_core import PydanticCustomError

__all__ = ["RULES", "Rule", "Severity", "get_rule", "rule_error", "select_rules"]


class Severity(str, enum.Enum):
    """How bad a finding is: an RFC MUST, a SHOULD, or obsolete/style.

    >>> get_rule("S106").severity
    <Severity.WARNING: 'warning'>
    """

    #: an RFC MUST or MUST NOT is broken; receivers may reject or misread
    ERROR = "error"
    #: an RFC SHOULD is broken; most receivers cope
    WARNING = "warning"
    #: obsolete syntax or style; legal to read, never to be generated
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Rule:
    """One entry of the catalogue (see the module docstring).

    >>> r = get_rule("H103")
    >>> r.name, r.severity.value, r.rfc
    ('line-break-in-value', 'error', 'RFC 5322 2.2, 3.2.2')
    >>> r.format(field="Subject", char="U+000A", index=2)[:54]
    'Subject contains a line break (U+000A) at character 2;'
    """

    code: str
    name: str
    severity: Severity
    rfc: str
    template: str
    what: str
    why: str
    example: str
    fix: str
    #: whether ``mailfmt lint`` reports it (some rules only apply to building)
    lint: bool = False

    def error(self, /, **ctx: Any) -> PydanticCustomError:
        """The pydantic error for this rule, for raising inside a validator."""
        return PydanticCustomError(self.name, self.template, {"code": self.code, **ctx})

    def format(self, /, **ctx: Any) -> str:
        """The message for one finding, with the template's fields filled in."""
        return self.template.format(**ctx)

    @property
    def url(self) -> str:
        """The rule's page (docs/rules/CODE.md is generated from this table)."""
        return f"docs/rules/{self.code}.md"


def _r(*args: Any) -> Rule:
    return Rule(*args)


E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

RULES: tuple[Rule, ...] = (
    # ---- H: header syntax -------------------------------------------------
    _r("H101", "header-name-invalid", E, "RFC 5322 3.6.8",
       "header field name '{value}' is not valid: {reason}",
       "A header field name contains a character outside printable ASCII 33-126, "
       "a colon, or is empty.",
       "field-name is 1*ftext; a space, a colon or a control character splits or "
       "merges fields, which is how header injection through names works.",
       "Bad Name: value",
       "Use a name made of letters, digits and hyphens, e.g. X-Campaign-Id."),
    _r("H102", "header-name-too-long", E, "RFC 5322 2.1.1",
       "header field name is {length} characters long (max {limit})",
       "A header field name is longer than 76 characters.",
       "The name and its colon must fit on the first line of the field; a name this "
       "long leaves no room to fold within 78 octets.",
       "X-" + "A" * 80 + ": v",
       "Shorten the name."),
    _r("H103", "line-break-in-value", E, "RFC 5322 2.2, 3.2.2",
       "{field} contains a line break ({char}) at character {index}; "
       "line breaks are never accepted in values (folding is done by mailfmt)",
       "A value contains CR, LF, VT, FF, NEL or a Unicode line/paragraph separator.",
       "A line break in a value ends the header field early: whatever follows becomes a "
       "new header (Bcc, Content-Type) or the body. Pre-folded input is rejected too, "
       "because folding is the formatter's job.",
       'subject="Hi\\r\\nBcc: victim@example.com"',
       "Remove the line break; let mailfmt fold long values."),
    _r("H104", "control-character", E, "RFC 5322 3.2.2, 3.5",
       "{field} contains the control character {char} at character {index}",
       "A value contains NUL, another C0 control (other than TAB) or DEL.",
       "Control characters are not allowed in header text, NUL is not allowed anywhere, "
       "and receivers disagree about how to treat them.",
       'subject="hi\\x00there"',
       "Remove the character."),
    _r("H105", "header-value-too-long", E, "RFC 5322 2.1.1",
       "{field} is {length} characters long (max {limit})",
       "A header value is longer than mailfmt's cap of 16384 characters.",
       "Receivers cap header sizes (Postfix: 102400 octets for all headers); an oversize "
       "value is also a denial-of-service vector.",
       'subject="x" * 20000',
       "Move long content into the body."),
    _r("H106", "managed-header", E, "RFC 5322 3.6",
       "{name} is set through the '{attribute}' field, not as an extra header",
       "An extra header, of the message or of a body part, repeats a field that its "
       "model writes itself (From, To, Subject, Date, Content-Type, MIME-Version, ...); "
       "or a field is given on the root part, whose fields are the message's.",
       "Two sources for one field give duplicate or contradicting headers; the typed "
       "field is validated and encoded properly.",
       'headers=[("Subject", "Hi")]',
       "Use the model's field, e.g. subject=..."),
    _r("H107", "too-many-headers", E, "RFC 5322 3.6",
       "{count} extra header fields (max {limit})",
       "More extra header fields than mailfmt's cap.",
       "Bounded input keeps validation and formatting fast.",
       "headers=[(\"X-N\", str(i)) for i in range(1000)]",
       "Send fewer headers."),
    _r("H108", "header-line-without-colon", E, "RFC 5322 2.2",
       "header line {line} has no colon",
       "A line in the header section is neither a field (name: value) nor a continuation.",
       "Receivers either drop the line, end the header section there, or merge it into "
       "the previous field; each reads a different message.",
       "Subject hello",
       "Write 'Name: value', or fold with leading whitespace."),
    _r("H109", "continuation-first-line", E, "RFC 5322 2.2.3",
       "the first header line starts with whitespace",
       "The message starts with a folded continuation line.",
       "There is no field to continue; parsers disagree on what it belongs to.",
       " Subject: hello",
       "Remove the leading whitespace."),
    _r("H201", "missing-from", E, "RFC 5322 3.6",
       "the message has no From field",
       "The message has no From header field.",
       "The origination fields From and Date are required in every message.",
       "Date: ...\\r\\nTo: bob@example.org",
       "Add a From field."),
    _r("H202", "missing-date", E, "RFC 5322 3.6",
       "the message has no Date field",
       "The message has no Date header field.",
       "The origination date is required in every message.",
       "From: alice@example.com\\r\\n(no Date)",
       "Add a Date field (mailfmt sets it to now by default)."),
    _r("H203", "duplicate-header", E, "RFC 5322 3.6",
       "{name} appears {count} times (at most once)",
       "A field that may occur at most once (From, Sender, Reply-To, To, Cc, Bcc, "
       "Subject, Date, Message-ID, In-Reply-To, References, MIME-Version, "
       "Content-Type, Content-Transfer-Encoding) appears more than once.",
       "Receivers pick different copies, so a filter can see one From and the user another.",
       "From: a@example.com\\r\\nFrom: b@example.com",
       "Keep one; put several mailboxes in one field."),
    _r("H204", "sender-required", E, "RFC 5322 3.6.2",
       "From has {count} mailboxes, so Sender is required",
       "From lists several mailboxes and there is no Sender field.",
       "When the author is several people, Sender must name the one who sent it.",
       "From: a@example.com, b@example.com",
       "Add sender=... naming one mailbox."),
    _r("H205", "invalid-message-id", E, "RFC 5322 3.6.4",
       "{field} value '{value}' is not a valid msg-id: {reason}",
       "A Message-ID, In-Reply-To, References or Content-ID value (a body part's "
       "Content-ID too) is not '<id-left@id-right>'.",
       "Threading and deduplication depend on well-formed ids; an id longer than a line "
       "cannot be folded and would break the 998-octet limit.",
       "Message-ID: 1234",
       "Use the form <unique@domain>, or let mailfmt generate one."),
    _r("H206", "invalid-date", E, "RFC 5322 3.3",
       "{field} is not a valid date-time: {reason}",
       "The Date value is not a valid RFC 5322 date-time, or has no time zone, or names "
       "a day, time or zone that cannot be: 30 February, 24:00, a Saturday that is a "
       "Friday, a year before 1900, a zone past 9959.",
       "A naive time is read in the receiver's zone; an unparseable date sorts mail wrongly "
       "and scores as spam.",
       "Date: yesterday",
       "Pass a timezone-aware datetime."),
    _r("H207", "too-many-references", E, "RFC 5322 3.6.4",
       "{field} has {count} msg-ids (max {limit})",
       "In-Reply-To or References holds more ids than mailfmt's cap.",
       "Bounded input keeps validation and formatting fast.",
       "references=[...10000 ids...]",
       "Keep the most recent ids."),
    _r("H208", "missing-message-id", W, "RFC 5322 3.6.4",
       "the message has no Message-ID field",
       "The message has no Message-ID header field.",
       "Every message SHOULD have one: replies thread by it (In-Reply-To, References), "
       "and stores and filters deduplicate by it. Large receivers refuse mail without "
       "one (Gmail answers 550 5.7.1).",
       "From: alice@example.com\\r\\nDate: ...\\r\\n(no Message-ID)",
       "Add a Message-ID of the form <unique@your-domain> (mailfmt generates one by "
       "default)."),
    # ---- A: addresses -----------------------------------------------------
    _r("A101", "invalid-address", E, "RFC 5322 3.4.1",
       "{field}: '{value}' is not a valid address: {reason}",
       "An address is not a valid addr-spec (checked by email-validator in strict mode).",
       "An invalid address is undeliverable at best; at worst different parsers extract "
       "different addresses from it (CVE-2023-27043, CVE-2019-16056).",
       "alice@example.org)<bob@example.org>",
       "Pass one plain address such as alice@example.com, with the display name separate."),
    _r("A102", "address-too-long", E, "RFC 5321 4.5.3.1",
       "{field}: the address is {length} characters long (max {limit})",
       "An address, or the text given for one, is longer than the limit.",
       "RFC 5321 caps a path at 256 octets; long inputs are also slow to check.",
       '"a" * 300 + "@example.com"',
       "Use a shorter address."),
    _r("A103", "non-ascii-local-part", E, "RFC 6532 3.2",
       "{field}: '{value}' has a non-ASCII local part, which needs Policy(utf8=True)",
       "An address has non-ASCII characters before the @ and the policy is ASCII-only.",
       "A non-ASCII local part has no ASCII form; it can only be sent with SMTPUTF8 "
       "(RFC 6531) in a message with UTF-8 headers (RFC 6532).",
       "zoë@example.org",
       "Use Policy(utf8=True) and a server that offers SMTPUTF8, or an ASCII address."),
    _r("A104", "too-many-addresses", E, "RFC 5321 4.5.3.1.8",
       "{field} has {count} addresses (max {limit})",
       "An address field holds more mailboxes than mailfmt's cap.",
       "Servers cap recipients per transaction; bounded input keeps checks linear.",
       "to=[... 5000 addresses ...]",
       "Split the mailing."),
    _r("A105", "display-name-too-long", E, "RFC 5322 2.1.1",
       "{field}: the display name is {length} characters long (max {limit})",
       "A display name is longer than mailfmt's cap.",
       "A long quoted display name cannot be folded and may not fit a line.",
       '"x" * 1000 + " <a@example.com>"',
       "Shorten the name."),
    _r("A106", "invalid-address-list", E, "RFC 5322 3.4",
       "{field}: {reason} at character {index} of '{value}'",
       "Address text does not parse as RFC 5322 mailbox / group syntax, or breaks its "
       "field's own grammar: a group or several mailboxes in Sender or Resent-Sender, a "
       "group in From, Resent-From or Disposition-Notification-To, no address at all in a "
       "field other than Bcc and Resent-Bcc. The address fields are those of RFC 5322 "
       "3.6.2, 3.6.3 and 3.6.6, Disposition-Notification-To (RFC 8098), Mail-Followup-To "
       "and Mail-Reply-To.",
       "Lenient address parsing is how one string turns into a different recipient.",
       'Alice <alice@example.com',
       "Fix the syntax, or pass Address objects."),
    _r("A107", "cfws-around-at", W, "RFC 5322 3.4.1",
       "{field}: {what} beside the '@' of an address",
       "An addr-spec has a comment or blanks just before or after its '@', which "
       "RFC 5322 3.4.1 says SHOULD NOT be used there.",
       "The address is still valid, but a program that cuts it at the '@' without "
       "reading comments sees another local part or domain, and some servers and "
       "filters refuse it.",
       "From: alice (work) @ example.com",
       "Write the address with nothing around the '@' (alice@example.com); a comment "
       "meant as a name goes in the display name: Alice <alice@example.com>."),
    _r("A108", "address-in-display-name", W, "RFC 5322 3.4",
       "{field}: the display name '{name}' shows the address {shown}, not the "
       "mailbox's own {addr}",
       "A display name holds something shaped like an address that is not the address "
       "the mailbox has.",
       "Many mail programs show only the display name, so the reader sees one sender or "
       "recipient and the mail goes to or comes from another: the display-name spoofing "
       "of Chen, Paxson and Jiang, 'Composition Kills' (USENIX Security 2020). Mailing "
       "lists that rewrite From ('alice@example.com via List') do it too, and get the "
       "same scrutiny.",
       'From: "ceo@bank.example" <attacker@evil.example>',
       "Put a name, not an address, in the display name; or leave it out."),
    _r("A109", "mixed-script-domain", W, "UTS #39 5.2, RFC 4290",
       "{field}: the domain of {value} has a label that mixes scripts: '{label}' "
       "({scripts})",
       "An address's domain has a label whose letters come from scripts that are not "
       "written together (an A-label, xn--..., is read as the Unicode it stands for).",
       "A Cyrillic 'а' among Latin letters makes 'аpple.com' look like 'apple.com': "
       "the IDN homograph attack. Unicode's security mechanisms (UTS #39) allow one "
       "script per label, or Latin with the scripts of Japanese, Chinese or Korean, "
       "as browsers do before they show a domain in Unicode.",
       "From: billing@xn--pple-43d.example",
       "Check who the address really belongs to; a legitimate domain keeps to one "
       "script per label."),
    # ---- M: MIME structure ------------------------------------------------
    _r("M101", "mime-too-deep", E, "RFC 2046 5.1",
       "the MIME tree is nested {depth} levels deep (max {limit})",
       "Multiparts are nested deeper than mailfmt's cap.",
       "Deep nesting exhausts recursive parsers (CPython fails at 1,000 levels).",
       "multipart inside multipart ... 40 levels",
       "Flatten the structure."),
    _r("M102", "too-many-parts", E, "RFC 2046 5.1",
       "the message has {count} body parts (max {limit})",
       "The MIME tree has more parts than mailfmt's cap.",
       "Bounded input keeps formatting and parsing fast.",
       "attachments=[... 5000 files ...]",
       "Send fewer parts, or archive them into one attachment."),
    _r("M103", "invalid-content-type", E, "RFC 2045 5.1",
       "{field}: '{value}' is not a valid media type: {reason}",
       "A content type is not 'type/subtype' made of MIME tokens, or names a type "
       "the part cannot have; or its boundary breaks RFC 2046 5.1.1's grammar; or a "
       "Content-Disposition is not a token followed by parameters that parse.",
       "Receivers fall back to text/plain or application/octet-stream, or misparse the "
       "parameters that follow.",
       'content_type="pdf"',
       "Use a registered type such as application/pdf."),
    _r("M104", "empty-multipart", E, "RFC 2046 5.1.1",
       "a multipart/{subtype} has no body parts",
       "A multipart has no parts.",
       "RFC 2046 requires at least one body part in a multipart.",
       "Multipart(subtype='mixed', parts=[])",
       "Add a part or drop the multipart."),
    _r("M105", "invalid-filename", E, "RFC 2183 2.3",
       "{field}: {reason}",
       "An attachment filename is empty, too long, contains a path separator, or is "
       "wrapped in quotes or angle brackets (which readers drop).",
       "Receivers save attachments under this name; a path in it is a traversal attempt.",
       'filename="../../etc/passwd"',
       "Use a plain file name such as report.pdf."),
    _r("M106", "attachment-unreadable", E, "-",
       "{field}: cannot read '{path}': {reason}",
       "An attachment's file does not exist or cannot be read.",
       "A message that fails half-way through streaming would be lost or half-sent.",
       'Attachment.from_path("missing.pdf")',
       "Check the path."),
    _r("M107", "body-conflict", E, "-",
       "{reason}",
       "A message sets both an explicit MIME tree (body) and text/html/attachments, "
       "or an attachment has both content and a path.",
       "Two sources for one body leave it unclear which one is sent.",
       "Message(text='a', body=TextPart(content='b'), ...)",
       "Use either body=... or the text/html/attachments shortcuts."),
    _r("M108", "invalid-content-id", E, "RFC 2392 2",
       "{field}: '{value}' is not a valid Content-ID: {reason}",
       "A Content-ID is not a msg-id '<left@right>'.",
       "cid: URLs in HTML resolve by exact Content-ID match.",
       'content_id="logo"',
       "Use the form <logo@example.com>."),
    _r("M109", "multipart-without-boundary", E, "RFC 2046 5.1.1",
       "multipart/{subtype} has no boundary parameter",
       "A multipart Content-Type has no boundary parameter.",
       "Without a boundary the parts cannot be found; readers show raw MIME.",
       "Content-Type: multipart/mixed",
       "Add boundary=\"...\"."),
    _r("M110", "boundary-not-found", E, "RFC 2046 5.1.1",
       "the {kind} boundary of multipart/{subtype} is missing",
       "A multipart body lacks its first boundary line or its closing boundary.",
       "Readers disagree about where parts end; content can be lost or hidden.",
       "--b\\r\\n...(no --b--)",
       "Write every part between '--boundary' lines and end with '--boundary--'."),
    # ---- E: encodings -----------------------------------------------------
    _r("E101", "non-ascii-header", E, "RFC 5322 2.2; RFC 6532",
       "{field} contains non-ASCII octets; encode them (RFC 2047) or send with SMTPUTF8",
       "A header line contains octets above 127 where RFC 2047 encoding is not possible, "
       "and the policy is ASCII-only.",
       "Header fields are US-ASCII unless the message is sent with SMTPUTF8.",
       "Received: from hôte",
       "Use ASCII, or Policy(utf8=True)."),
    _r("E102", "invalid-base64", E, "RFC 2045 6.8",
       "part {part}: the base64 content is invalid: {reason}",
       "Base64 content has characters outside the alphabet or wrong padding.",
       "Decoders differ on invalid base64: some skip, some stop, some fail.",
       "Content-Transfer-Encoding: base64\\r\\n\\r\\nnot*base64",
       "Re-encode the content."),
    _r("E103", "invalid-quoted-printable", E, "RFC 2045 6.7",
       "part {part}: the quoted-printable content is invalid: {reason}",
       "Quoted-printable content has '=' not followed by two hex digits or a line break, "
       "or a line that ends in a blank.",
       "Decoders differ on invalid escapes; a blank at the end of a line must be deleted "
       "when decoding (RFC 2045 6.7 (3)), since transports add and strip them.",
       "=ZZ",
       "Re-encode the content."),
    _r("E104", "unknown-transfer-encoding", E, "RFC 2045 6.1",
       "part {part}: unknown Content-Transfer-Encoding '{value}'",
       "Content-Transfer-Encoding is not 7bit, 8bit, binary, quoted-printable or base64.",
       "Receivers cannot decode it and treat the part as opaque data.",
       "Content-Transfer-Encoding: uuencode",
       "Use base64 or quoted-printable."),
    _r("E105", "unknown-charset", E, "RFC 2046 4.1.2",
       "part {part}: unknown charset '{value}'",
       "A text part names a charset that cannot be decoded.",
       "Readers guess, and guess differently.",
       "Content-Type: text/plain; charset=x-nonsense",
       "Use utf-8."),
    _r("E106", "8bit-without-declaration", E, "RFC 2045 2.7, 6.2",
       "part {part}: 8-bit octets in a body declared {encoding}",
       "A body contains octets above 127 but its transfer encoding is 7bit (the default).",
       "Octets above 127 need an 8bit or binary declaration and an 8BITMIME transport; "
       "otherwise they may be stripped or mangled in transit.",
       "Content-Transfer-Encoding: 7bit\\r\\n\\r\\ncafé",
       "Encode the body as quoted-printable or base64."),
    _r("E107", "malformed-encoded-word", E, "RFC 2047 2, 4, 5",
       "{field}: malformed encoded word '{value}': {reason}",
       "An RFC 2047 encoded word has an unknown charset or encoding, invalid encoded "
       "text, or decodes to a control character; or holds part of a character only, "
       "the rest in the next word (RFC 2047 5 says each word MUST hold whole "
       "characters).",
       "A word that decodes to CR/LF re-injects headers when re-serialized (CVE-2024-6923). "
       "A split character reads as garbage to a reader that decodes each word alone.",
       "Subject: =?utf-8?q?a=0Ab?=",
       "Encode the text properly. In unstructured text, mailfmt fmt writes words with a "
       "split character again from the text readers join them into."),
    _r("E108", "invalid-unicode", E, "RFC 3629 3",
       "{field} contains a lone surrogate at character {index}",
       "A string contains a UTF-16 surrogate code point, which has no UTF-8 form.",
       "It cannot be written as UTF-8 at all; encoders either fail or write garbage.",
       'subject="\\ud800"',
       "Decode your input properly before building the message."),
    _r("E109", "encoded-word-too-long", E, "RFC 2047 2",
       "{field}: an encoded word is {length} characters long (max 75)",
       "An RFC 2047 encoded word is longer than 75 characters.",
       "Decoders may refuse long words and show the raw =?...?= text instead.",
       "Subject: =?utf-8?q?" + "a" * 80 + "?=",
       "Split the text into several encoded words separated by spaces (mailfmt fmt "
       "does, in unstructured text)."),
    _r("E110", "encoded-word-misplaced", E, "RFC 2047 5",
       "{field}: an encoded word inside {where}",
       "An encoded word appears inside a quoted string or an addr-spec.",
       "RFC 2047 forbids encoded words there, yet some readers decode them: the "
       "displayed name or address then differs between readers (display-name spoofing).",
       'From: "=?utf-8?q?CEO?=" <attacker@example.com>',
       "Use an encoded word as a whole display-name word, outside quotes."),
    _r("E111", "encoded-line-too-long", E, "RFC 2045 6.7, 6.8",
       "part {part}: a {encoding} line is {length} characters long (max 76)",
       "A quoted-printable or base64 line is longer than 76 characters.",
       "RFC 2045 requires encoded lines of at most 76 characters; strict decoders and "
       "gateways reject or break longer ones.",
       "Content-Transfer-Encoding: base64\\r\\n\\r\\n<100 base64 characters on one line>",
       "Re-encode the part (mailfmt fmt does)."),
    _r("H110", "obsolete-syntax", INFO, "RFC 5322 4",
       "{field}: obsolete syntax ({what})",
       "A field uses syntax RFC 5322 section 4 lets readers accept but forbids writers "
       "to generate: whitespace before the colon, two-digit years, named time zones, "
       "routes, empty list elements, blanks or comments inside an addr-spec or a msg-id.",
       "Readers must accept it, but tools disagree on the details.",
       "Date: 21 Nov 97 09:55:06 GMT",
       "Regenerate the field in current syntax."),
    _r("M111", "missing-mime-version", E, "RFC 2045 4",
       "the message has MIME fields but no MIME-Version",
       "Content-Type or Content-Transfer-Encoding is present at the top level without "
       "a MIME-Version field.",
       "Without MIME-Version readers may treat the body as plain RFC 822 text.",
       "Content-Type: multipart/mixed; boundary=x (no MIME-Version)",
       "Add 'MIME-Version: 1.0'."),
    _r("M112", "encoded-multipart", E, "RFC 2045 6.4; RFC 2046 5.2",
       "{type}/{subtype} declares Content-Transfer-Encoding {value}",
       "A multipart or message entity (message/rfc822, ...) declares an encoding other "
       "than 7bit, 8bit or binary.",
       "Composite entities are never encoded as a whole; readers ignore or misapply the "
       "encoding.",
       "Content-Type: multipart/mixed; ...\\r\\nContent-Transfer-Encoding: base64",
       "Encode the leaf parts instead and drop the field from the multipart."),
    _r("M113", "invalid-mime-version", E, "RFC 2045 4",
       "{field}: '{value}' is not MIME-Version 1.0",
       "The message's MIME-Version field says something other than 1.0 (comments and "
       "blanks aside, as RFC 2045 4 allows).",
       "RFC 2045 makes '1.0' the assertion that the message follows MIME; readers treat "
       "any other value as an unknown format, or ignore the MIME fields.",
       "MIME-Version: 2.0",
       "Write 'MIME-Version: 1.0'."),
    _r("M114", "invalid-related-type", W, "RFC 2387 3.1, 3.2",
       "multipart/related {reason}",
       "A multipart/related has no type parameter, or its type is not the media type of "
       "its root part (the part its start parameter names, else the first), or its start "
       "parameter names no part's Content-ID.",
       "RFC 2387 requires type, so that a reader knows how to show the whole without "
       "opening it; when type and the root differ, what a reader does is undefined, and "
       "without its root it has nothing to show first.",
       'Content-Type: multipart/related; boundary="b" (the root part is text/html)',
       'Add type="text/html", the root part\'s media type (mailfmt writes it).'),
    _r("M115", "nonstandard-parameter", W, "RFC 2231 7; RFC 2047 5",
       "{field}: {reason}",
       "A Content-Type or Content-Disposition parameter is written in a form readers "
       "take but the RFCs do not: an RFC 2231 extended value in quotes, or an RFC 2047 "
       "encoded word in a parameter (a common way to write a non-ASCII filename).",
       "Readers disagree: one that follows RFC 2231 shows the encoded word as it is, "
       "'=?utf-8?q?caf=C3=A9.pdf?=', where another shows 'café.pdf'.",
       'Content-Disposition: attachment; filename="=?utf-8?q?caf=C3=A9.pdf?="',
       "Write non-ASCII values as RFC 2231 says: filename*=utf-8''caf%C3%A9.pdf "
       "(mailfmt does)."),
    # ---- S: lines and octets on the wire ----------------------------------
    _r("S101", "line-too-long", E, "RFC 5322 2.1.1",
       "{where} line is {length} octets long (max {limit})",
       "A line is longer than 998 octets, excluding CRLF.",
       "Servers reject or break lines over 998 octets (Postfix inserts CRLF SP), changing "
       "the message and breaking signatures.",
       "Message-ID: <" + "x" * 1200 + "@example.com>",
       "Let mailfmt encode long body lines; shorten unbreakable header tokens."),
    _r("S102", "bare-lf", E, "RFC 5322 2.3; RFC 5321 2.3.8",
       "a LF without CR at line {line}",
       "A line ends in LF alone instead of CRLF.",
       "Bare line feeds are how SMTP smuggling works; strict servers reject them "
       "(Postfix smtpd_forbid_bare_newline).",
       "From: a@example.com\\nTo: ...",
       "Use CRLF line endings (mailfmt fmt rewrites them)."),
    _r("S103", "bare-cr", E, "RFC 5322 2.3; RFC 5321 2.3.8",
       "a CR without LF at line {line}",
       "A CR appears that is not followed by LF.",
       "Receivers disagree about bare CR; it is used in SMTP smuggling.",
       "hello\\r.\\r\\n",
       "Remove the CR or use CRLF."),
    _r("S104", "nul-byte", E, "RFC 5322 2.3; RFC 2045 2.7",
       "a NUL octet at line {line}",
       "The message contains a NUL octet outside base64 content.",
       "NUL terminates strings in C-based receivers and is forbidden in 7bit and 8bit data.",
       "hello\\x00world",
       "Encode binary data with base64."),
    _r("S106", "line-over-78", W, "RFC 5322 2.1.1; RFC 6532 3.4",
       "{where} line is {length} {unit} long (should be at most {limit})",
       "A line is longer than 78 octets, excluding CRLF; with SMTPUTF8 (lint --utf8), "
       "longer than 78 characters, since RFC 6532 keeps this limit in characters.",
       "RFC 5322 says lines SHOULD be at most 78 characters; longer lines are wrapped "
       "or shown badly by some readers.",
       "<p>a very long line of HTML ...</p>",
       "Fold header fields; encode long body lines as quoted-printable."),
    _r("S107", "smtp-smuggling-sequence", E, "RFC 5321 4.1.1.4",
       "a non-standard end-of-data sequence {seq} at line {line}",
       "The bytes contain a sequence such as <LF>.<LF>, <CR>.<CR><LF> or <LF>.<CR><LF> "
       "that some SMTP servers read as the end of DATA.",
       "It is the SMTP smuggling payload (CVE-2023-51764/5/6): a receiver that ends the "
       "message there runs what follows as new SMTP commands, a spoofed second message.",
       "body\\n.\\nMAIL FROM:<ceo@example.com>",
       "Use CRLF line endings only; never pass such bytes to an SMTP client."),
    _r("S105", "missing-header-separator", E, "RFC 5322 2.1",
       "no blank line between the header and the body",
       "The header section does not end with an empty line.",
       "Without it the first body line is read as a header, or the body is lost.",
       "Subject: hi\\r\\nHello there",
       "Add an empty line after the last header field."),
)

# The rules `mailfmt lint` reports; the others apply to building messages only.
_LINT = frozenset({
    "H101", "H104", "H108", "H109", "H110", "H201", "H202", "H203", "H204", "H205", "H206",
    "H208",
    "H107", "A101", "A106", "A107", "A108", "A109",
    "M101", "M102", "M103", "M109", "M110", "M111", "M112", "M113", "M114", "M115",
    "E101", "E102", "E103", "E104", "E105", "E106", "E107", "E109", "E110", "E111",
    "S101", "S102", "S103", "S104", "S105", "S106", "S107",
})
RULES = tuple(dataclasses.replace(r, lint=r.code in _LINT) for r in RULES)

_BY_CODE = {r.code: r for r in RULES}
_BY_NAME = {r.name: r for r in RULES}
assert len(_BY_CODE) == len(RULES) == len(_BY_NAME), "rule codes and names are unique"


def get_rule(key: str) -> Rule:
    """Look a rule up by code (``H101``) or name (``header-name-invalid``).

    >>> get_rule("h101") is get_rule("header-name-invalid")
    True
    """
    rule = _BY_CODE.get(key.upper()) or _BY_NAME.get(key.lower())
    if rule is None:
        raise KeyError(f"no rule '{key}'")
    return rule


def rule_error(rule: str, /, **ctx: Any) -> PydanticCustomError:
    """Shorthand for ``get_rule(rule).error(**ctx)``, by rule name."""
    return _BY_NAME[rule].error(**ctx)


def select_rules(select: Iterable[str] = ("",), ignore: Iterable[str] = ()) -> list[Rule]:
    """Rules whose code starts with a selected prefix and no ignored one (as ruff
    does); a full rule name selects that rule."""
    sel = [_prefix(s) for s in select]
    ign = [_prefix(s) for s in ignore]
    return [r for r in RULES
            if any(r.code.startswith(s) for s in sel)
            and not any(r.code.startswith(i) for i in ign)]


def _prefix(key: str) -> str:
    rule = _BY_NAME.get(key.lower())
    return rule.code if rule else key.upper()
