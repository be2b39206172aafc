"""Coverage-guided fuzzing of the dot-stuffer: any bytes, cut anywhere.

    pip install atheris
    python fuzz/fuzz_dotstuff.py -max_total_time=600 fuzz/corpus-dotstuff

Oracle (tests/transport/test_dotstuff.py, wire_or_refusal, which hypothesis
runs in the test suite): whatever the chunks, the stuffer refuses exactly
what a check of the whole buffer refuses (a CR or LF outside CRLF, a NUL, a
line over 998 octets), and the wire bytes of what it takes have no bare CR
or LF, no line over 999 octets, one end of data, and unstuff to the data.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports():
    from mailfmt.transport import _dotstuff  # noqa: F401
    from tests.transport.test_dotstuff import wire_or_refusal


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    cuts = [fdp.ConsumeIntInRange(0, 4096) for _ in range(fdp.ConsumeIntInRange(0, 8))]
    wire_or_refusal(fdp.ConsumeBytes(fdp.remaining_bytes()), cuts)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
