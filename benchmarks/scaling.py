"""Does any input make lint, fmt or the parser slow? Each shape below is made
at n and 4n octets; linear work takes about 4x as long, quadratic 16x.

    python benchmarks/scaling.py [--n 20000]

Prints the time at 4n and the ratio for each shape and reader, and exits 1
when a ratio is over 8 (research/security.md 6.3: the parser DoS history is
of quadratic and exponential paths). Not a test: timings are the machine's.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable

from mailfmt import Message, ParseError
from mailfmt.lint import lint
from mailfmt.lint.fix import fix

HEAD = b"From: a@example.com\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
MIME = HEAD + b"MIME-Version: 1.0\r\n"

# Each shape: n -> a message of about n octets that stresses one reader path.
SHAPES: dict[str, Callable[[int], bytes]] = {
    "blanks in a msg-id": lambda n: HEAD + b"Message-ID: <a" + b" " * n + b"x@b.example>\r\n\r\n",
    "blanks in an addr-spec": lambda n: HEAD + b"To: a" + b" " * n + b"@b.example\r\n\r\n",
    "dots and blanks in an addr-spec":
        lambda n: HEAD + b"To: a" + b" . b" * (n // 4) + b"@example.com\r\n\r\n",
    "nested comments in an address":
        lambda n: HEAD + b"To: " + b"(" * (n // 2) + b")" * (n // 2) + b" a@b.example\r\n\r\n",
    "open comments in a Content-Type":
        lambda n: MIME + b"Content-Type: text/plain; a=b " + b"(" * n + b"\r\n\r\nhi\r\n",
    "blanks in a Content-Type": lambda n: MIME + b"Content-Type: text/plain;" + b" " * n
        + b"x\r\n\r\nhi\r\n",
    "many parameters": lambda n: MIME + b"Content-Type: text/plain" + b"; a=b" * (n // 5)
        + b"\r\n\r\nhi\r\n",
    "encoded-word look-alikes": lambda n: HEAD + b"Subject: " + b"=?a?q?" * (n // 6)
        + b"\r\n\r\n",
    # n // 10 lines in these two: at 4n still under the 10,000 lines the
    # plain-section proof reads (past them the full checks run: a step, not a
    # curve, which n and 4n on either side of it would show as one)
    "folded field": lambda n: HEAD + b"Subject: x" + b"\r\n x" * (n // 10) + b"\r\n\r\n",
    "many fields": lambda n: HEAD + b"X-A: b\r\n" * (n // 10) + b"\r\n",
    "blanks before a line break": lambda n: MIME
        + b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + b" " * n + b"x\r\n",
    "'=' runs in quoted-printable": lambda n: MIME
        + b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + b"=" * n + b"\r\n",
    "bare CR runs": lambda n: HEAD + b"\r\n" + b"\r" * n + b"x\r\n",
    "boundary look-alikes": lambda n: MIME + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        + b"--b \t" * (n // 5) + b"\r\n--b--\r\n",
    "empty parts": lambda n: MIME + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        + b"--b\r\n\r\n" * (n // 7) + b"--b--\r\n",
    "date with blanks": lambda n: MIME.replace(b"Fri, 21", b"Fri," + b" " * n + b"21"),
    "dots after line breaks": lambda n: HEAD + b"\r\n" + b".\n" * (n // 2),
    "encoded words, one a line": lambda n: HEAD + b"Subject: "
        + b"\r\n ".join([b"=?utf-8?q?a?="] * (n // 16)) + b"\r\n\r\n",
    "encoded words on one line": lambda n: HEAD + b"Subject: " + b"=?utf-8?q?a?= " * (n // 14)
        + b"\r\n\r\n",
    "8-bit Subject": lambda n: HEAD + b"Subject: " + b"\xc3\xa9" * (n // 2) + b"\r\n\r\n",
    "many recipients": lambda n: HEAD + b"To: "
        + b", ".join(b"u%d@example.com" % i for i in range(n // 16)) + b"\r\n\r\n",
    "many recipients, each with a comment": lambda n: HEAD + b"To: "
        + b", ".join(b"u%d@example.com (User %d)" % (i, i) for i in range(n // 28))
        + b"\r\n\r\n",
    "many parts with fields of their own": lambda n: MIME
        + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        + b"--b\r\nContent-Type: text/plain\r\nContent-Language: en\r\n\r\nx\r\n" * (n // 100)
        + b"--b--\r\n",
    "a long format=flowed paragraph": lambda n: MIME
        + b"Content-Type: text/plain; format=flowed\r\n\r\n" + b"word \r\n" * (n // 7)
        + b"end\r\n",
    "nested multiparts": lambda n: MIME + b"Content-Type: multipart/mixed; boundary=a\r\n\r\n"
        + b"--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n" * (n // 50)
        + b"--a--\r\n",
}


def _parse(raw: bytes) -> None:
    with contextlib.suppress(ParseError):
        Message.from_bytes(raw)


READERS: dict[str, Callable[[bytes], object]] = {"lint": lint, "fmt": fix, "parse": _parse}


def timed(fn: Callable[[bytes], object], raw: bytes) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        fn(raw)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20000)
    args = ap.parse_args()
    worst = 0.0
    print(f"{'shape':<36}" + "".join(f"{r:>22}" for r in READERS))
    for name, make in SHAPES.items():
        small, big = make(args.n), make(4 * args.n)
        cells = []
        for fn in READERS.values():
            t1, t4 = timed(fn, small), timed(fn, big)
            # Below a millisecond the ratio is noise; linear is 4x.
            ratio = t4 / t1 if t4 > 1e-3 else 4.0
            worst = max(worst, ratio)
            cells.append(f"{t4 * 1e3:9.1f} ms {ratio:5.1f}x")
        print(f"{name:<36}" + "".join(f"{c:>22}" for c in cells))
    print(f"\nworst ratio for 4x the input: {worst:.1f}x (linear: 4, quadratic: 16)")
    return 1 if worst > 8 else 0


if __name__ == "__main__":
    sys.exit(main())
