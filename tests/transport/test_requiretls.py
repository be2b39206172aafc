"""REQUIRETLS (RFC 8689): asked for on MAIL only over TLS with a verified
certificate, and only from a server that offers it; refused before MAIL
otherwise. Both drivers, against the sink (which offers it under TLS) and
aiosmtpd (which does not)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from mailfmt import Message
from mailfmt.errors import ExtensionMissing, TLSError
from mailfmt.sink import Sink
from mailfmt.transport import AsyncSMTPClient, SendResult, SMTPClient

from .conftest import Server

MSG = Message(from_="alice@example.com", to="bob@example.org", subject="sealed",
              text="only over TLS\n")


@pytest.fixture
def tls_sink(ca: trustme.CA) -> Iterator[tuple[Sink, ssl.SSLContext]]:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    sink = Sink(tls_context=server_ctx).start()
    try:
        yield sink, client_ctx
    finally:
        sink.cleanup()


def _send(driver: str, host: str, port: int, **kw: Any) -> SendResult:
    many = kw.pop("many", False)
    kw.setdefault("timeout", 10)
    client_kw = {k: kw.pop(k) for k in ("tls", "ssl_context", "timeout") if k in kw}
    if driver == "sync":
        with SMTPClient(host, port, **client_kw) as c:
            if many:
                out = c.send_many([MSG], **kw)[0]
                if not isinstance(out, SendResult):
                    raise out
                return out
            return c.send(MSG, **kw)

    async def main() -> SendResult:
        async with AsyncSMTPClient(host, port, **client_kw) as c:
            if many:
                out = (await c.send_many([MSG], **kw))[0]
                if not isinstance(out, SendResult):
                    raise out
                return out
            return await c.send(MSG, **kw)
    return asyncio.run(main())


@pytest.mark.parametrize("many", [False, True])
def test_requiretls_goes_on_mail_over_verified_tls(driver: str, many: bool,
                                                    tls_sink: tuple[Sink, ssl.SSLContext]
                                                    ) -> None:
    sink, ctx = tls_sink
    result = _send(driver, sink.host, sink.port, tls="starttls", ssl_context=ctx,
                   require_tls=True, many=many)
    assert result.ok
    mail = [line for line in result.transcript if line.startswith("C: MAIL")]
    assert len(mail) == 1 and mail[0].startswith("C: MAIL FROM:<alice@example.com> ")
    assert "REQUIRETLS" in mail[0].split()
    assert [m.requiretls for m in sink.messages] == [True]
    # Without the option, the same server gets a plain MAIL.
    _send(driver, sink.host, sink.port, tls="starttls", ssl_context=ctx)
    assert [m.requiretls for m in sink.messages] == [True, False]


def test_send_raw_asks_for_requiretls(tls_sink: tuple[Sink, ssl.SSLContext]) -> None:
    sink, ctx = tls_sink
    with SMTPClient(sink.host, sink.port, tls="starttls", ssl_context=ctx) as c:
        c.send_raw(MSG.to_bytes(), mail_from="alice@example.com", rcpt_to=["bob@example.org"],
                   require_tls=True)
    assert sink.messages[0].requiretls and sink.messages[0].raw == MSG.to_bytes()


def test_a_server_without_requiretls_gets_nothing(driver: str, smtpd_tls: Server) -> None:
    with pytest.raises(ExtensionMissing, match="REQUIRETLS") as info:
        _send(driver, smtpd_tls.host, smtpd_tls.port, tls="starttls",
              ssl_context=smtpd_tls.client_ssl, require_tls=True)
    assert info.value.phase == "mail"
    assert not any(line.startswith("C: MAIL") for line in info.value.transcript)
    assert smtpd_tls.sink.envelopes == []


@pytest.mark.parametrize("how", ["plaintext", "unverified", "no host name check"])
def test_requiretls_needs_verified_tls_on_this_hop(driver: str, how: str,
                                                   tls_sink: tuple[Sink, ssl.SSLContext]
                                                   ) -> None:
    sink, ctx = tls_sink
    kw: dict[str, Any] = {"tls": "starttls", "ssl_context": ctx}
    if how == "plaintext":
        kw = {"tls": "none"}
    elif how == "unverified":
        kw["ssl_context"] = ssl._create_unverified_context()
    else:
        ctx.check_hostname = False
    want = ("needs TLS on this connection: tls='starttls' or tls='implicit'"
            if how == "plaintext" else "needs the server's certificate and host name verified, "
            "and the ssl_context given does not verify both")
    with pytest.raises(TLSError, match="REQUIRETLS") as info:
        _send(driver, sink.host, sink.port, require_tls=True, **kw)
    assert want in str(info.value)
    assert info.value.phase == "mail"
    assert sink.messages == []


def test_the_sink_offers_requiretls_only_under_tls(tls_sink: tuple[Sink, ssl.SSLContext]
                                                   ) -> None:
    sink, ctx = tls_sink
    with smtplib.SMTP(sink.host, sink.port) as s:
        s.ehlo("client.example.com")
        assert not s.has_extn("requiretls")
        # RFC 8689 2: asked for anyway in plaintext, it is refused.
        code, _ = s.mail("alice@example.com", ["REQUIRETLS"])
        assert code == 555
        s.starttls(context=ctx)
        s.ehlo("client.example.com")
        assert s.has_extn("requiretls")
        assert s.mail("alice@example.com", ["REQUIRETLS"])[0] == 250
        assert s.rcpt("bob@example.org")[0] == 250
        assert s.data(MSG.to_bytes())[0] == 250
    assert [m.requiretls for m in sink.messages] == [True]
    assert sink.messages[0].as_json()["requiretls"] is True


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailfmt.cli", "send", *args],
                          capture_output=True, text=True, check=False)


def test_cli_requiretls(tls_sink: tuple[Sink, ssl.SSLContext], ca: trustme.CA,
                        tmp_path: Path) -> None:
    sink, _ = tls_sink
    f = tmp_path / "m.eml"
    f.write_bytes(MSG.to_bytes())
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    res = _cli(str(f), "--host", sink.host, "--port", str(sink.port), "--tls", "none",
               "--requiretls")
    assert res.returncode == 2 and "--requiretls needs --tls" in res.stderr
    res = _cli(str(f), "--host", sink.host, "--port", str(sink.port), "--tls", "starttls",
               "--cafile", str(cafile), "--requiretls")
    assert res.returncode == 0, res.stderr
    assert [m.requiretls for m in sink.messages] == [True]
