"""The ``mailfmt`` command line.

Exit codes follow ruff: 0 success, 1 findings, 2 usage error or failure;
130 when interrupted (Ctrl-C), with one line saying so and, for a send, what
became of the messages.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .rules import RULES, Rule, get_rule

__all__ = ["main", "rule_doc"]


def rule_doc(rule: Rule) -> str:
    """A rule's documentation as text: what, why, example, fix, RFC clause."""
    return (
        f"{rule.code} {rule.name} ({rule.severity.value})\n"
        f"RFC: {rule.rfc}\n\n"
        f"What it checks\n  {rule.what}\n\n"
        f"Why it matters\n  {rule.why}\n\n"
        f"Example\n  {rule.example}\n\n"
        f"How to fix\n  {rule.fix}\n"
    )


def _rule(args: argparse.Namespace) -> int:
    if args.all:
        if args.format == "json":
            print(json.dumps([_as_json(r) for r in RULES], indent=2))
        else:
            for r in RULES:
                print(f"{r.code}  {r.severity.value:<7}  {r.name:<28}  {r.rfc}")
        return 0
    if not args.code:
        print("mailfmt rule: give a rule code or name, or --all", file=sys.stderr)
        return 2
    try:
        rule = get_rule(args.code)
    except KeyError:
        print(f"mailfmt rule: no rule {args.code!r} (see 'mailfmt rule --all')", file=sys.stderr)
        return 2
    print(json.dumps(_as_json(rule), indent=2) if args.format == "json" else rule_doc(rule))
    return 0


def _as_json(rule: Rule) -> dict[str, str]:
    return {"code": rule.code, "name": rule.name, "severity": rule.severity.value,
            "rfc": rule.rfc, "message": rule.template, "what": rule.what, "why": rule.why,
            "example": rule.example, "fix": rule.fix, "url": rule.url}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mailfmt", description="Email that is correct "
                                     "by construction: models, formatter, rules.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_rule = sub.add_parser("rule", help="show a rule's documentation")
    p_rule.add_argument("code", nargs="?", help="rule code (H101) or name (header-name-invalid)")
    p_rule.add_argument("--all", action="store_true", help="list every rule")
    p_rule.add_argument("--format", choices=("text", "json"), default="text")
    p_rule.set_defaults(func=_rule)
    from .lint.cli import add_fmt_parser, add_lint_parser

    add_lint_parser(sub)
    add_fmt_parser(sub)
    from .report_cli import add_report_parser
    from .sink_cli import add_demo_parser, add_sink_parser
    from .transport.cli import add_send_parser

    add_send_parser(sub)
    add_report_parser(sub)
    add_sink_parser(sub)
    add_demo_parser(sub)
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
    except KeyboardInterrupt as exc:
        # The transport notes on the exception what became of the messages.
        notes = [n.removeprefix("mailfmt: ") for n in getattr(exc, "__notes__", [])]
        print("mailfmt: interrupted" + "".join(f"; {n}" for n in notes), file=sys.stderr)
        return 130     # 128 + SIGINT, as shells report it
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
