"""Hypothesis strategies for mailfmt's models."""

from __future__ import annotations

import string
from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from mailfmt import (
    Address,
    Attachment,
    Group,
    Header,
    HtmlPart,
    Message,
    Multipart,
    Policy,
    TextPart,
)
from mailfmt.format.writer import format_date
from mailfmt.lint import Report
from mailfmt.models._extra import ADDRESS_EXTRAS, extra_addresses

# Text that may reach a header: any character but the rejected controls and
# line breaks, with plenty of the characters that need care.
_SAFE_CHARS = st.characters(
    blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
    blacklist_characters="\x85",
)
_TRICKY = st.sampled_from([*list(' \t"\\,;:<>@()[]=?_.-\''), "=?", "?=", "é", "日本", "Zoë", "😀"])
header_text = st.lists(st.one_of(_SAFE_CHARS, _TRICKY), max_size=120).map("".join)
words = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=12)

local_parts = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,20}[a-z0-9]", fullmatch=True).filter(
    lambda s: ".." not in s)
domains = st.sampled_from(["example.com", "example.org", "mail.example.net", "exämple.com",
                           "例え.example.com"])
addr_specs = st.builds(lambda local, d: f"{local}@{d}", local_parts, domains)
# Names with an "@" only where a name shows an address on purpose (the
# linter warns of those, A108): "x@y.example".
display_names = st.one_of(st.none(), header_text.filter(lambda s: "@" not in s)
                          .map(lambda s: s.strip(" \t")[:80]),
                          st.sampled_from(["Doe, John", 'a"b\\c', "=?utf-8?q?CEO?=",
                                           "Zoë Ünïcode", "Joe Q. Public", "x@y.example"]))
addresses = st.builds(Address, display_name=display_names, addr_spec=addr_specs)
groups = st.builds(Group, display_name=words, members=st.lists(addresses, max_size=3))
address_lists = st.lists(st.one_of(addresses, addresses, groups), max_size=4)

dates = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=st.builds(lambda m: timezone(timedelta(minutes=m)),
                                         st.integers(-12 * 60, 14 * 60)))

body_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet="ab \t.\r\n-=", max_size=300),
    st.builds(lambda n, c: c * n, st.integers(70, 2100), st.sampled_from(["x", "é", " ", "."])),
).filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s))


def _plain_filename(s: str) -> bool:
    """A filename the model takes once stripped (Attachment._check_filename):
    not empty, no path separator, not wrapped in quotes or angle brackets."""
    return bool(s) and "/" not in s and "\\" not in s and not (
        len(s) > 1 and (s[0], s[-1]) in (('"', '"'), ("<", ">")))


filenames = st.one_of(
    st.sampled_from(["a.pdf", "report 2024.xlsx", "Résumé.docx", "日本語のファイル名.txt",
                     "x" * 200 + ".bin", 'quote"and;semi.txt']),
    header_text.map(lambda s: s[:100]).filter(lambda s: _plain_filename(s.strip())),
)
extra_headers = st.lists(st.builds(Header, name=st.sampled_from(["X-Campaign", "X-Tag",
                                                                 "Comments", "Keywords"]),
                                   value=header_text), max_size=3)
part_headers = st.lists(st.builds(Header, name=st.sampled_from(
    ["Content-Description", "Content-Language", "X-Attachment-Id"]), value=header_text),
    max_size=2)


def _listed(items: list[Address | Group]) -> str:
    return ", ".join(str(a) for a in items)


# A resent block (RFC 5322 3.6.6), given as the extra fields it is.
resent_blocks = st.one_of(st.just([]), st.builds(
    lambda d, frm, to, cc, mid: [("Resent-Date", format_date(d)), ("Resent-From", _listed(frm)),
                                 ("Resent-To", _listed(to)), *([("Resent-Cc", _listed(cc))]
                                                               if cc else []),
                                 ("Resent-Message-ID", f"<{mid}@example.com>")],
    dates, st.lists(addresses, min_size=1, max_size=2),
    st.lists(st.one_of(addresses, groups), min_size=1, max_size=3),
    st.lists(addresses, max_size=2), words))
attachments = st.builds(Attachment, filename=filenames, content=st.binary(max_size=2000),
                        headers=part_headers, params=st.sampled_from(
                            [{}, {"charset": "utf-8"}, {"method": "REQUEST", "x-note": "ä b"}]))


