"""What an EHLO reply offers (RFC 5321 4.1.1.1)."""

import pytest

from mailfmt.transport import Reply
from mailfmt.transport._capabilities import Capabilities


def caps(*lines: str) -> Capabilities:
    return Capabilities.from_ehlo(Reply(250, ("mx.example.com greets you", *lines)))


def test_keywords_and_parameters() -> None:
    c = caps("PIPELINING", "SIZE 10240000", "8bitmime", "", "DSN", "X-Vendor some Thing")
    # The greeting line is no keyword; an empty line ends nothing.
    assert c.keywords == {"PIPELINING": (), "SIZE": ("10240000",), "8BITMIME": (),
                          "DSN": (), "X-VENDOR": ("some", "Thing")}
    assert c.has("8BITMIME") and c.has("dsn") and not c.has("STARTTLS")
    assert c.size == 10240000


@pytest.mark.parametrize("lines", [
    ("AUTH PLAIN login", "AUTH=LOGIN cram-md5"),
    ("AUTH=LOGIN cram-md5", "AUTH PLAIN login"),
    ("AUTH=LOGIN", "", "AUTH plain CRAM-MD5"),
])
def test_auth_mechanisms_from_both_forms(lines: tuple[str, ...]) -> None:
    # Servers that add the pre-RFC 4954 "AUTH=" line offer its mechanisms too.
    c = caps(*lines, "STARTTLS")
    assert c.keywords["AUTH"] == ("CRAM-MD5", "LOGIN", "PLAIN")
    assert c.auth == {"CRAM-MD5", "LOGIN", "PLAIN"}
    assert c.has("STARTTLS")


@pytest.mark.parametrize(("line", "size"), [
    ("SIZE", None), ("SIZE 0", None), ("SIZE big", None), ("SIZE 1000", 1000),
])
def test_size_limit(line: str, size: int | None) -> None:
    # RFC 1870 4: no parameter, or 0, is no fixed limit.
    assert caps(line).size == size
    assert caps(line).has("SIZE")


def test_nothing_offered() -> None:
    c = caps()
    assert c.keywords == {} and c.size is None and c.auth == frozenset()
