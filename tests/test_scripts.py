"""The mixed-script test of domain labels (UTS #39 5.2) behind rule A109."""

from __future__ import annotations

import pytest

from mailfmt._scripts import mixed_label
from mailfmt.lint import LintConfig, lint


@pytest.mark.parametrize(("domain", "found"), [
    ("аpple.com", ("аpple", ("Cyrillic", "Latin"))),            # Cyrillic а
    ("xn--pple-43d.com", ("аpple", ("Cyrillic", "Latin"))),     # the same as an A-label
    ("XN--PPLE-43D.com", ("аpple", ("Cyrillic", "Latin"))),
    ("mail.pаypal.example", ("pаypal", ("Cyrillic", "Latin"))),
    ("αpple.com", ("αpple", ("Greek", "Latin"))),
    ("аβ.example", ("аβ", ("Cyrillic", "Greek"))),
    ("한국example.com", None),          # Latin with Han or Hangul: allowed
    ("例え.example.com", None),         # Han and Hiragana (Japanese)
    ("カタカナー.jp", None),            # the prolonged sound mark has no script
    ("例한.kr", None),                  # Han and Hangul (Korean)
    ("例ㄅ.tw", None),                  # Han and Bopomofo (Chinese)
    ("例えカナabc.jp", None),           # all four of Japanese with Latin
    ("例аb.example", ("例аb", ("Cyrillic", "Han", "Latin"))),
    ("あ한.example", ("あ한", ("Hangul", "Hiragana"))),
    ("пример.рф", None),               # one script per label
    ("exämple.com", None),             # Latin with a diacritic
    ("ex-ample2.com", None),
    ("xn--zz.com", None),               # not a valid A-label: the address rules say so
    ("example.com", None),
])
def test_labels(domain: str, found: tuple[str, tuple[str, ...]] | None) -> None:
    assert mixed_label(domain) == found


def test_lint_reports_it_in_every_address_field_and_form() -> None:
    head = ("From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
            "Message-ID: <1@example.com>\r\n"
            "Reply-To: Pay <pay@xn--pypal-4ve.com>\r\nResent-To: x@аpple.com\r\n")
    raw = (head + "\r\nhi\r\n").encode()
    found = [(v.code, v.header, v.column) for v in lint(raw, LintConfig(utf8=True)).violations]
    assert found == [("A109", "Reply-To", 16), ("A109", "Resent-To", 12)]
    assert "'pаypal' (Cyrillic and Latin)" in lint(raw).violations[0].message
    clean = raw.replace("аpple".encode(), b"apple").replace(b"xn--pypal-4ve", b"paypal")
    assert [v.code for v in lint(clean, LintConfig(utf8=True)).violations] == []
