"""Rule 1: every state and every transition of the client lives in this file.

The client sends a command only if ``SEND[state]`` has it, which gives the
next state (a waiting state when a reply must come first). A reply to a
command moves the state through ``ON_REPLY[(command type, reply class)]``;
commands absent there (MAIL, RCPT, RSET, NOOP) change nothing when answered,
which is what lets them be pipelined (RFC 2920). The next MAIL may follow the
end of data before its reply (RFC 2920 3.1: message content may open a
group); the reply to the end of data then changes nothing, since the state
has moved on to the next transaction. In an LMTP session (opened with LHLO,
RFC 2033) the end of data is answered once per accepted recipient, and the
state moves with the last of those replies. A 421 (CLOSING) to any command
closes the session. A lookup miss is a LocalProtocolError;
docs/guides/send.md draws its diagram from these tables.
"""

from __future__ import annotations

import enum

from ._events import (
    Auth,
    AuthResponse,
    Command,
    Data,
    Ehlo,
    EndOfMessage,
    Greeting,
    Helo,
    Lhlo,
    Mail,
    MessageData,
    Noop,
    Quit,
    Rcpt,
    Rset,
    StartTLS,
)

__all__ = ["CLOSING", "ON_REPLY", "SEND", "State", "reply_class"]


class State(enum.Enum):
    #: connected, waiting for the 220 greeting
    GREETING = "greeting"
    #: greeted (or TLS just started): EHLO or HELO comes next
    HELLO = "hello"
    #: EHLO/HELO sent, waiting for its reply
    HELLO_WAIT = "hello-wait"
    #: session ready: MAIL, STARTTLS, AUTH, ...
    READY = "ready"
    #: STARTTLS sent, waiting for 220
    STARTTLS_WAIT = "starttls-wait"
    #: 220 to STARTTLS received: the driver does the TLS handshake now
    TLS_HANDSHAKE = "tls-handshake"
    #: AUTH or a response sent, waiting for 334 / 235 / failure
    AUTH_WAIT = "auth-wait"
    #: a 334 challenge arrived: the client answers it
    AUTH_CHALLENGE = "auth-challenge"
    #: MAIL sent (replies may still be due): RCPT, DATA
    TRANSACTION = "transaction"
    #: DATA sent, waiting for 354
    DATA_WAIT = "data-wait"
    #: 354 received: message data, then the end of data
    BODY = "body"
    #: end of data sent, waiting for the final reply
    FINAL_WAIT = "final-wait"
    #: QUIT sent, waiting for 221
    QUIT_WAIT = "quit-wait"
    #: the session is over
    CLOSED = "closed"
    #: a protocol error happened; nothing more can be sent
    ERROR = "error"


S = State

SEND: dict[State, dict[type[Command], State]] = {
    S.HELLO: {Ehlo: S.HELLO_WAIT, Helo: S.HELLO_WAIT, Lhlo: S.HELLO_WAIT, Quit: S.QUIT_WAIT},
    S.READY: {Ehlo: S.HELLO_WAIT, Lhlo: S.HELLO_WAIT, StartTLS: S.STARTTLS_WAIT, Auth: S.AUTH_WAIT,
              Mail: S.TRANSACTION, Rset: S.READY, Noop: S.READY, Quit: S.QUIT_WAIT},
    S.AUTH_CHALLENGE: {AuthResponse: S.AUTH_WAIT},
    S.TRANSACTION: {Rcpt: S.TRANSACTION, Data: S.DATA_WAIT, Rset: S.READY,
                    Noop: S.TRANSACTION, Quit: S.QUIT_WAIT},
    S.BODY: {MessageData: S.BODY, EndOfMessage: S.FINAL_WAIT},
    S.FINAL_WAIT: {Mail: S.TRANSACTION},
}

#: reply classes: "2" (2yz), "3" (3yz), "220" (exactly), "235", "334", "354", "4", "5"
ON_REPLY: dict[tuple[type[Command], str], State] = {
    (Greeting, "220"): S.HELLO, (Greeting, "4"): S.CLOSED, (Greeting, "5"): S.CLOSED,
    (Ehlo, "2"): S.READY, (Ehlo, "4"): S.HELLO, (Ehlo, "5"): S.HELLO,
    (Lhlo, "2"): S.READY, (Lhlo, "4"): S.HELLO, (Lhlo, "5"): S.HELLO,
    (Helo, "2"): S.READY, (Helo, "4"): S.HELLO, (Helo, "5"): S.HELLO,
    (StartTLS, "220"): S.TLS_HANDSHAKE, (StartTLS, "4"): S.READY, (StartTLS, "5"): S.READY,
    (Auth, "235"): S.READY, (Auth, "334"): S.AUTH_CHALLENGE,
    (Auth, "4"): S.READY, (Auth, "5"): S.READY,
    (AuthResponse, "235"): S.READY, (AuthResponse, "334"): S.AUTH_CHALLENGE,
    (AuthResponse, "4"): S.READY, (AuthResponse, "5"): S.READY,
    (Data, "354"): S.BODY, (Data, "2"): S.READY, (Data, "4"): S.READY, (Data, "5"): S.READY,
    (EndOfMessage, "2"): S.READY, (EndOfMessage, "4"): S.READY,
    (EndOfMessage, "5"): S.READY,
    (Quit, "2"): S.CLOSED, (Quit, "4"): S.CLOSED, (Quit, "5"): S.CLOSED,
}

#: "Service not available, closing transmission channel" (RFC 5321 4.2.3): the
#: one reply that may answer any command (3.8), after which the session is
#: CLOSED, whatever the command was
CLOSING = 421

# Replies that change nothing (MAIL, RCPT, RSET, NOOP) are accepted in any class.
NO_CHANGE: frozenset[type[Command]] = frozenset({Mail, Rcpt, Rset, Noop})


def reply_class(code: int) -> str:
    """The ON_REPLY key for a code: the exact code where it matters, else its class."""
    if code in (220, 235, 334, 354):
        return str(code)
    return str(code // 100)
