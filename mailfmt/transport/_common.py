"""What both drivers share: options from arguments, envelopes from messages."""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import logging
import socket
import ssl
from collections.abc import Callable, Iterator, Sequence
from typing import Literal

from pydantic import SecretStr

from .._limits import MAX_HEADER_FIELDS
from ..errors import (
    ConnectionLost,
    LocalProtocolError,
    MessageRejected,
    SMTPTimeout,
    TLSError,
    TransportError,
)
from ..lint.source import read_section
from ..models.body import Attachment
from ..models.message import Message, given_parts
from ..parse.address import AddressSyntaxError, ParsedGroup, parse_address_list_lenient
from ._connection import ClientConnection
from ._dsn import DSN
from ._events import Reply
from ._message import Job, Progress
from ._results import SendResult
from ._session import ReadReply, SessionOptions
from ._state import State

__all__ = ["ClientBase", "TLSMode", "acknowledge", "address_literal", "bcc_addresses",
           "field_addresses", "is_loopback", "logger", "make_options", "message_job",
           "raw_job"]

logger = logging.getLogger("mailfmt.transport")

TLSMode = Literal["starttls", "implicit", "none"]


def is_loopback(host: str) -> bool:
    # A Unix socket path (see ClientBase) never leaves the machine.
    if host == "localhost" or host.startswith("/"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: Linux's TCP_QUICKACK; other systems have no such option.
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


def acknowledge(sock: socket.socket | None) -> None:
    """Acknowledge at once the reply data read so far, on a TCP socket (Linux).

    The drivers call it before they wait for more of the replies when some
    came in and nothing was written since. A server that writes each reply on
    its own with Nagle's algorithm on (RFC 896; the socket default) holds back
    every reply after the first until the first is acknowledged, and a client
    with nothing to send holds back that acknowledgement (RFC 1122 4.2.3.2
    allows up to 500 ms; Linux waits 40 ms). So each pipelined group (RFC 2920)
    and each multi-line reply written line by line would wait that long.
    Elsewhere, on a Unix socket, or with no socket (an asyncio transport
    may have none), it does nothing. Under TLS it is the TCP socket's.
    """
    if _QUICKACK is not None and sock is not None and \
            sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):      # a socket closed under us: the read says so
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)


def default_port(tls: TLSMode, lmtp: bool = False) -> int:
    # LMTP has no port of its own (RFC 2033 5 forbids 25): 24, IANA's "any
    # private mail system", is where Dovecot and Cyrus listen by default.
    if lmtp:
        return 24
    return 465 if tls == "implicit" else 587


def make_options(host: str, *, tls: TLSMode, timeout: float, username: str | None,
                 password: str | SecretStr | None, oauth_token: str | SecretStr | None,
                 auth_mechanism: str | None, allow_insecure_auth: bool,
                 local_hostname: str | None, lmtp: bool = False) -> SessionOptions:
    if tls not in ("starttls", "implicit", "none"):
        raise ValueError(f"tls must be 'starttls', 'implicit' or 'none', not {tls!r}")
    if (password is not None or oauth_token is not None) and username is None:
        raise ValueError("a password or token needs a username")
    if username is not None and password is None and oauth_token is None:
        raise ValueError("a username needs a password or an oauth_token")
    return SessionOptions(
        local_hostname=local_hostname or _local_name(),
        tls=tls, timeout=timeout, username=username,
        password=SecretStr(password) if isinstance(password, str) else password,
        oauth_token=SecretStr(oauth_token) if isinstance(oauth_token, str) else oauth_token,
        auth_mechanism=auth_mechanism, allow_insecure_auth=allow_insecure_auth,
        loopback=is_loopback(host), lmtp=lmtp,
    )


def _local_name() -> str:
    """This host's FQDN for EHLO, or "" when it has none (a bare host name, as
    in most containers): then each connection gives its own address."""
    name = socket.getfqdn()
    if "." in name and all(c.isalnum() or c in ".-" for c in name):
        return name
    return ""


def address_literal(sockname: object) -> str:
    """The EHLO name of a client whose host has no domain name: the address
    literal of its end of the connection (RFC 5321 4.1.1.1 and 4.1.3), as the
    server sees it unless there is NAT between them. On a Unix socket, the
    machine's own loopback address."""
    if isinstance(sockname, tuple) and sockname:
        try:
            ip = ipaddress.ip_address(str(sockname[0]).partition("%")[0])    # no zone id
        except ValueError:
            pass
        else:
            if isinstance(ip, ipaddress.IPv6Address):
                if ip.ipv4_mapped is None:
                    return f"[IPv6:{ip.compressed}]"
                ip = ip.ipv4_mapped      # an IPv4 peer of a dual-stack socket
            return f"[{ip}]"
    return "[127.0.0.1]"


