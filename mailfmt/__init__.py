"""mailfmt: email that is correct by construction.

Build messages with validated models, get bytes that obey RFC 5322 every
time, and parse them back.
"""

from .errors import FormatError, MailfmtError, ParseError, RuleError
from .lint import LintConfig, Report, Violation, lint, lint_file
from .models.address import Address, Group
from .models.body import Attachment, HtmlPart, Multipart, Part, TextPart
from .models.header import Header, HeaderName, HeaderText
from .models.message import Envelope, Message
from .policy import Policy
from .rules import RULES, Rule, Severity, get_rule

__all__ = [
    "RULES",
    "Address",
    "Attachment",
    "Envelope",
    "FormatError",
    "Group",
    "Header",
    "HeaderName",
    "HeaderText",
    "HtmlPart",
    "LintConfig",
    "MailfmtError",
    "Message",
    "Multipart",
    "ParseError",
    "Part",
    "Policy",
    "Report",
    "Rule",
    "RuleError",
    "Severity",
    "TextPart",
    "Violation",
    "get_rule",
    "lint",
    "lint_file",
]

__version__ = "0.1.0"
