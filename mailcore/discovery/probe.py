"""Testing which servers answer, without logging in: greetings and capabilities only.

A probe never sends a password. An IMAP probe on 143 and an SMTP probe on 587 also complete
STARTTLS, so a server whose certificate would fail at Log in is not offered.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

from mailcore.deadline import remaining
from mailcore.netpolicy import NetworkPolicy

_LINE = 4096


class ProbeFailed(Exception):
    pass


@dataclass(frozen=True)
class Probe:
    kind: str  # "imap", "smtp" or "pop3"
    host: str
    port: int
    ssl: bool


class _Conversation:
    def __init__(self, sock: socket.socket, deadline: float):
        self.sock = sock
        self.buffer = b""
        self.deadline = deadline

    def line(self) -> bytes:
        while b"\n" not in self.buffer:
            left = remaining(self.deadline)
            if left <= 0:
                raise ProbeFailed("out of time")  # a server that trickles bytes still ends here
            self.sock.settimeout(left)
            chunk = self.sock.recv(_LINE)
            if not chunk:
                raise ProbeFailed("closed")
            self.buffer += chunk
            if len(self.buffer) > 64 * _LINE:
                raise ProbeFailed("line too long")
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.rstrip(b"\r")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)


def _imap(conv: _Conversation, probe: Probe, context: ssl.SSLContext) -> None:
    greeting = conv.line()
    if not greeting.startswith((b"* OK", b"* PREAUTH")):
        raise ProbeFailed(f"not IMAP: {greeting[:60]!r}")
    if not probe.ssl:
        conv.send(b"p1 CAPABILITY\r\n")
        capabilities = b""
        while True:
            line = conv.line()
            if line.startswith(b"p1 "):
                break
            capabilities += line.upper()
        if b"STARTTLS" not in capabilities:
            raise ProbeFailed("no STARTTLS")
        conv.send(b"p2 STARTTLS\r\n")
        while not (line := conv.line()).startswith(b"p2 "):
            pass
        if not line.startswith(b"p2 OK"):
            raise ProbeFailed("STARTTLS refused")
        conv.sock = context.wrap_socket(conv.sock, server_hostname=probe.host)
        conv.buffer = b""
    conv.send(b"p9 LOGOUT\r\n")


def _pop3(conv: _Conversation, probe: Probe, context: ssl.SSLContext) -> None:
    if not conv.line().startswith(b"+OK"):
        raise ProbeFailed("not POP3")
    conv.send(b"QUIT\r\n")


def _smtp_reply(conv: _Conversation) -> tuple[int, bytes]:
    text = b""
    while True:
        line = conv.line()
        text += line[4:].upper() + b"\n"
        if len(line) < 4 or line[3:4] != b"-":
            try:
                return int(line[:3]), text
            except ValueError:
                raise ProbeFailed("not SMTP") from None


def _smtp(conv: _Conversation, probe: Probe, context: ssl.SSLContext) -> None:
    code, _ = _smtp_reply(conv)
    if code != 220:
        raise ProbeFailed(f"greeting {code}")
    conv.send(b"EHLO localhost\r\n")
    code, extensions = _smtp_reply(conv)
    if code != 250:
        raise ProbeFailed(f"EHLO {code}")
    if not probe.ssl:
        if b"\nSTARTTLS" not in b"\n" + extensions:
            raise ProbeFailed("no STARTTLS")
        conv.send(b"STARTTLS\r\n")
        if _smtp_reply(conv)[0] != 220:
            raise ProbeFailed("STARTTLS refused")
        conv.sock = context.wrap_socket(conv.sock, server_hostname=probe.host)
        conv.buffer = b""
        conv.send(b"EHLO localhost\r\n")
        code, extensions = _smtp_reply(conv)
    if b"\nAUTH" not in b"\n" + extensions:
        raise ProbeFailed("no AUTH")
    conv.send(b"QUIT\r\n")


_TALK = {"imap": _imap, "smtp": _smtp, "pop3": _pop3}


def run(probe: Probe, policy: NetworkPolicy, context: ssl.SSLContext, deadline: float) -> Probe:
    """The probe itself when the server answers as it should before the deadline; ProbeFailed otherwise."""
    try:
        address = policy.resolve(probe.host, probe.port)
        sock = socket.create_connection((address, probe.port), remaining(deadline, 0.05))
    except Exception as exc:
        raise ProbeFailed(str(exc)) from None
    try:
        sock.settimeout(remaining(deadline, 0.05))
        if probe.ssl:
            sock = context.wrap_socket(sock, server_hostname=probe.host)
        conv = _Conversation(sock, deadline)
        _TALK[probe.kind](conv, probe, context)
        return probe
    except ProbeFailed:
        raise
    except Exception as exc:
        raise ProbeFailed(f"{type(exc).__name__}: {exc}") from None
    finally:
        try:
            conv.sock.close() if "conv" in locals() else sock.close()
        except OSError:
            pass
