"""Line-level rules over the whole buffer (S rules).

The fast path counts with C builtins: when CR, LF and CRLF counts agree there
is no bare CR or LF, and without those (or NUL) no smuggling sequence can
exist. Regexes run only to find the defects the counts proved are there.
"""

from __future__ import annotations

import re
from itertools import accumulate, count, repeat
from operator import add

from .._scan import BARE_CR as _BARE_CR
from .._scan import scan_lines
from .._shared import describe_bytes
from ..context import Context

__all__ = ["check_lines"]

# Each pattern starts with a literal octet, so the regex engine skips ahead
# to candidates at C speed instead of trying every position.
_BARE_LF = re.compile(rb"\n(?<!\r\n)")
# RFC 5321 4.1.1.4 and the SMTP smuggling research (SEC Consult 2023,
# SMTP-Smuggling-Tools): end-of-data look-alikes that some server accepts.
_SMUGGLING = re.compile(
    rb"\n(?<!\r\n)\.(?:\r\n|\r|\n)"    # <LF>.<CRLF>, <LF>.<CR>, <LF>.<LF>
    rb"|\r\.(?:\r\n|\r|\n)"            # <CR>.<CRLF>, <CR>.<CR>, <CR>.<LF>
    rb"|\r\n\.(?:\r(?!\n)|\n)"         # <CRLF>.<CR>, <CRLF>.<LF>
    rb"|\r\n\x00\.\r\n|\r\n\.\x00\r\n"  # NUL before / after the dot
    rb"|\r\r\n\.\r\r\n"                # the CR-condensing variant
)


_START = re.Match.start
# A literal two-octet regex finds these three times faster than bytes.find
# (which handles short needles with a slower general search).
_LF_DOT = re.compile(rb"\n\.")
_CR_DOT = re.compile(rb"\r\.")


def check_lines(ctx: Context, header_end: int) -> None:
    """The S rules. Spans the MIME checks proved regular (ctx.proven) are
    counted, not read; the rest is scanned once (see _scan.py)."""
    raw = ctx.raw
    n_lf = n_cr = n_crlf = 0
    for _, _, in_span, crlfs in ctx.proven:
        n_lf += in_span
        n_cr += crlfs
        n_crlf += crlfs
    spans = ctx.unproven()
    long_lines: list[tuple[int, int]] = []
    for a, b in spans:
        lf, cr, crlf, over = scan_lines(raw, a, b, ctx.line_length)
        n_lf += lf
        n_cr += cr
        n_crlf += crlf
        long_lines += over
    has_nul = b"\x00" in raw
    # Every LF not in a CRLF is bare, and every CR not in one too: the counts
    # give the totals, the regexes only the listed positions.
    if n_lf != n_crlf:
        if n_cr == 0 and len(spans) == 1 and not ctx.proven:
            # Every LF is bare: the LF that ends line i + 1 is at the lengths
            # of lines 0..i plus i, added up in C, and in column
            # len(line i) + 1.
            lines = raw.split(b"\n")
            ctx.add_line_run("bare-lf", map(add, accumulate(map(len, lines)), count()),
                             map(add, map(len, lines), repeat(1)), n_lf)
        else:
            ctx.add_each("bare-lf", map(_START, _BARE_LF.finditer(raw)), n_lf - n_crlf)
    if n_cr != n_crlf:
        ctx.add_each("bare-cr", map(_START, _BARE_CR.finditer(raw)), n_cr - n_crlf)
    if has_nul:
        pos = raw.find(b"\x00")
        while pos != -1:
            ctx.add("nul-byte", pos)
            pos = raw.find(b"\x00", pos + 1)
    # Every sequence has a dot just after a line break, or a NUL: a C search
    # for those skips the regex on a message that only has bare LF endings.
    if (n_lf != n_crlf or n_cr != n_crlf or has_nul) and ctx.wants("S107") and (
            has_nul or _LF_DOT.search(raw) or (n_cr and _CR_DOT.search(raw))):
        for m in _SMUGGLING.finditer(raw):
            ctx.add("smtp-smuggling-sequence", m.start(), seq=describe_bytes(m.group()))
    if long_lines:
        _long_lines(ctx, header_end, long_lines)


def _long_lines(ctx: Context, header_end: int, found: list[tuple[int, int]]) -> None:
    """The findings for ``found``: (start, length) of each line over
    ctx.line_length octets."""
    warn = ctx.line_length
    raw = ctx.raw
    for start, length in found:
        where = "A header" if start < header_end else "A body"
        if length > 998:
            ctx.add("line-too-long", start + 998, where=where, length=length, limit=998)
            continue
        unit, at = "octets", start + warn
        if ctx.utf8:
            # RFC 6532 3.4: with UTF-8 the 998 limit is in octets, but the
            # 78 one stays in characters (it is about display width).
            try:
                text = raw[start:start + length].decode("utf-8")
            except UnicodeDecodeError:
                pass        # not UTF-8: E101 says so; the octets are counted
            else:
                if len(text) <= warn:
                    continue
                unit, length = "characters", len(text)
                at = start + len(text[:warn].encode("utf-8"))
        ctx.add("line-over-78", at, where=where, length=length, limit=warn, unit=unit)
