"""Coverage-guided fuzzing of a whole SMTP client session, over the sans-IO
core, against a server that answers as a good one would except where the
fuzzer says otherwise (any bytes as a reply, any reply cut in two reads).

    pip install atheris
    python fuzz/fuzz_transport.py -max_total_time=600 fuzz/corpus-transport

Oracles (tests/transport/wire.py, which tests/transport/test_session_bytes.py
runs under hypothesis): the session ends in a result or a typed error; the
client writes only command lines of printable ASCII of at most 512 octets;
every message's data arrives unchanged and ended once; the secret never
shows, not even in base64.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports():
    from mailfmt.transport import (  # noqa: F401
        _batch,
        _connection,
        _dotstuff,
        _dsn,
        _message,
        _reply,
        _session,
    )
    from tests.transport.test_session_bytes import DSNS, EHLOS, WRONG
    from tests.transport.wire import Server, run_session

_AUTH = [None, "PLAIN", "LOGIN", "CRAM-MD5"]


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    ehlo = EHLOS[fdp.ConsumeIntInRange(0, len(EHLOS) - 1)]
    auth = _AUTH[fdp.ConsumeIntInRange(0, len(_AUTH) - 1)]
    tls, many = fdp.ConsumeBool(), fdp.ConsumeBool()
    rcpts = (1, 3, 101)[fdp.ConsumeIntInRange(0, 2)]
    dsn = DSNS[fdp.ConsumeIntInRange(0, len(DSNS) - 1)]
    require_tls, lmtp = fdp.ConsumeBool(), fdp.ConsumeBool()
    script: list[bytes | None] = []
    cuts: list[int] = []
    for _ in range(fdp.ConsumeIntInRange(0, 40)):
        kind = fdp.ConsumeIntInRange(0, 3)
        if kind == 0:
            script.append(None)
        elif kind == 1:
            script.append(WRONG[fdp.ConsumeIntInRange(0, len(WRONG) - 1)])
        else:
            script.append(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 300)))
        cuts.append(fdp.ConsumeIntInRange(0, 64))
    run_session(Server(script, cuts, ehlo=ehlo, lmtp=lmtp), auth=auth, tls=tls, many=many,
                rcpts=rcpts, dsn=dsn, require_tls=require_tls, lmtp=lmtp)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