def message_job(message: Message, mail_from: str | None,
                rcpt_to: Sequence[str] | None, dsn: DSN | None = None,
                progress: Progress | None = None, *, require_tls: bool = False) -> Job:
    """Envelope and byte source for a validated Message (Bcc in the envelope only)."""
    if rcpt_to is not None and not rcpt_to:
        raise ValueError("rcpt_to is empty: give at least one recipient, or None for the "
                         "message's own (To, Cc and Bcc)")
    env = message.envelope
    if rcpt_to is None and not env.rcpt_to:
        # A draft may have no recipient yet; sent, it would reach no one.
        raise LocalProtocolError("the message has no recipient (no To, Cc or Bcc) and none "
                                 "was given in rcpt_to: nothing sent", phase="mail")
    utf8 = message.policy.utf8
    source: Callable[[], Iterator[bytes]]
    files = [p.path for p in given_parts(message.body, message.attachments)
             if isinstance(p, Attachment) and p.path is not None
             ] if message.body is not None or message.attachments else []
    if files:
        # Files are streamed: read when sent (and once more for SIZE). One
        # that cannot be opened fails here, before MAIL, and not after DATA's
        # 354, when the data could not be ended without delivering part of it.
        for path in files:
            try:
                with open(path, "rb"):
                    pass
            except OSError as exc:
                raise LocalProtocolError(f"an attached file cannot be opened: {exc}",
                                         phase="mail") from None
        source = message.iter_bytes
        ascii_data = not utf8 or all(chunk.isascii() for chunk in source())
        warm = None
    else:
        # Everything is in memory: formatted once, for SIZE and DATA, and only
        # when first needed, which may be while the server answers MAIL.
        made: list[bytes] = []

        def warm() -> bytes:
            if not made:
                made.append(message.to_bytes())
            return made[0]

        def source() -> Iterator[bytes]:
            yield warm()
        if utf8:
            warm()
        ascii_data = not utf8 or made[0].isascii()
    # SMTPUTF8 only when something is not ASCII (RFC 6531 3.4); a utf8-policy
    # message may well be all ASCII.
    needs_smtputf8 = utf8 and not (ascii_data and env.mail_from.isascii()
                                   and all(r.isascii() for r in env.rcpt_to))
    # BODY=8BITMIME (RFC 6152) for 8-bit data only, as send_raw decides: an
    # all-ASCII message goes to a server without 8BITMIME too.
    return Job(mail_from if mail_from is not None else env.mail_from,
               list(rcpt_to) if rcpt_to is not None else list(env.rcpt_to),
               source, needs_smtputf8, not ascii_data, warm, dsn, progress, require_tls)




_RAW_CHUNK = 64 * 1024


def field_addresses(value: str) -> list[str] | None:
    """The addr-specs an address field's value names (groups opened), read
    as a reader must; None when no reading parses it."""
    try:
        items, _ = parse_address_list_lenient(value)
    except AddressSyntaxError:
        return None
    out: list[str] = []
    for item in items:
        out.extend(m.addr_spec for m in (item.members if isinstance(item, ParsedGroup)
                                         else [item]))
    return out


def bcc_addresses(data: bytes) -> list[str]:
    """The addresses every Bcc and Resent-Bcc field (RFC 5322 3.6.3, 3.6.6)
    of the message ``data`` names (an empty one, 3.6.3's third way, names
    none). A field no reading parses counts as one address: nothing unread
    goes out."""
    out: list[str] = []
    for f in read_section(data, 0, len(data), MAX_HEADER_FIELDS).fields:
        if f.key in ("bcc", "resent-bcc") and f.value.strip():
            found = field_addresses(f.value)
            out.extend(found if found is not None else [f.value.strip()])
    return out


def raw_job(data: bytes, mail_from: str, rcpt_to: Sequence[str],
            dsn: DSN | None = None, progress: Progress | None = None, *,
            require_tls: bool = False) -> Job:
    """Envelope and source for an existing .eml, which must lint without errors."""
    from ..lint import lint

    report = lint(data)
    errors = [v for v in report.violations if v.severity.value == "error"]
    if errors:
        first = errors[0]
        codes = ", ".join(dict.fromkeys(v.code for v in errors))
        raise MessageRejected(
            f"the message fails lint with {len(errors)} error(s) ({codes}); first: "
            f"{first.code} {first.name} at line {first.line}: {first.message}",
            violations=errors, phase="lint")
    if not rcpt_to:
        raise ValueError("send_raw needs at least one recipient")
    if (hidden := bcc_addresses(data)):
        # RFC 5322 3.6.3: the data goes to every recipient as it is, so a Bcc
        # field naming anyone would show them to all (smtplib.sendmail sends
        # it; its send_message and the writer here drop it).
        raise MessageRejected(
            f"the message has a Bcc or Resent-Bcc field naming {len(hidden)} recipient(s), "
            "which every recipient would see: remove it, and give the hidden recipients "
            "in rcpt_to",
            phase="lint")

    def source() -> Iterator[bytes]:
        for i in range(0, len(data), _RAW_CHUNK):
            yield data[i:i + _RAW_CHUNK]

    needs_utf8 = not (mail_from.isascii() and all(r.isascii() for r in rcpt_to))
    return Job(mail_from, list(rcpt_to), source, needs_utf8, not data.isascii(), dsn=dsn,
               progress=progress, require_tls=require_tls)


