"""A plain server: one write per reply, Nagle's algorithm left on (the socket
default), as a threaded server written without TCP_NODELAY sends them.

    python benchmarks/acks.py [--messages 300] [--rounds 3]

Such a server holds back each reply after the first until the first is
acknowledged. A client that pipelines (RFC 2920) reads the first reply of its
group and waits for the others with nothing to send, so its kernel delays the
acknowledgement (40 ms on Linux), once per message. mailfmt acknowledges at
once what it has read when it waits again without writing (TCP_QUICKACK,
Linux); the row "mailfmt send, acknowledging late" is the same client with
that turned off. smtplib and aiosmtplib send one command at a time, and each
command carries the acknowledgement of the reply before it. Messages/s over
one connection: the best round, the median in brackets.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import socket
import statistics
import threading
from collections.abc import Callable
from unittest import mock

from smtp import (
    build,
    measure,
    run_aiosmtplib,
    run_mailfmt,
    run_mailfmt_async,
    run_mailfmt_many,
    run_smtplib,
    start,
)

from mailfmt import Message


def _plain_server(port: int, ready: mp.synchronize.Event) -> None:
    def handle(c: socket.socket) -> None:
        c.sendall(b"220 plain ESMTP\r\n")
        buf, in_data = b"", False
        while chunk := c.recv(262144):
            buf += chunk
            while True:
                if in_data:
                    end = buf.find(b"\r\n.\r\n")
                    if end == -1:
                        break
                    buf, in_data = buf[end + 5:], False
                    c.sendall(b"250 2.0.0 queued\r\n")
                    continue
                nl = buf.find(b"\r\n")
                if nl == -1:
                    break
                verb, buf = buf[:4].upper(), buf[nl + 2:]
                if verb == b"EHLO":
                    for line in (b"250-plain\r\n", b"250-PIPELINING\r\n", b"250-8BITMIME\r\n",
                                 b"250 SIZE 0\r\n"):
                        c.sendall(line)
                elif verb == b"DATA":
                    in_data = True
                    c.sendall(b"354 go\r\n")
                elif verb == b"QUIT":
                    c.sendall(b"221 bye\r\n")
                    break
                else:
                    c.sendall(b"250 ok\r\n")
        c.close()

    with socket.create_server(("127.0.0.1", port)) as srv:
        ready.set()
        while True:
            conn, _ = srv.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()


def run_mailfmt_late(port: int, msgs: list[Message], raw: list[bytes]) -> None:
    with mock.patch("mailfmt.transport._sync.acknowledge", return_value=None):
        run_mailfmt(port, msgs, raw)


CLIENTS: list[tuple[str, Callable[[int, list[Message], list[bytes]], None]]] = [
    ("smtplib (bytes)", run_smtplib), ("aiosmtplib (bytes)", run_aiosmtplib),
    ("mailfmt send", run_mailfmt), ("mailfmt send, acknowledging late", run_mailfmt_late),
    ("mailfmt send_many", run_mailfmt_many), ("mailfmt send (async)", run_mailfmt_async)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    msgs = build(args.messages)
    raw = [m.to_bytes() for m in msgs]
    proc, port = start(_plain_server)
    rounds: dict[str, list[float]] = {name: [] for name, _ in CLIENTS}
    try:
        for _ in range(args.rounds):
            for name, fn in CLIENTS:
                rounds[name].append(measure(fn, port, msgs, raw)[0])
    finally:
        proc.terminate()
    base = statistics.median(rounds["smtplib (bytes)"])
    print(f"{len(msgs)} messages, plain server (one write per reply, Nagle on)")
    for name, rates in rounds.items():
        med = statistics.median(rates)
        print(f"   {name:<34}{max(rates):>8.0f} ({med:.0f}){med / base:>8.2f}x smtplib")


if __name__ == "__main__":
    main()
