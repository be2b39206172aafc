"""The writer's own last checks and shortcuts, at their edges."""

from __future__ import annotations

import pytest

from mailfmt import Message, Policy
from mailfmt.errors import FormatError
from mailfmt.format.writer import _check_block


@pytest.mark.parametrize("block", [
    b"X-A: a\rb\r\n",                 # a CR alone
    b"X-A: a\nb\r\n",                 # a LF alone
    b"X-A: a\x00b\r\n",               # a NUL
    b"X-A: a\r\nBcc victim\r\n",      # a line that neither continues a field nor starts one
    b"X-A: a\r\n\r\nbody\r\n",        # an empty line: the body would start early
])
def test_the_last_check_refuses_what_would_break_the_header(block: bytes) -> None:
    """The check every header block passes before its first byte is written
    (a formatter bug, or a model made without validation, must not become
    header injection); fold and field_line refuse these first, so it is
    called here as it is."""
    with pytest.raises(FormatError) as info:
        _check_block(block, False, "header block")
    assert info.value.rule.name == "line-break-in-value"
    assert "header block" in str(info.value)


@pytest.mark.parametrize("block", [
    b"X-A: a\r\n", b"X-A: a\r\n b\r\n", b"X-A: a\r\n\tb\r\nX-B: c\r\n",
    "Subject: Grüße\r\n".encode(),
])
def test_the_last_check_passes_well_formed_blocks(block: bytes) -> None:
    _check_block(block, True, "header block")


@pytest.mark.parametrize("width", [78, 79])
def test_bare_addresses_fold_past_78_octets(width: int) -> None:
    """The one-line shortcut for bare addresses stops at the line limit: a
    To field of 78 octets stays on one line, one of 79 folds."""
    local = "x" * (width - len("To: a@example.org, @example.org"))
    to = ["a@example.org", f"{local}@example.org"]
    raw = Message(from_="a@example.com", to=to, text="x").to_bytes()
    start = end = raw.index(b"\r\nTo: ") + 2
    while True:     # the field's lines: up to a line break no blank follows
        end = raw.index(b"\r\n", end) + 2
        if raw[end:end + 1] not in (b" ", b"\t"):
            break
    field = raw[start:end]
    if width == 78:
        assert field == f"To: a@example.org, {local}@example.org\r\n".encode()
    else:
        assert field == f"To: a@example.org,\r\n {local}@example.org\r\n".encode()


def test_an_address_list_folds_at_the_policy_limit() -> None:
    """A longer line limit (Policy.max_line_length) holds for address lists
    too long for one line: folded at that limit, not at 78."""
    to = [f"{c * 13}@example.org" for c in "abcd"]      # 25 octets each, 110 on one line
    raw = Message(from_="a@example.com", to=to, text="x",
                  policy=Policy(max_line_length=100)).to_bytes()
    field = raw[raw.index(b"\r\nTo: ") + 2:raw.index(b"\r\nMessage-ID")]
    assert field.split(b"\r\n") == [f"To: {to[0]}, {to[1]}, {to[2]},".encode(),
                                     f" {to[3]}".encode()]     # 84 octets, then 26