class ClientBase:
    """What the blocking and the asyncio client share: options, the session's
    transcript and its logging. The drivers add only the moving of bytes."""

    def __init__(self, host: str, port: int | None = None, *, tls: TLSMode = "starttls",
                 username: str | None = None, password: str | SecretStr | None = None,
                 oauth_token: str | SecretStr | None = None, auth_mechanism: str | None = None,
                 ssl_context: ssl.SSLContext | None = None, timeout: float = 60.0,
                 local_hostname: str | None = None, allow_insecure_auth: bool = False,
                 tls_hostname: str | None = None, lmtp: bool = False) -> None:
        self.host = host
        #: ``host`` is the path of a Unix socket, as smtplib.LMTP takes it:
        #: how a delivery agent such as Dovecot usually listens for LMTP
        self.unix = host.startswith("/")
        if self.unix:
            if port is not None:
                raise ValueError(f"{host} is a Unix socket path: it takes no port")
            if tls != "none":
                raise ValueError("tls must be 'none' over a Unix socket, which never leaves "
                                 "the machine")
            if not hasattr(socket, "AF_UNIX"):
                raise ValueError("this platform has no Unix sockets")
        self.port: int | None = None if self.unix else \
            port if port is not None else default_port(tls, lmtp)
        self._opts = make_options(host, tls=tls, timeout=timeout, username=username,
                                  password=password, oauth_token=oauth_token,
                                  auth_mechanism=auth_mechanism,
                                  allow_insecure_auth=allow_insecure_auth,
                                  local_hostname=local_hostname, lmtp=lmtp)
        self._ssl = ssl_context
        self._tls_hostname = tls_hostname or host
        self._conn: ClientConnection | None = None
        self._logged = 0
        #: reply data came in and nothing was written since: its
        #: acknowledgement may be held back (see acknowledge)
        self._unacked = False
        #: the I/O failure (timeout, lost connection, TLS or protocol error),
        #: or the message data cut short, after which this connection carries
        #: nothing more
        self._failed: TransportError | None = None

    def _session_options(self, sockname: object) -> SessionOptions:
        """The options of a session on a connection whose local address is
        ``sockname``: with its address literal as the EHLO name when neither
        the caller nor the host gave one."""
        if self._opts.local_hostname:
            return self._opts
        return dataclasses.replace(self._opts, local_hostname=address_literal(sockname))

    def __repr__(self) -> str:
        lmtp = ", lmtp=True" if self._opts.lmtp else ""
        port = "" if self.port is None else f", {self.port}"
        return f"{type(self).__name__}({self.host!r}{port}, tls={self._opts.tls!r}{lmtp})"

    @property
    def address(self) -> str:
        """Where the server is, for messages and logs: host:port, or the socket's path."""
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def transcript(self) -> list[str]:
        """The session so far, one line per command or reply, secrets redacted."""
        return list(self._conn.transcript) if self._conn else []

    def _failure(self, exc: TransportError) -> None:
        """Note an I/O failure: the session may no longer be in step (a reply
        still owed could arrive late and be read as the next command's), so
        no byte more goes out or is read on this connection. The session
        flow decides what the failure means for its message; anything after
        it fails at its first read or write (_refuse)."""
        if self._failed is None:
            self._failed = exc

    def _stranded(self, exc: TransportError | None) -> bool:
        """Whether a flow ended with message data begun and never ended (its
        bytes failed after the 354): then the session is out of step for
        good, and the connection must go, so that the server drops the part
        it has rather than wait for the rest. Or with the session closed, by
        QUIT or by a 421 (RFC 5321 3.8): the connection goes too, and a
        later send says why. Notes the failure."""
        if self._conn is None:
            return False
        if self._conn.state is State.CLOSED:
            self._failure(exc or ConnectionLost("the server closed the session", phase="mail"))
            return True
        if self._conn.state is not State.BODY:
            return False
        self._failure(exc or LocalProtocolError("the message data was cut short",
                                                phase="message"))
        return True

    def _interrupted(self, exc: BaseException) -> bool:
        """An exception not the session's own (KeyboardInterrupt, a
        cancelled task, a progress callback that raised) stopped a flow
        wherever it was. Unless that was between transactions with no reply
        owed, the session is out of step: it is noted as failed, so that any
        later use raises ConnectionLost, and True says the connection must
        be dropped. A note on the exception says what became of the message:
        data begun and not ended is discarded by the server when the
        connection goes (RFC 5321 4.1.1.4), while an end of data already
        sent may have delivered it."""
        conn = self._conn
        if conn is None or (conn.state is State.READY and not conn.awaiting_replies):
            return False
        if conn.state is State.BODY:
            fate = ("the message data was not ended, and the connection was closed: "
                    "the server discards what it had; nothing was delivered")
        elif conn.awaiting_final_reply:
            fate = ("the end of data was sent and its reply not read: the message may or "
                    "may not have been delivered (RFC 5321 4.5.3.2.6)")
        else:
            fate = ("the message in progress had no end of data sent, so it was not "
                    "delivered; the connection was closed")
        if hasattr(exc, "add_note"):    # Python 3.11+
            exc.add_note(f"mailfmt: the SMTP session was interrupted: {fate}")
        self._failure(ConnectionLost(f"the session was interrupted by "
                                     f"{type(exc).__name__}: {fate}", phase="interrupted"))
        return True

    def _check_require_tls(self, require_tls: bool) -> None:
        """REQUIRETLS (RFC 8689) asks every hop to relay the message over TLS
        with a verified certificate: this one first. Raised before anything
        is sent."""
        if not require_tls:
            return
        if self._opts.tls == "none":
            raise TLSError("REQUIRETLS (RFC 8689) needs TLS on this connection: "
                           "tls='starttls' or tls='implicit'", phase="mail")
        ctx = self._ssl
        if ctx is not None and (ctx.verify_mode != ssl.CERT_REQUIRED or not ctx.check_hostname):
            raise TLSError("REQUIRETLS (RFC 8689) needs the server's certificate and host name "
                           "verified, and the ssl_context given does not verify both",
                           phase="mail")

    def _refuse(self, phase: str) -> None:
        """Raise ConnectionLost for any I/O after a failure (see _failure)."""
        failed = self._failed
        if failed is not None:
            raise ConnectionLost(f"the connection cannot be used after the failure in phase "
                                 f"{failed.phase}: {failed}", phase=phase)

    def _poll(self, req: ReadReply) -> Reply | None:
        """The next reply if the core has one complete; errors get the phase."""
        assert self._conn is not None
        try:
            ev = self._conn.next_event()
        except TransportError as exc:
            exc.phase = exc.phase or req.phase
            raise
        return ev if isinstance(ev, Reply) else None

    @staticmethod
    def _timed_out(req: ReadReply) -> SMTPTimeout:
        # A deadline for the whole reply, not per read: a server trickling one
        # byte at a time cannot stretch it (slowloris).
        return SMTPTimeout(f"no complete reply within {req.timeout:g} s ({req.phase})",
                           phase=req.phase)

    @staticmethod
    def _note_batch(exc: BaseException, out: list[SendResult | TransportError], n: int) -> None:
        """On an exception that stopped send_many part way, not the session's
        own: a note saying how far the batch went (its outcomes are lost
        with the return value)."""
        if isinstance(exc, TransportError) or not hasattr(exc, "add_note"):
            return
        k = len(out)
        sent = sum(isinstance(o, SendResult) for o in out)
        exc.add_note(f"mailfmt: send_many stopped at message {k + 1} of {n}: of the {k} "
                     f"before it, {sent} were delivered and {k - sent} were not; the "
                     f"{max(n - k - 1, 0)} after it were not sent")

    @staticmethod
    def _account(out: list[SendResult | TransportError],
                 n: int) -> list[SendResult | TransportError]:
        """One outcome per message: those after the session failed were not sent."""
        k = len(out)
        if k < n:
            cause = out[-1]     # the flow stops early only when the session failed
            assert isinstance(cause, TransportError)
            out.extend(ConnectionLost(f"message {i + 1} was not sent: sending stopped "
                                      f"at message {k}: {cause}", phase="mail")
                       for i in range(k, n))
        return out

    def _forget_credentials(self) -> None:
        # Credentials are not kept once the session has them (research 5.2).
        self._opts = dataclasses.replace(self._opts, password=None, oauth_token=None,
                                         username=None)

    def _log(self) -> None:
        if self._conn is None:
            return
        # _logged counts lines ever written, dropped ones included.
        conn = self._conn
        total = conn.transcript_dropped + len(conn.transcript)
        if logger.isEnabledFor(logging.DEBUG):
            start = max(0, self._logged - conn.transcript_dropped)
            for line in conn.transcript[start:]:
                logger.debug("%s %s", self.address, line)
        self._logged = total
