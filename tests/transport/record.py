"""Record the sessions of recorded.py from real servers into tests/vectors/smtp.

    bash .ci/postfix.sh /tmp/pfx 2626
    MAILFMT_POSTFIX_PORT=2626 python -m tests.transport.record [NAME...]

The blocking client talks to the server through a proxy on loopback that
keeps what each side wrote, in the order it came through. A line that does
not end in CRLF stops the recording: the file format could not hold it, and
neither side may send one.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

from mailfmt.sink import Sink

from .recorded import SCENARIOS, Recording, Scenario, run_sync

__all__ = ["record"]


class _Proxy:
    """Forwards one connection to ``upstream``, keeping every chunk with its side."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.chunks: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _pump(self, src: socket.socket, dst: socket.socket, side: str) -> None:
        while chunk := src.recv(65536):
            with self._lock:        # the order in which the proxy saw them
                self.chunks.append((side, chunk))
                dst.sendall(chunk)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def _serve(self) -> None:
        client, _ = self.sock.accept()
        self.sock.close()
        server = socket.create_connection(self.upstream)
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        back = threading.Thread(target=self._pump, args=(server, client, "S"), daemon=True)
        back.start()
        self._pump(client, server, "C")
        back.join(10)
        client.close()
        server.close()

    def lines(self) -> list[tuple[str, bytes]]:
        self.thread.join(10)
        pending = {"C": b"", "S": b""}
        out: list[tuple[str, bytes]] = []
        for side, chunk in self.chunks:
            *done, pending[side] = (pending[side] + chunk).split(b"\r\n")
            for line in done:
                if b"\r" in line or b"\n" in line:
                    raise ValueError(f"{side}: a bare CR or LF in {line!r}")
                out.append((side, line))
        if any(pending.values()):
            raise ValueError(f"a line left without its CRLF: {pending}")
        return out


@contextlib.contextmanager
def _server(scenario: Scenario) -> Iterator[tuple[tuple[str, int], str]]:
    if scenario.server == "postfix":
        port = int(os.environ["MAILFMT_POSTFIX_PORT"])
        version = subprocess.run(["postconf", "-dh", "mail_version"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        yield ("127.0.0.1", port), f"Postfix {version}, configured by .ci/postfix.sh"
        return
    with Sink(**scenario.sink) as sink:
        version = importlib.metadata.version("aiosmtpd")
        yield (sink.host, sink.port), f"aiosmtpd {version}, as mailfmt.sink.Sink runs it"


def record(scenario: Scenario) -> Recording:
    with _server(scenario) as (address, version):
        proxy = _Proxy(address)
        outcome = run_sync(scenario, proxy.port)
        lines = proxy.lines()
    comments = [scenario.about, f"Server: {version}.",
                "Recorded by tests/transport/record.py, replayed by test_recorded.py."]
    return Recording(comments, outcome, lines)


def main(names: list[str]) -> None:
    unknown = set(names) - {s.name for s in SCENARIOS}
    if unknown:
        sys.exit(f"no such scenario: {', '.join(sorted(unknown))}")
    for s in SCENARIOS:
        if names and s.name not in names:
            continue
        rec = record(s)
        s.path.parent.mkdir(parents=True, exist_ok=True)
        s.path.write_text(rec.dump(), "utf-8")
        print(f"{s.path}: {len(rec.lines)} lines")


if __name__ == "__main__":
    main(sys.argv[1:])
