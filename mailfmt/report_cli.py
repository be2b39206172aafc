"""``mailfmt report FILE.eml...``: what delivery status notifications
(RFC 3464) say, one line per recipient: action, address, status, diagnostic.

Exit codes: 0 every recipient delivered (or relayed, or expanded), 1 a
recipient failed or delayed, 2 usage error, unreadable file or a file that is
not a report it can read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import ReportError
from .parse.report import DeliveryReport, read_report

__all__ = ["add_report_parser", "run_report"]

_BAD_NEWS = ("failed", "delayed")


def add_report_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("report", help="read delivery status notifications (bounces and "
                                      "delivery reports, RFC 3464)")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="reports as stored, e.g. from a Maildir (- for standard input)")
    p.add_argument("--json", action="store_true", help="one JSON object per report")
    p.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    bad = news = 0
    many = len(args.files) > 1
    for name in args.files:
        try:
            raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
            report = read_report(raw)
        except OSError as exc:
            bad += 1
            print(f"mailfmt report: cannot read {name}: {exc.strerror or exc}", file=sys.stderr)
            continue
        except ReportError as exc:
            bad += 1
            print(f"mailfmt report: {name}: {exc}", file=sys.stderr)
            continue
        news += any(r.action in _BAD_NEWS for r in report.recipients)
        if args.json:
            print(json.dumps(_as_json(name, report)))
            continue
        prefix = f"{name}: " if many else ""
        if report.envid is not None:
            print(f"{prefix}envelope id {report.envid}")
        for r in report.recipients:
            status = ".".join(map(str, r.status))
            print(f"{prefix}{r.action:<9} {r.original_recipient or r.final_recipient}  "
                  f"{status}  {r.diagnostic or ''}".rstrip())
    return 2 if bad else 1 if news else 0


def _as_json(name: str, report: DeliveryReport) -> dict[str, object]:
    return {"file": name, "envid": report.envid, "reporting_mta": report.reporting_mta,
            "recipients": [{"final_recipient": r.final_recipient,
                            "original_recipient": r.original_recipient,
                            "action": r.action, "status": ".".join(map(str, r.status)),
                            "diagnostic": r.diagnostic, "remote_mta": r.remote_mta}
                           for r in report.recipients]}
