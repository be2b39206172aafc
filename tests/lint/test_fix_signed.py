"""mailfmt fmt keeps signatures whole: DKIM (checked by dkimpy as the
oracle), ARC and multipart/signed; and it breaks long header lines without
touching the others."""

from __future__ import annotations

import base64
import email
import email.policy
import functools
import subprocess
import sys
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from mailfmt.lint import lint
from mailfmt.lint.fix import fix

_LONG_SUBJECT = (b"Subject: a subject long enough that the name and the whole of it do not "
                 b"fit on one line\r\n")
_MESSAGE = (b"From: alice@example.com\r\nTo: bob@example.org\r\n"
            b"Date: Tue, 3 Mar 2026 11:11:48 +0100\r\n" + _LONG_SUBJECT
            + b"Message-ID: <a@example.com>\r\nX-Note: caf\xc3\xa9\r\n\r\n"
            + b"word " * 40 + b"\r\n")


@functools.cache
def _key() -> tuple[bytes, bytes]:
    """A private key (PEM) and its DNS TXT record (RFC 6376 3.6.1)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def _sign(msg: bytes, canon: bytes) -> bytes:
    pem, _ = _key()
    sig: bytes = dkim.sign(msg, b"sel", b"example.com", pem, canonicalize=(canon, canon),
                           include_headers=[b"from", b"to", b"subject", b"date"])
    return sig + msg


def _verifies(msg: bytes) -> bool:
    return bool(dkim.verify(msg, dnsfunc=lambda name, timeout=5: _key()[1]))


@pytest.mark.parametrize("canon", [b"simple", b"relaxed"])
def test_a_dkim_signature_still_verifies_after_fmt(canon: bytes) -> None:
    signed = _sign(_MESSAGE, canon)
    assert _verifies(signed)
    out = fix(signed)
    assert _verifies(out.data)
    body = signed.split(b"\r\n\r\n", 1)[1]
    assert out.data.split(b"\r\n\r\n", 1)[1] == body       # never re-encoded
    assert any("the body needs re-encoding: left as it is: it is signed by DKIM "
               "(d=example.com)" in n for n in out.notes)
    # The unsigned field is fixed all the same.
    assert b"X-Note: =?utf-8?" in out.data
    if canon == b"relaxed":
        # Folding is invisible to the relaxed canonicalization.
        assert b"fit on\r\n one line\r\n" in out.data
    else:
        assert _LONG_SUBJECT in out.data
        assert any(n.startswith("Subject: left as it is: it is signed by DKIM")
                   for n in out.notes)
    assert fix(out.data).data == out.data


def test_break_signatures_fixes_and_the_signature_fails() -> None:
    signed = _sign(_MESSAGE, b"simple")
    out = fix(signed, keep_signatures=False)
    assert not _verifies(out.data)
    assert b"Content-Transfer-Encoding: quoted-printable" in out.data
    assert [v.code for v in lint(out.data).violations if v.code == "S106"] == []


def test_without_a_signature_everything_is_fixed() -> None:
    out = fix(_MESSAGE)
    assert not out.notes
    assert b"Content-Transfer-Encoding: quoted-printable" in out.data


def test_arc_fields_are_only_refolded() -> None:
    arc = (b"ARC-Seal: i=1; a=rsa-sha256; t=1709460720; cv=none; d=example.com; s=arc; "
           b"b=Zm9vYmFy\r\n"
           b"ARC-Authentication-Results: i=1; mx.example.org; dkim=pass header.d=example.com "
           b"header.s=sel\r\n"
           b"ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; "
           b"s=arc; h=from:to; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=Zm9v\r\n")
    out = fix(arc + _MESSAGE)
    head = out.data.split(b"\r\n\r\n", 1)[0]
    # Each refolded, none otherwise changed.
    for line in arc.split(b"\r\n")[:-1]:
        name = line.split(b":", 1)[0]
        new = next(f for f in head.replace(b"\r\n ", b" \x00").split(b"\r\n")
                   if f.startswith(name + b":"))
        assert new.replace(b" \x00", b" ") == line
        assert b"\x00" in new
    assert any("the body" in n and "signed by ARC (d=example.com)" in n for n in out.notes)


_SIGNED = (b"From: alice@example.com\r\nDate: Tue, 3 Mar 2026 11:11:48 +0100\r\n"
           b"MIME-Version: 1.0\r\n"
           b'Content-Type: multipart/signed; micalg=pgp-sha256;\r\n'
           b' protocol="application/pgp-signature"; boundary="s"\r\n\r\n'
           b"--s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
           + b"signed " * 20 + b"\r\n"
           b"--s\r\nContent-Type: application/pgp-signature\r\n\r\n"
           b"-----BEGIN PGP SIGNATURE-----\r\nabc\r\n-----END PGP SIGNATURE-----\r\n"
           b"--s--\r\n")


def test_the_signed_part_of_a_multipart_signed_is_left_whole() -> None:
    out = fix(_SIGNED)
    assert out.data == _SIGNED
    assert out.notes == ["part 1 of a multipart/signed: left as it is: it is signed "
                         "(RFC 1847 2.1), and any change breaks the signature"]
    assert [v.code for v in out.remaining] == []      # S106 is a warning
    # Line endings are no change to a signature (RFC 1847 computes it over CRLF).
    assert fix(_SIGNED.replace(b"\r\n", b"\n")).data == _SIGNED
    broken = fix(_SIGNED, keep_signatures=False)
    assert b"quoted-printable" in broken.data


def test_only_the_long_line_of_a_folded_field_is_broken() -> None:
    received = (b"Received: from mail-lf1-f41.google.com (mail-lf1-f41.google.com "
                b"[209.85.167.41])\r\n\tby mx.example.org (Postfix) with ESMTPS id 4F0C3\r\n"
                b"\tfor <bob@example.org>; Tue,  3 Mar 2026 10:12:01 +0000 (UTC)\r\n")
    raw = received + _MESSAGE.replace(_LONG_SUBJECT, b"Subject: hi\r\n").replace(
        b"X-Note: caf\xc3\xa9\r\n", b"").replace(b"word " * 40, b"hi")
    out = fix(raw).data
    assert out == raw.replace(b".com (mail-lf1", b".com\r\n (mail-lf1")
    assert max(map(len, out.split(b"\r\n"))) <= 78
    before = email.message_from_bytes(raw, policy=email.policy.default)
    after = email.message_from_bytes(out, policy=email.policy.default)
    assert str(after["Received"]) == str(before["Received"])
    assert fix(out).data == out


def test_a_line_is_broken_as_far_as_it_can_be() -> None:
    token = b"t" * 90
    raw = (b"From: a@example.com\r\nDate: Tue, 3 Mar 2026 11:11:48 +0100\r\n"
           b"X-Long: one " + token + b" two three\r\n\r\nhi\r\n")
    out = fix(raw).data
    assert b"X-Long: one\r\n " + token + b"\r\n two three\r\n" in out
    assert fix(out).data == out


def test_cli_break_signatures(tmp_path: Path) -> None:
    f = tmp_path / "s.eml"
    f.write_bytes(_SIGNED)
    cmd = [sys.executable, "-m", "mailfmt.cli", "fmt", "--check", str(f)]
    kept = subprocess.run(cmd, capture_output=True, check=False)
    assert kept.returncode == 0, kept.stderr
    assert b"part 1 of a multipart/signed: left as it is" in kept.stderr
    broken = subprocess.run([*cmd, "--break-signatures"], capture_output=True, check=False)
    assert broken.returncode == 1
    assert broken.stdout == f"would reformat {f}\n".encode()


_WORDS = st.lists(st.sampled_from(["mail", "caf\u00e9", "(note)", '"a b"', "x" * 30, "tea,",
                                   "\u00fcber", "=", ";", "y" * 80]),
                  min_size=1, max_size=30).map(" ".join)


@given(subject=_WORDS, note=_WORDS, body=st.lists(_WORDS, min_size=1, max_size=5),
       canon=st.sampled_from([b"simple", b"relaxed"]),
       signed=st.sets(st.sampled_from([b"subject", b"x-note", b"to"]), max_size=3))
@settings(deadline=None)
def test_fmt_never_breaks_a_dkim_signature(subject: str, note: str, body: list[str],
                                           canon: bytes, signed: set[bytes]) -> None:
    msg = (b"From: alice@example.com\r\nTo: bob@example.org\r\n"
           b"Date: Tue, 3 Mar 2026 11:11:48 +0100\r\nSubject: " + subject.encode()
           + b"\r\nX-Note: " + note.encode() + b"\r\n\r\n"
           + "\r\n".join(body).encode() + b"\r\n")
    pem, _ = _key()
    out = fix(dkim.sign(msg, b"sel", b"example.com", pem, canonicalize=(canon, canon),
                        include_headers=[b"from", *sorted(signed)]) + msg)
    assert _verifies(out.data)
    assert fix(out.data).data == out.data


def test_blanks_that_run_on_past_a_fold_are_no_place_to_break() -> None:
    # The blanks at the end of the long line go on into the next line's
    # fold: breaking before them would leave a piece of blanks alone, so the
    # break goes before the word ahead of them.
    field = b"X-Long: " + b"w " * 30 + b"end" + b" " * 20 + b"\r\n tail\r\n"
    raw = (b"From: a@example.com\r\nDate: Tue, 3 Mar 2026 11:11:48 +0100\r\n" + field
           + b"\r\nhi\r\n")
    out = fix(raw).data
    assert out == raw.replace(b"w end", b"w\r\n end")
    assert max(map(len, out.split(b"\r\n"))) <= 78
    assert fix(out).data == out
