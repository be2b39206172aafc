"""Delivery status notifications read back (RFC 3464): the reports that a
send's ``dsn=`` asks for, as values a program can match to what it sent.

A report is a multipart/report (RFC 6522) whose report-type is
delivery-status; its message/delivery-status part (message/global-delivery-
status in RFC 6533, whose fields may be UTF-8) holds a group of fields about
the message, then one group per recipient, the groups separated by blank
lines. Reports come from every kind of mail server and are stored as they
arrived (a Maildir keeps LF line ends), so the reader takes LF as well as
CRLF, and fields it does not know; what it cannot do without is said in a
:class:`ReportError` naming the part and the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import ReportError
from ..format.params import ParamError, parse_params
from ..format.transfer import decode_base64, decode_qp

__all__ = ["DeliveryReport", "RecipientReport", "read_report"]

# RFC 3464 2.3.4: status-code = class "." subject "." detail (RFC 3463)
_STATUS = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})")
_LINE = re.compile(rb"[^\n]*(?:\n|$)")
_NEWLINE = re.compile(r"\r?\n")
_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")


@dataclass(frozen=True)
class RecipientReport:
    """What a report says about one recipient (RFC 3464 2.3).

    ``final_recipient`` and ``original_recipient`` are addresses, their type
    ("rfc822;") taken off; the original recipient is what the sender's ORCPT
    named, which is how a report is matched to a send (mailfmt sends ORCPT
    with every DSN request). ``action`` is failed, delayed, delivered,
    relayed or expanded; ``status`` the RFC 3463 code; ``diagnostic`` the
    remote server's words, type taken off. ``fields`` holds every field of
    the group as it came, names as written.

    >>> r = RecipientReport("bob@example.org", "delayed", (4, 2, 2),
    ...                     diagnostic="452 4.2.2 mailbox full")
    >>> r.failed, r.status[0]
    (False, 4)
    """

    final_recipient: str
    action: str
    status: tuple[int, int, int]
    original_recipient: str | None = None
    diagnostic: str | None = None
    remote_mta: str | None = None
    fields: tuple[tuple[str, str], ...] = ()

    @property
    def failed(self) -> bool:
        """The message could not be delivered to this recipient, for good."""
        return self.action == "failed"


@dataclass(frozen=True)
class DeliveryReport:
    """A delivery status notification: about the message (``envid``, the
    ENVID the send gave; ``reporting_mta``) and each recipient.

    >>> report = read_report(b"Content-Type: multipart/report; report-type=delivery-status;"
    ...     b" boundary=b\\n\\n--b\\nContent-Type: message/delivery-status\\n\\n"
    ...     b"Original-Envelope-Id: batch 42\\n\\nFinal-Recipient: rfc822; bob@example.org\\n"
    ...     b"Action: failed\\nStatus: 5.1.1\\n\\n--b--\\n")
    >>> report.envid, report.recipients[0].status, report.recipients[0].failed
    ('batch 42', (5, 1, 1), True)
    """

    recipients: tuple[RecipientReport, ...]
    envid: str | None = None
    reporting_mta: str | None = None
    fields: tuple[tuple[str, str], ...] = ()

    def recipient(self, address: str) -> RecipientReport | None:
        """The report on ``address``, as the send named it (the original
        recipient, else the final one; the domain's case does not count)."""
        want = _fold_case(address)
        for r in self.recipients:
            if _fold_case(r.original_recipient or r.final_recipient) == want:
                return r
        for r in self.recipients:
            if _fold_case(r.final_recipient) == want:
                return r
        return None

    @classmethod
    def from_bytes(cls, raw: bytes) -> DeliveryReport:
        """Read a report; raises :class:`ReportError` saying why it cannot."""
        return read_report(raw)


def read_report(raw: bytes) -> DeliveryReport:
    """The :class:`DeliveryReport` in ``raw``, a whole message as stored;
    raises :class:`~mailfmt.errors.ReportError` saying why it cannot.

    >>> try:
    ...     read_report(b"Content-Type: text/plain\\n\\nhello\\n")
    ... except ValueError as exc:
    ...     print(exc)
    not a delivery status notification: the message is text/plain, not multipart/report (RFC 6522)
    """
    head, body, _ = _split(raw, 1)
    ctype, params = _content_type(head, "the message")
    if ctype != "multipart/report":
        raise ReportError(f"not a delivery status notification: the message is {ctype}, "
                          "not multipart/report (RFC 6522)")
    boundary = params.get("boundary")
    if not boundary:
        raise ReportError("the multipart/report has no boundary parameter")
    for number, part, line in _parts(body, boundary, _lines_before(raw, body)):
        phead, pbody, body_line = _split(part, line)
        ptype, _ = _content_type(phead, f"part {number}")
        if ptype in _STATUS_TYPES:
            data = _decoded(phead, pbody, number)
            return _report(data.decode("utf-8", "replace"), number, body_line)
    raise ReportError("the multipart/report has no message/delivery-status part "
                      f"(report-type={params.get('report-type', 'none')})")


# ---- the MIME around the report ---------------------------------------------------


def _lines(data: bytes) -> Iterator[tuple[bytes, int]]:
    """Each line of ``data`` without its LF or CRLF, and where the next one
    starts; read as asked for, so that a reader can stop early."""
    for m in _LINE.finditer(data):
        line = m.group(0)
        if not line:
            return
        if line.endswith(b"\n"):
            line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
        yield line, m.end()


def _split(raw: bytes, first_line: int) -> tuple[list[tuple[str, str]], bytes, int]:
    """A header section's fields (unfolded) and the body after its blank line,
    and the body's first line number. Only the header is read: a report
    may return a whole large message after its status part."""
    fields: list[tuple[str, str]] = []
    at = len(raw)       # no blank line: no body
    count = 0
    for text, end in _lines(raw):
        count += 1
        if not text.strip():
            at = end
            break
        line = text.decode("utf-8", "replace")
        if line[:1] in (" ", "\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + " " + line.strip())
        else:
            name, sep, value = line.partition(":")
            if sep:
                fields.append((name.strip(), value.strip()))
    else:
        count += 1
    return fields, raw[at:], first_line + count


def _field(fields: list[tuple[str, str]], name: str) -> str | None:
    for n, v in fields:
        if n.lower() == name:
            return v
    return None


def _content_type(fields: list[tuple[str, str]], where: str) -> tuple[str, dict[str, str]]:
    value = _field(fields, "content-type")
    if value is None:
        return "text/plain", {}     # RFC 2045 5.2
    try:
        return parse_params(value)
    except ParamError as exc:
        raise ReportError(f"{where}: its Content-Type cannot be read: {exc}") from None


def _lines_before(raw: bytes, tail: bytes) -> int:
    """The line number ``tail`` (a suffix of ``raw``) starts on."""
    return raw.count(b"\n", 0, len(raw) - len(tail)) + 1


def _parts(body: bytes, boundary: str, first_line: int) -> Iterator[tuple[int, bytes, int]]:
    """The body parts between the delimiter lines (RFC 2046 5.1.1): each
    with its number and the line it starts on, found as they are asked for."""
    delim = b"--" + boundary.encode("utf-8", "replace")
    number = 0
    start: int | None = None
    start_line = 0
    pos = 0
    line_no = first_line
    for text, end in _lines(body):
        if text.startswith(delim) and not text[len(delim):].strip(b" \t-"):
            if start is not None:
                # The CRLF before a delimiter belongs to the delimiter.
                number += 1
                yield number, _chop_newline(body[start:pos]), start_line
            if text[len(delim):].rstrip(b" \t") == b"--":
                return
            start, start_line = end, line_no + 1
        pos = end
        line_no += 1


def _chop_newline(part: bytes) -> bytes:
    if part.endswith(b"\r\n"):
        return part[:-2]
    return part[:-1] if part.endswith(b"\n") else part


def _decoded(fields: list[tuple[str, str]], body: bytes, number: int) -> bytes:
    cte = (_field(fields, "content-transfer-encoding") or "7bit").lower()
    try:
        if cte == "base64":
            return decode_base64(body)
        if cte == "quoted-printable":
            return decode_qp(body)
    except ValueError as exc:
        raise ReportError(f"part {number}: its {cte} cannot be decoded: {exc}") from None
    return body


# ---- the report's own fields (RFC 3464 2.2, 2.3) -------------------------------------


def _report(text: str, number: int, first_line: int) -> DeliveryReport:
    groups: list[tuple[int, list[tuple[str, str]]]] = []
    current: list[tuple[str, str]] = []
    start = first_line
    # Not str.splitlines(): that also breaks at form feeds and U+2028.
    for i, line in enumerate(_NEWLINE.split(text.rstrip("\r\n"))):
        if not line.strip():
            if current:
                groups.append((start, current))
                current = []
            start = first_line + i + 1
            continue
        if line[:1] in (" ", "\t") and current:
            current[-1] = (current[-1][0], current[-1][1] + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ReportError(f"part {number}, line {first_line + i}: not a field: {line[:60]!r}")
        current.append((name.strip(), value.strip()))
    if current:
        groups.append((start, current))
    if len(groups) < 2:
        raise ReportError(f"part {number}: the delivery status names no recipient "
                          "(RFC 3464 2.1: a group of fields per recipient follows the "
                          "message's)")
    message = groups[0][1]
    recipients = tuple(_recipient(fields, number, line) for line, fields in groups[1:])
    return DeliveryReport(recipients, envid=_field(message, "original-envelope-id"),
                          reporting_mta=_typed(_field(message, "reporting-mta")),
                          fields=tuple(message))


def _typed(value: str | None) -> str | None:
    """``rfc822; bob@example.org`` -> ``bob@example.org`` (the type is dropped)."""
    if value is None:
        return None
    _kind, sep, rest = value.partition(";")
    return rest.strip() if sep else value.strip()


def _recipient(fields: list[tuple[str, str]], number: int, line: int) -> RecipientReport:
    where = f"part {number}, the recipient group at line {line}"
    final = _typed(_field(fields, "final-recipient"))
    action = (_field(fields, "action") or "").split("(")[0].strip().lower()
    status = _field(fields, "status")
    if not final:
        raise ReportError(f"{where}: no Final-Recipient (RFC 3464 2.3.2)")
    if not action:
        raise ReportError(f"{where}: no Action (RFC 3464 2.3.3)")
    m = _STATUS.match(status or "")
    if m is None:
        raise ReportError(f"{where}: Status {status!r} is not a status code like 5.1.1 "
                          "(RFC 3464 2.3.4, RFC 3463)")
    return RecipientReport(
        final_recipient=final, action=action,
        status=(int(m.group(1)), int(m.group(2)), int(m.group(3))),
        original_recipient=_typed(_field(fields, "original-recipient")),
        diagnostic=_typed(_field(fields, "diagnostic-code")),
        remote_mta=_typed(_field(fields, "remote-mta")), fields=tuple(fields))


def _fold_case(address: str) -> str:
    local, at, domain = address.strip().strip("<>").rpartition("@")
    return f"{local}{at}{domain.lower()}" if at else address.strip().lower()