@st.composite
def messages(draw: st.DrawFn, *, utf8: bool = False) -> Message:
    policy = Policy(utf8=utf8)
    frm = draw(st.lists(addresses, min_size=1, max_size=2))
    if not utf8:
        # non-ASCII local parts need utf8; the strategy only makes ASCII ones
        pass
    sender = draw(addresses) if len(frm) > 1 else draw(st.one_of(st.none(), addresses))
    return Message(
        policy=policy,
        from_=frm,
        sender=sender,
        to=draw(address_lists),
        cc=draw(address_lists),
        bcc=draw(st.lists(addresses, max_size=2)),
        reply_to=draw(st.lists(addresses, max_size=2)),
        subject=draw(st.one_of(st.none(), header_text)),
        date=draw(dates),
        text=draw(st.one_of(st.none(), body_text)),
        html=draw(st.one_of(st.none(), body_text)),
        attachments=draw(st.lists(attachments, max_size=3)),
        headers=[*draw(extra_headers), *draw(resent_blocks)],
        references=draw(st.lists(st.builds(lambda a: f"<{a}>", addr_specs.filter(
            lambda s: s.isascii())), max_size=3)),
    )


# Explicit MIME trees: every kind of part with what it may carry of its own.
_content_ids = st.one_of(st.none(), st.builds(lambda w: f"<{w}@example.com>", words))
_param_values = st.one_of(words, header_text.filter(lambda s: s.strip()).map(lambda s: s[:60]))
text_parts = st.builds(
    TextPart, content=body_text, subtype=st.sampled_from(["plain", "calendar", "csv"]),
    params=st.dictionaries(st.sampled_from(["method", "x-note"]), _param_values, max_size=2),
    content_id=_content_ids, headers=part_headers)
html_parts = st.builds(HtmlPart, content=body_text, content_id=_content_ids,
                       headers=part_headers)
# A forwarded message: written as it is (RFC 2046 5.2.1), ASCII under the
# default policy.
embedded = st.builds(
    lambda subject, body: Attachment(
        content=f"From: c@example.com\r\nSubject: {subject}\r\n\r\n{body}".encode(),
        content_type="message/rfc822"),
    words, st.text(alphabet=string.ascii_letters + " .\r\n", max_size=200))
leaves = st.one_of(text_parts, html_parts, attachments, embedded)


@st.composite
def trees(draw: st.DrawFn, depth: int = 2) -> Multipart:
    """A multipart of leaves and, down to ``depth``, multiparts."""
    kids = st.one_of(leaves, trees(depth - 1)) if depth > 1 else leaves
    sub = draw(st.sampled_from(["mixed", "alternative", "related", "report"]))
    params = {"report-type": "delivery-status"} if sub == "report" else draw(
        st.dictionaries(st.sampled_from(["x-a", "x-b"]), _param_values, max_size=1))
    return Multipart(subtype=sub, params=params, parts=draw(st.lists(kids, min_size=1,
                                                                        max_size=3)),
                     content_id=draw(_content_ids), headers=draw(part_headers))


@st.composite
def tree_messages(draw: st.DrawFn, *, utf8: bool = False) -> Message:
    # The root's fields would be the message's: the tree goes one level down.
    return Message(from_=draw(addresses), to=draw(address_lists), date=draw(dates),
                   body=Multipart(parts=[draw(trees())]), policy=Policy(utf8=utf8))


def shown_addresses(msg: Message) -> list[str]:
    """The written fields, one entry per mailbox whose display name shows an
    address not its own (the strategies make only "x@y.example")."""
    fields = [("From", msg.from_), ("Sender", [msg.sender] if msg.sender else []),
              ("Reply-To", msg.reply_to), ("To", msg.to), ("Cc", msg.cc)]
    fields += [(h.name, list(extra_addresses(h.name, h.value, msg.policy)))
               for h in msg.headers if h.name.lower() in ADDRESS_EXTRAS]
    out = []
    for name, items in fields:
        for item in items:
            for mb in item.members if isinstance(item, Group) else [item]:
                if mb.display_name and "x@y.example" in mb.display_name:
                    out.append(name)
    return out


def assert_clean(report: Report, msg: Message) -> None:
    """Clean but for A108, a warning about what the caller chose to show,
    which is found wherever a display name shows another address."""
    others = [(v.code, v.message) for v in report.violations if v.code != "A108"]
    assert others == []
    shown = sorted(v.header or "" for v in report.violations if v.code == "A108")
    assert shown == sorted(shown_addresses(msg))
