"""``mailfmt sink`` and ``mailfmt demo`` on the command line."""

from __future__ import annotations

import argparse
import importlib.util
import ssl
import sys
import time
from pathlib import Path

from .sink import Sink, SinkError, print_message

__all__ = ["add_demo_parser", "add_sink_parser"]


def add_sink_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("sink", help="run an SMTP server that stores and lints every message")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=2525)
    p.add_argument("--maildir", default=None, help="default: a temporary Maildir")
    p.add_argument("--strict", action="store_true",
                   help="reject messages with bare LF, as a strict server does")
    p.add_argument("--tls-cert", default=None, help="offer STARTTLS with this certificate")
    p.add_argument("--tls-key", default=None)
    p.add_argument("--auth", default=None, metavar="USER:PASS", help="require AUTH")
    p.add_argument("--json", action="store_true", help="one JSON object per message")
    p.add_argument("--lmtp", action="store_true",
                   help="speak LMTP (RFC 2033): LHLO, and a reply per recipient after the data")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow listening on a non-loopback address")
    p.set_defaults(func=run_sink)


def run_sink(args: argparse.Namespace) -> int:
    ctx = None
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
    auth = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep:
            print("mailfmt sink: --auth takes USER:PASS", file=sys.stderr)
            return 2
        auth = (user, password)
    try:
        sink = Sink(args.host, args.port, maildir=args.maildir, strict=args.strict,
                    tls_context=ctx, auth=auth, allow_remote=args.allow_remote,
                    on_message=lambda m: print_message(m, as_json=args.json), lmtp=args.lmtp)
        sink.start()
    except SinkError as exc:
        print(f"mailfmt sink: {exc}", file=sys.stderr)
        return 2
    print(f"mailfmt sink: listening on {sink.host}:{sink.port}"
          f"{' (LMTP)' if sink.lmtp else ''}, Maildir {sink.maildir}",
          file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()
    print(f"mailfmt sink: stopped; {len(sink.messages)} message(s) in {sink.maildir}",
          file=sys.stderr)
    return 0


def add_demo_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("demo", help="build the examples, send them to an embedded sink, "
                                    "lint what arrived")
    p.add_argument("--examples", default="examples",
                   help="a directory of Python files that each define build() -> Message")
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from .transport import SMTPClient

    folder = Path(args.examples)
    files = sorted(p for p in folder.glob("*.py") if not p.name.startswith(("_", "build_all")))
    if not files:
        print(f"mailfmt demo: no example files in {folder}", file=sys.stderr)
        return 2
    failed = 0
    with Sink() as sink:
        print(f"== embedded sink on {sink.host}:{sink.port}, Maildir {sink.maildir}\n")
        for f in files:
            spec = importlib.util.spec_from_file_location(f"mailfmt_example_{f.stem}", f)
            assert spec is not None
            assert spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            message = module.build()
            before = len(sink.messages)
            print(f"== {f.name}: {message.subject!r}")
            with SMTPClient(sink.host, sink.port, tls="none", timeout=30) as client:
                result = client.send(message)
            for line in result.transcript:
                print(f"   {line}")
            for r in result.recipients:
                print(f"   -> {r.status} {r.address} {r.code or ''}")
            for received in sink.messages[before:]:
                same = received.raw == message.to_bytes() or \
                    received.raw == message.to_bytes() + b"\r\n"
                verdict = "clean" if not received.report.violations else \
                    ", ".join(f"{v.code} {v.name}" for v in received.report.violations)
                print(f"   arrived: {len(received.raw)} octets, byte-exact: {same}, "
                      f"lint: {verdict}")
                failed += (not same) + (not received.report.ok)
            print()
        print(f"{len(files)} examples sent to {len(sink.messages)} mailbox deliveries, "
              f"{failed} problems")
    sink.cleanup()
    return 1 if failed else 0
