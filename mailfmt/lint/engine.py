"""``lint``: every violation in one message, by position."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .._limits import MAX_HEADER_FIELDS
from ..rules import select_rules
from .checks.headers import check_message_fields, check_section_syntax
from .checks.lines import check_lines
from .checks.mime import check_entity, first_fields
from .context import Context
from .plain import plain_section
from .source import read_section
from .violation import Report

__all__ = ["LintConfig", "lint", "lint_file"]


@dataclass(frozen=True)
class LintConfig:
    """Which rules run, and the line length that earns a warning.

    ``select`` and ``ignore`` take code prefixes (``"H1"``, ``"S"``) or rule
    names, as ruff's options do.

    >>> cfg = LintConfig(select=("S",), ignore=("line-over-78",))
    >>> "S102" in cfg.enabled, "S106" in cfg.enabled, "H101" in cfg.enabled
    (True, False, False)
    """

    select: tuple[str, ...] = ("",)
    ignore: tuple[str, ...] = ()
    line_length: int = 78
    #: the message travels with SMTPUTF8 (RFC 6531/6532): UTF-8 in header
    #: fields is allowed, only octets that are not UTF-8 break E101
    utf8: bool = False
    enabled: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        codes = frozenset(r.code for r in select_rules(self.select, self.ignore) if r.lint)
        object.__setattr__(self, "enabled", codes)


_DEFAULT = LintConfig()


def lint(raw: bytes | bytearray | memoryview, config: LintConfig | None = None, *,
         path: str | None = None) -> Report:
    """Lint one message. Never raises on any input bytes.

    >>> r = lint(b"From: a@example.com\\nDate: Fri, 21 Nov 1997 09:55:06 -0600\\n"
    ...          b"Message-ID: <1@example.com>\\n\\nhi\\n")
    >>> r.violations[0].code, r.violations[0].line, r.ok
    ('S102', 1, False)
    """
    data = bytes(raw)
    cfg = config or _DEFAULT
    ctx = Context(data, cfg.enabled, cfg.line_length, utf8=cfg.utf8)
    plain = plain_section(data)
    if plain is not None and plain[2] and cfg.utf8:
        plain = None        # UTF-8 is allowed: the full checks read it
    if plain is None:
        top = read_section(data, 0, len(data), MAX_HEADER_FIELDS)
        check_section_syntax(ctx, top, None)
        check_message_fields(ctx, top)
        fields, body_start = first_fields(top), top.body_start
    else:
        # The header rules have nothing to find but 8-bit text (see plain.py).
        fields, body_start, eight_bit = plain
        for offset, name in eight_bit:
            ctx.add("non-ascii-header", offset, header=name)
    check_entity(ctx, fields, body_start, len(data))
    # After the MIME walk, which marks the regular base64 spans it proved.
    check_lines(ctx, body_start)
    # Positional: one per message, and keywords cost a fifth of the call.
    return Report(tuple(ctx.violations()) if ctx.found else (), path, len(data), ctx.suppressed)


def lint_file(path: str | Path, config: LintConfig | None = None) -> Report:
    """Lint the message in a file (read whole: messages are bounded).

    >>> lint_file("tests/lint/fixtures/S103.eml").violations[0].code  # doctest: +SKIP
    'S103'
    """
    p = Path(path)
    return lint(p.read_bytes(), config, path=str(p))
