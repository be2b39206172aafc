"""``mailfmt lint PATH...``: exit 0 clean, 1 findings, 2 usage error or unreadable file."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ..rules import Severity, get_rule
from .config import ConfigError, find_config
from .engine import LintConfig, lint
from .render import RENDERERS
from .violation import Report

__all__ = ["add_fmt_parser", "add_lint_parser", "run_fmt", "run_lint"]


class UsageError(Exception):
    """Bad arguments or an unreadable input: exit 2 with a one-line message."""


def add_lint_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("lint", help="lint .eml files: every violation with rule and place")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="files, directories (searched recursively) or - for stdin")
    p.add_argument("--format", choices=sorted(RENDERERS), default="text")
    p.add_argument("--select", action="append", default=None, metavar="CODES",
                   help="rule codes, prefixes or names to run (comma-separated)")
    p.add_argument("--ignore", action="append", default=None, metavar="CODES",
                   help="rule codes, prefixes or names to skip (comma-separated)")
    p.add_argument("--line-length", type=int, default=None,
                   help="line length that earns the S106 warning (default 78)")
    p.add_argument("--glob", default=None, help="file pattern inside directories (*.eml)")
    p.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    p.add_argument("--statistics", action="store_true", help="print counts per rule")
    p.add_argument("--jobs", "-j", type=int, default=0,
                   help="parallel processes (default: all cores)")
    p.add_argument("--no-config", action="store_true", help="ignore pyproject.toml")
    p.add_argument("--utf8", action="store_true",
                   help="the mail is sent with SMTPUTF8: allow UTF-8 in header fields")
    p.set_defaults(func=run_lint)


def _split(values: list[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    return tuple(v.strip() for item in values for v in item.split(",") if v.strip())


def _check_codes(codes: tuple[str, ...]) -> None:
    for c in codes:
        if not c:
            continue
        try:
            get_rule(c)
        except KeyError:
            if not any(r_code.startswith(c.upper()) for r_code in _all_codes()):
                raise UsageError(f"unknown rule or prefix {c!r}") from None


def _all_codes() -> list[str]:
    from ..rules import RULES

    return [r.code for r in RULES]


def _inputs(paths: list[str], glob: str, command: str = "lint") -> Iterator[str]:
    for raw in paths:
        if raw == "-":
            yield "-"
            continue
        p = Path(raw)
        if p.is_dir():
            found = [str(f) for f in sorted(p.rglob(glob)) if f.is_file()]
            if not found:
                # Not an error (an empty tree is clean), but never silent.
                print(f"mailfmt {command}: warning: no files matching {glob!r} under {raw}",
                      file=sys.stderr)
            yield from found
        elif p.exists():
            yield str(p)
        else:
            raise UsageError(f"no such file or directory: {raw}")


def _lint_one(args: tuple[str, LintConfig]) -> Report | str:
    path, cfg = args
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    try:
        return lint(data, cfg, path="-" if path == "-" else path)
    except Exception as exc:  # a bug in mailfmt: say so in one line, exit 2
        return f"internal error while linting {path}: {type(exc).__name__}: {exc}"


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // total
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def run_lint(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (UsageError, ConfigError) as exc:
        print(f"mailfmt lint: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    fc = find_config(Path.cwd()) if not args.no_config else None
    select = _split(args.select) or (fc.select if fc else None) or ("",)
    ignore = _split(args.ignore) or (fc.ignore if fc else None) or ()
    _check_codes(select + ignore)
    line_length = args.line_length or (fc.line_length if fc else None) or 78
    if not 78 <= line_length <= 998:
        raise UsageError("--line-length must be between 78 and 998")
    strict = args.strict or bool(fc and fc.strict)
    glob = args.glob or (fc.glob if fc else None) or "*.eml"
    cfg = LintConfig(select=select, ignore=ignore, line_length=line_length, utf8=args.utf8)
    files = list(_inputs(args.paths, glob))
    if files.count("-") > 1:
        raise UsageError("'-' (stdin) can be given once")
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    work = [(f, cfg) for f in files]
    show = sys.stderr.isatty() and len(files) >= 50
    results: list[Report | str] = []
    if jobs > 1 and len(files) >= 8 and "-" not in files:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            # map keeps the input order, so the output is the same for any N.
            for i, res in enumerate(pool.map(_lint_one, work, chunksize=8), 1):
                results.append(res)
                if show:
                    _progress(i, len(files))
    else:
        for i, item in enumerate(work, 1):
            results.append(_lint_one(item))
            if show:
                _progress(i, len(files))
    failures = [r for r in results if isinstance(r, str)]
    reports = [r for r in results if isinstance(r, Report)]
    sys.stdout.write(RENDERERS[args.format](reports))
    if args.statistics:
        _statistics(reports)
    for msg in failures:
        print(f"mailfmt lint: {msg}", file=sys.stderr)
    if failures:
        return 2
    fail_at = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    if any(v.severity in fail_at for r in reports for v in r.violations):
        return 1
    return 0


def _statistics(reports: Sequence[Report]) -> None:
    counts: Counter[str] = Counter()
    for r in reports:
        counts.update(r.counts())
    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        rule = get_rule(code)
        print(f"{n:>7}  {code}  {rule.name:<28} {rule.severity.value}")


def add_fmt_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("fmt", help="rewrite .eml files into conforming form where safe")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="files or directories, or - to fix stdin to stdout")
    p.add_argument("--check", action="store_true",
                   help="change nothing; exit 1 if any file would change")
    p.add_argument("--diff", action="store_true", help="print a diff instead of writing")
    p.add_argument("--glob", default="*.eml", help="file pattern inside directories")
    p.add_argument("--break-signatures", action="store_true",
                   help="also change what a DKIM, ARC or multipart/signed signature covers "
                        "(the signature then fails)")
    p.set_defaults(func=run_fmt)


def run_fmt(args: argparse.Namespace) -> int:
    try:
        return _fmt(args)
    except UsageError as exc:
        print(f"mailfmt fmt: {exc}", file=sys.stderr)
        return 2


def _fmt(args: argparse.Namespace) -> int:
    import difflib
    import tempfile

    from .fix import fix
    from .render.text import render_text

    files = list(_inputs(args.paths, args.glob, "fmt"))
    if "-" in files and len(files) > 1:
        raise UsageError("'-' (stdin, fixed to stdout) goes alone")
    would_change = failed = unfixed = 0
    for name in files:
        path = Path(name)
        try:
            raw = sys.stdin.buffer.read() if name == "-" else path.read_bytes()
        except OSError as exc:
            print(f"mailfmt fmt: cannot read {name}: {exc.strerror or exc}", file=sys.stderr)
            failed += 1
            continue
        result = fix(raw, keep_signatures=not args.break_signatures)
        if name == "-" and not (args.check or args.diff):
            # A filter, as 'ruff format -' is: the message out, changed or not.
            sys.stdout.buffer.write(result.data)
            sys.stdout.flush()
        for note in result.notes:
            print(f"{name}: {note}", file=sys.stderr)   # each note says what was left
        if result.remaining:
            unfixed += 1
            sys.stderr.write(render_text([Report(tuple(result.remaining), path=name)]))
        if not result.changed:
            continue
        would_change += 1
        if args.diff:
            a = raw.decode("latin-1").splitlines(keepends=True)
            b = result.data.decode("latin-1").splitlines(keepends=True)
            sys.stdout.writelines(difflib.unified_diff(a, b, f"{name}\t(original)",
                                                       f"{name}\t(formatted)"))
        elif args.check:
            print(f"would reformat {name}")
        elif name == "-":
            pass        # written above
        else:
            # Write beside the file and rename over it: never half a file.
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False,
                                             prefix=f".{path.name}.") as tmp:
                tmp.write(result.data)
            Path(tmp.name).replace(path)
            print(f"reformatted {name}")
    if failed:
        return 2
    if (args.check or args.diff) and would_change:
        return 1
    return 1 if unfixed else 0
