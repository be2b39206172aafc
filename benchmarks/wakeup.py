"""What waiting for a reply costs: mailfmt's blocking client as it is, and
the same client polling the socket for a while before it sleeps, against
the fast server and aiosmtpd, beside smtplib and the compliant floor.

    python benchmarks/wakeup.py [--messages 1000] [--rounds 4] [--poll-us 500]

A probe, not a feature: it asks how much of the time between one message and
the next goes to the operating system putting the client to sleep on a
blocking read and waking it when the reply comes (a scheduler round, and
code and data gone cold in the caches meanwhile), rather than to the
client's own work. The polling client reads with MSG_DONTWAIT for up to
--poll-us before it falls back to the blocking read; everything else is
unchanged. Its CPU time counts the polling.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import time
from collections.abc import Callable

from smtp import (
    _aiosmtpd_server,
    _fast_server,
    build,
    measure,
    run_raw_compliant,
    run_smtplib,
    start,
)

from mailfmt import Message
from mailfmt.transport import SMTPClient
from mailfmt.transport._events import Reply
from mailfmt.transport._session import ReadReply


class PollingClient(SMTPClient):
    """SMTPClient, polling the socket for ``poll`` seconds before each blocking read."""

    poll = 500e-6

    def _read(self, req: ReadReply) -> Reply:
        reply = self._poll(req)
        if reply is not None:
            return reply
        assert self._sock is not None
        assert self._conn is not None
        end = time.perf_counter() + self.poll
        while time.perf_counter() < end:
            try:
                data = self._sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                continue
            self._conn.receive_data(data)
            if not data or (reply := self._poll(req)) is not None:
                break
        return reply if reply is not None else super()._read(req)


def run_client(cls: type[SMTPClient]) -> Callable[[int, list[Message], list[bytes]], None]:
    def run(port: int, msgs: list[Message], raw: list[bytes]) -> None:
        with cls("127.0.0.1", port, tls="none") as c:
            for m in msgs:
                c.send(m)
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--poll-us", type=float, default=500.0)
    args = ap.parse_args()
    PollingClient.poll = args.poll_us / 1e6
    msgs = build(args.messages)
    raw = [m.to_bytes() for m in msgs]
    clients = [("smtplib (bytes)", run_smtplib), ("mailfmt send", run_client(SMTPClient)),
               (f"mailfmt send, polling {args.poll_us:g} us", run_client(PollingClient)),
               ("raw compliant floor", run_raw_compliant)]
    for name, target in (("fast server", _fast_server), ("aiosmtpd", _aiosmtpd_server)):
        proc, port = start(target)
        try:
            rates: dict[str, list[float]] = {c: [] for c, _ in clients}
            cpus: dict[str, list[float]] = {c: [] for c, _ in clients}
            for _ in range(args.rounds):
                for cname, fn in clients:
                    rate, cpu = measure(fn, port, msgs, raw)
                    rates[cname].append(rate)
                    cpus[cname].append(cpu)
        finally:
            proc.terminate()
        print(f"== {name}: messages/s (median, spread), client CPU us/msg (median)")
        base = statistics.median(rates["smtplib (bytes)"])
        for cname, _ in clients:
            r = rates[cname]
            med = statistics.median(r)
            print(f"   {cname:<32}{med:>8.0f} ({min(r):.0f}-{max(r):.0f}) "
                  f"{statistics.median(cpus[cname]):>6.0f} us   {med / base:.2f}x smtplib")
        print()


if __name__ == "__main__":
    main()
