"""SMTP client throughput and memory: smtplib, aiosmtplib, mailfmt (sync and
async) and two raw floors, in one run, each server in its own process.

    pip install -e .[bench]
    python benchmarks/smtp.py [--messages 2000] [--big-mb 100] [--repeat 3]
                              [--cpus any|same|apart]

Servers: a minimal asyncio server that answers every command at once (it
shows the client's own cost), aiosmtpd, and Postfix when MAILFMT_POSTFIX_PORT
is set (.ci/postfix.sh starts one). Per client: messages per second over one
connection, and client CPU time per message (time.process_time, which does
not count the server processes), the best of --repeat interleaved rounds,
with the median and the spread of the rounds' rates beside it.
Two floors that only move bytes: one that waits for each reply as the
rules require (DATA's 354 before the data; one command at a time without
PIPELINING), which bounds any client sending one message at a time, and one
that writes everything at once without waiting, which bounds any client.
Then the peak memory growth (ru_maxrss) of sending one message with a large
attachment, in a fresh process per client.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from mailfmt import Message
from mailfmt.transport import AsyncSMTPClient, SendResult, SMTPClient

FROM, TO = "bench@example.com", "sink@example.org"


# ---- servers -----------------------------------------------------------------------

def _fast_server(port: int, ready: mp.synchronize.Event) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 fast ESMTP\r\n")
        buf = b""
        in_data = False
        while True:
            try:
                chunk = await reader.read(262144)
            except ConnectionResetError:
                break
            if not chunk:
                break
            buf += chunk
            out = []
            while True:
                if in_data:
                    end = buf.find(b"\r\n.\r\n")
                    if end == -1 and buf.startswith(b".\r\n"):
                        end, skip = 0, 3
                    elif end == -1:
                        # keep a tail that may hold the start of the terminator
                        break
                    else:
                        skip = 5
                    buf = buf[end + skip:]
                    in_data = False
                    out.append(b"250 2.0.0 queued\r\n")
                    continue
                nl = buf.find(b"\r\n")
                if nl == -1:
                    break
                line, buf = buf[:nl], buf[nl + 2:]
                verb = line[:4].upper()
                if verb == b"EHLO":
                    out.append(b"250-fast\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 0\r\n")
                elif verb == b"DATA":
                    in_data = True
                    out.append(b"354 go\r\n")
                elif verb == b"QUIT":
                    out.append(b"221 bye\r\n")
                else:
                    out.append(b"250 ok\r\n")
            if out:
                writer.write(b"".join(out))
                await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        ready.set()
        async with server:
            await server.serve_forever()
    asyncio.run(main())


def _aiosmtpd_server(port: int, ready: mp.synchronize.Event) -> None:
    from aiosmtpd.controller import Controller

    class Discard:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            return "250 OK"
    ctl = Controller(Discard(), hostname="127.0.0.1", port=port, data_size_limit=0)
    ctl.start()
    ready.set()
    while True:
        time.sleep(3600)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pinned(target: Callable[[int, mp.synchronize.Event], None], cpus: set[int] | None,
            port: int, ready: mp.synchronize.Event) -> None:
    if cpus is not None:
        os.sched_setaffinity(0, cpus)
    target(port, ready)


def start(target: Callable[[int, mp.synchronize.Event], None],
          cpus: set[int] | None = None) -> tuple[mp.Process, int]:
    port = free_port()
    ready = mp.Event()
    proc = mp.Process(target=_pinned, args=(target, cpus, port, ready), daemon=True)
    proc.start()
    ready.wait(10)
    time.sleep(0.2)
    return proc, port


# ---- clients -----------------------------------------------------------------------

def build(n: int) -> list[Message]:
    body = "This is a line of a typical notification message body.\n" * 85
    return [Message(from_=FROM, to=TO, subject=f"Message {i}", text=body,
                    message_id=f"<bench-{i}@example.com>") for i in range(n)]


def std_messages(msgs: list[Message]) -> list[EmailMessage]:
    out = []
    for m in msgs:
        e = EmailMessage()
        e["From"], e["To"], e["Subject"] = FROM, TO, m.subject or ""
        e["Date"], e["Message-ID"] = format_datetime(m.date), m.message_id
        e.set_content(m.text or "")
        out.append(e)
    return out


def run_smtplib_objects(port: int, msgs: list[Message], raw: list[bytes]) -> None:
    with smtplib.SMTP("127.0.0.1", port) as s:
        for e in std_messages(msgs):
            s.send_message(e)


def run_aiosmtplib_objects(port: int, msgs: list[Message], raw: list[bytes]) -> None:
    import aiosmtplib

    objs = std_messages(msgs)

    async def main() -> None:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False) as s:
            for e in objs:
                await s.send_message(e)
    asyncio.run(main())


def run_smtplib(port: int, msgs: list[Message], raw: list[bytes]) -> None:
    with smtplib.SMTP("127.0.0.1", port) as s:
        for data in raw:
            s.sendmail(FROM, [TO], data)


def run_aiosmtplib(port: int, msgs: list[Message], raw: list[bytes]) -> None:
    import aiosmtplib

    async def main() -> None:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False) as s:
            for data in raw:
                await s.sendmail(FROM, [TO], data)
    asyncio.run(main())


def run_mailfmt(port: int, msgs: list[Message], raw: list[bytes]) -> None:
    with SMTPClient("127.0.0.1", port, tls="none") as c:
        for m in msgs:
            c.send(m)


def run_mailfmt_async(port: int, msgs: list[Message], raw: list[bytes]) -> None:
    async def main() -> None:
        async with AsyncSMTPClient("127.0.0.1", port, tls="none") as c:
            for m in msgs:
                await c.send(m)
    asyncio.run(main())


def run_mailfmt_many(port: int, msgs: list[Message], raw: list[bytes]) -> None:
    with SMTPClient("127.0.0.1", port, tls="none") as c:
        outcomes = c.send_many(msgs)
    assert all(isinstance(o, SendResult) for o in outcomes)


def run_mailfmt_many_async(port: int, msgs: list[Message], raw: list[bytes]) -> None:
    async def main() -> None:
        async with AsyncSMTPClient("127.0.0.1", port, tls="none") as c:
            outcomes = await c.send_many(msgs)
        assert all(isinstance(o, SendResult) for o in outcomes)
    asyncio.run(main())


def run_raw(port: int, msgs: list[Message], raw: list[bytes]) -> None:
    """The floor: the same command stream, pipelined, no checks, no parsing."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        f = s.makefile("rb")

        def reply() -> None:
            line = f.readline()
            while line[3:4] == b"-":
                line = f.readline()
        reply()
        s.sendall(b"EHLO bench.example.com\r\n")
        reply()
        head = f"MAIL FROM:<{FROM}>\r\nRCPT TO:<{TO}>\r\nDATA\r\n".encode()
        for data in raw:
            s.sendall(head + data.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n")
            for _ in range(4):
                reply()
        s.sendall(b"QUIT\r\n")
        reply()


def run_raw_compliant(port: int, msgs: list[Message], raw: list[bytes]) -> None:
    """The floor of a client that keeps the rules: the same bytes, no checks,
    no parsing, but the message data waits for DATA's 354 (RFC 2920 3.1), and
    commands go one at a time when the server does not offer PIPELINING:
    two round trips per message at best, four without PIPELINING."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = s.makefile("rb")

        def reply() -> bytes:
            lines = [f.readline()]
            while lines[-1][3:4] == b"-":
                lines.append(f.readline())
            return b"".join(lines)
        reply()
        s.sendall(b"EHLO bench.example.com\r\n")
        pipelining = b"PIPELINING" in reply().upper()
        mail, rcpt = f"MAIL FROM:<{FROM}>\r\n".encode(), f"RCPT TO:<{TO}>\r\n".encode()
        for data in raw:
            if pipelining:
                s.sendall(mail + rcpt + b"DATA\r\n")
                reply(), reply(), reply()
            else:
                for command in (mail, rcpt, b"DATA\r\n"):
                    s.sendall(command)
                    reply()
            s.sendall(data.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n")
            reply()
        s.sendall(b"QUIT\r\n")
        reply()


# Each library sends its own message objects (formatting included for all);
# "bytes" rows give smtplib and aiosmtplib pre-serialized bytes, their best case.
CLIENTS = [("smtplib (objects)", run_smtplib_objects), ("smtplib (bytes)", run_smtplib),
           ("aiosmtplib (objects)", run_aiosmtplib_objects),
           ("aiosmtplib (bytes)", run_aiosmtplib),
           ("mailfmt (sync)", run_mailfmt), ("mailfmt (async)", run_mailfmt_async),
           ("mailfmt send_many (sync)", run_mailfmt_many),
           ("mailfmt send_many (async)", run_mailfmt_many_async),
           ("raw compliant floor", run_raw_compliant), ("raw pipelined floor", run_raw)]


def measure(fn: Callable[..., None], port: int, msgs: list[Message],
            raw: list[bytes]) -> tuple[float, float]:
    cpu0, t0 = time.process_time(), time.perf_counter()
    fn(port, msgs, raw)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return len(msgs) / wall, cpu / len(msgs) * 1e6


# ---- memory ------------------------------------------------------------------------

_MEM_CHILD = r"""
import resource, sys, smtplib
from email.message import EmailMessage
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
kind, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def rss(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from mailfmt import Attachment, Message
from mailfmt.transport import SMTPClient
import aiosmtplib, asyncio
base = rss()
if kind == "mailfmt":
    m = Message(from_="bench@example.com", to="sink@example.org", text="big",
                attachments=[Attachment.from_path(path)])
    with SMTPClient("127.0.0.1", port, tls="none") as c:
        c.send(m)
else:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "bench@example.com", "sink@example.org", "big"
    m.set_content("big")
    m.add_attachment(Path(path).read_bytes(), maintype="application",
                     subtype="octet-stream", filename="big.bin")
    with smtplib.SMTP("127.0.0.1", port) as s:
        s.send_message(m)
print((rss() - base) / 1024)
"""


def memory(port: int, size_mb: int) -> list[tuple[str, float]]:
    with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
        block = os.urandom(1 << 20)
        for _ in range(size_mb):
            f.write(block)
        path = f.name
    try:
        out = []
        for kind in ("mailfmt", "smtplib"):
            res = subprocess.run([sys.executable, "-c", _MEM_CHILD, kind, str(port), path],
                                 capture_output=True, text=True, check=True)
            out.append((kind, float(res.stdout.strip())))
        return out
    finally:
        Path(path).unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--big-mb", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3,
                    help="rounds per server; each client's best round is reported")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    ap.add_argument("--cpus", choices=("any", "same", "apart"), default="any",
                    help="where the client and the in-process servers run: wherever the OS "
                         "puts them (the default), all on CPU 0, or the client on CPU 0 and "
                         "the server on CPU 1 (Linux). Which one decides what a round trip "
                         "costs on loopback: on one CPU the reply comes at the next context "
                         "switch and the client's CPU time is all that counts; apart, each "
                         "round trip wakes the other CPU")
    args = ap.parse_args()
    server_cpus: set[int] | None = None
    if args.cpus != "any":
        if not hasattr(os, "sched_setaffinity"):
            ap.error("--cpus same|apart needs os.sched_setaffinity (Linux)")
        if not ({0, 1} if args.cpus == "apart" else {0}) <= os.sched_getaffinity(0):
            ap.error(f"--cpus {args.cpus} needs CPU 0" + (" and CPU 1" if args.cpus == "apart"
                                                          else "") + " to be available")
        os.sched_setaffinity(0, {0})
        server_cpus = {0} if args.cpus == "same" else {1}
    results: list[dict[str, object]] = []
    msgs = build(args.messages)
    raw = [m.to_bytes() for m in msgs]
    print(f"{len(msgs)} messages of {len(raw[0])} octets, one connection per client, "
          f"CPUs: {args.cpus}\n")
    servers: list[tuple[str, int, mp.Process | None]] = []
    for name, target in (("fast server", _fast_server), ("aiosmtpd", _aiosmtpd_server)):
        proc, port = start(target, server_cpus)
        servers.append((name, port, proc))
    if os.environ.get("MAILFMT_POSTFIX_PORT"):
        servers.append(("postfix", int(os.environ["MAILFMT_POSTFIX_PORT"]), None))
    try:
        for name, port, _ in servers:
            print(f"== {name}")
            print(f"   {'client':<27}{'best/s':>10}{'median':>10}{'spread':>14}"
                  f"{'CPU us':>9}")
            rounds: dict[str, list[float]] = {cname: [] for cname, _ in CLIENTS}
            cpus: dict[str, float] = {}
            # Rounds interleave the clients, so that a noisy moment on the
            # machine does not fall on one of them only; each keeps its best,
            # and the median and the spread say how much one round can tell.
            for _ in range(args.repeat):
                for cname, fn in CLIENTS:
                    rate, cpu = measure(fn, port, msgs, raw)
                    rounds[cname].append(rate)
                    cpus[cname] = min(cpu, cpus.get(cname, cpu))
            rates = {cname: max(r) for cname, r in rounds.items()}
            medians = {cname: statistics.median(r) for cname, r in rounds.items()}
            for cname, _ in CLIENTS:
                spread = f"{min(rounds[cname]):.0f}-{max(rounds[cname]):.0f}"
                print(f"   {cname:<27}{rates[cname]:>10.0f}{medians[cname]:>10.0f}"
                      f"{spread:>14}{cpus[cname]:>9.0f}")
            where = "" if args.cpus == "any" or name == "postfix" else \
                f", {'one CPU' if args.cpus == 'same' else 'two CPUs'}"
            results.append({"case": f"5 KB messages, {name}{where}", "unit": "messages/s",
                            "rates": dict(rates), "medians": medians,
                            "rounds": {c: [round(x, 1) for x in r] for c, r in rounds.items()}})
            for ours, theirs in (("mailfmt (sync)", "smtplib"),
                                 ("mailfmt send_many (sync)", "smtplib"),
                                 ("mailfmt (async)", "aiosmtplib"),
                                 ("mailfmt send_many (async)", "aiosmtplib")):
                print(f"   {ours} / {theirs}: "
                      f"{rates[ours] / rates[theirs + ' (objects)']:.2f}x objects, "
                      f"{rates[ours] / rates[theirs + ' (bytes)']:.2f}x bytes "
                      f"(medians: {medians[ours] / medians[theirs + ' (bytes)']:.2f}x)")
            # What no client could beat one message at a time, keeping the
            # rules: the compliant floor, which only moves bytes.
            for ours in ("mailfmt (sync)", "smtplib (bytes)", "mailfmt send_many (sync)"):
                print(f"   {ours} / raw compliant floor: "
                      f"{rates[ours] / rates['raw compliant floor']:.2f}x")
            print()
        fast_port = servers[0][1]
        print(f"== peak memory growth sending a {args.big_mb} MB attachment (fast server)")
        mem = memory(fast_port, args.big_mb)
        for kind, mb in mem:
            print(f"   {kind:<22}{mb:>10.1f} MB")
        results.append({"case": f"peak memory growth, {args.big_mb} MB attachment",
                        "unit": "MB", "rates": dict(mem)})
        if args.json:
            import json

            with open(args.json, "w") as fh:
                json.dump({"benchmark": "smtp", "results": results}, fh, indent=1)
    finally:
        for _, _, proc in servers:
            if proc is not None:
                proc.terminate()


if __name__ == "__main__":
    main()
