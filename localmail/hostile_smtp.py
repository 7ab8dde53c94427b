"""A hostile SMTP server (implicit TLS): its greeting is continuation lines (`220-`) that never end, as
fast as the client reads them. The tests aim a session at it to prove that one reply cannot grow
without bound."""

from __future__ import annotations

import socket
import ssl

from .certs import ServerCert
from .listener import TlsListener


class EndlessReplySmtp(TlsListener):
    def __init__(self, host: str, cert: ServerCert):
        super().__init__(host, cert, "endless-smtp")
        self.sent = 0  # bytes of reply sent, all connections
        self.start()

    def _serve(self, raw: socket.socket) -> None:
        lines = b"220-still greeting you\r\n" * 2048
        try:
            with self._context.wrap_socket(raw, server_side=True) as conn:
                while not self._stop.is_set():
                    conn.sendall(lines)
                    self.sent += len(lines)
        except (OSError, ssl.SSLError):
            pass  # the client gave up: that is the point
