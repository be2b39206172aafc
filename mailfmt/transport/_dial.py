"""A TCP connection to a host with several addresses, for the blocking
driver: RFC 8305 ("Happy Eyeballs" v2) under one deadline for the whole
connect phase. The asyncio driver gets the same from
``loop.create_connection(happy_eyeballs_delay=...)``.

socket.create_connection tries the addresses one after another, each with
the whole timeout: a host whose first address does not answer (an IPv6
route that is broken, a firewall that drops packets) costs the whole
timeout before the next address is tried, and with n such addresses the
connect phase lasts n timeouts. Here the next attempt starts
ATTEMPT_DELAY after the last one while the earlier ones go on; the first
to connect is kept and the others are closed.
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import time
from collections.abc import Sequence

__all__ = ["ATTEMPT_DELAY", "dial", "interleave"]

#: RFC 8305 5: the Connection Attempt Delay; 250 ms is its recommended value.
ATTEMPT_DELAY = 0.25

AddrInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[object, ...]]

#: connect_ex's answers for "under way": POSIX's, and Windows' WSAEWOULDBLOCK
_PENDING = {errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN, 10035}


def interleave(infos: Sequence[AddrInfo]) -> list[AddrInfo]:
    """RFC 8305 4: the addresses in the resolver's order, but alternating
    address families, starting with the family of its first answer."""
    families: dict[int, list[AddrInfo]] = {}
    for info in infos:
        families.setdefault(info[0], []).append(info)
    queues = list(families.values())
    out: list[AddrInfo] = []
    while queues:
        out.extend(q.pop(0) for q in queues)
        queues = [q for q in queues if q]
    return out


def dial(host: str, port: int, timeout: float, delay: float = ATTEMPT_DELAY) -> socket.socket:
    """A connected TCP socket to ``host``, with ``timeout`` as its timeout.

    Raises TimeoutError when no address connected within ``timeout`` seconds
    in all, and OSError (socket.gaierror for a name that does not resolve)
    naming each address's failure when all of them failed.
    """
    deadline = time.monotonic() + timeout
    todo = interleave(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
    errors: list[str] = []
    with selectors.DefaultSelector() as pending:
        next_start = time.monotonic()
        try:
            while todo or pending.get_map():
                now = time.monotonic()
                if now >= deadline:
                    raise TimeoutError(f"no address of {host} connected within {timeout:g} s")
                if todo and (now >= next_start or not pending.get_map()):
                    family, kind, proto, _, addr = todo.pop(0)
                    try:
                        sock = socket.socket(family, kind, proto)
                    except OSError as exc:      # a family this host cannot use
                        errors.append(f"{addr[0]}: {exc.strerror or exc}")
                        continue
                    sock.setblocking(False)
                    err = sock.connect_ex(addr)
                    if err == 0:
                        return _connected(sock, timeout)
                    if err in _PENDING:
                        pending.register(sock, selectors.EVENT_WRITE, addr)
                        next_start = now + delay
                    else:
                        errors.append(f"{addr[0]}: {os.strerror(err)}")
                        sock.close()
                    continue
                wait = min(deadline, next_start) if todo else deadline
                for key, _ in pending.select(max(0.0, wait - now)):
                    sock = key.fileobj      # type: ignore[assignment]
                    pending.unregister(sock)
                    err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err == 0:
                        return _connected(sock, timeout)
                    errors.append(f"{key.data[0]}: {os.strerror(err)}")
                    sock.close()
        finally:
            for key in list(pending.get_map().values()):
                key.fileobj.close()     # type: ignore[union-attr]
    raise OSError("; ".join(errors) or f"{host} has no address")


def _connected(sock: socket.socket, timeout: float) -> socket.socket:
    # As socket.create_connection leaves it: blocking, with the timeout.
    sock.settimeout(timeout)
    return sock
