"""A hostile SMTP server (implicit TLS): its greeting is continuation lines (`220-`) that never end, as
fast as the client reads them. The tests aim a session at it to prove that one reply cannot grow
without bound."""

from __future__ import annotations

import socket
import ssl
import threading

from .certs import ServerCert


class EndlessReplySmtp:
    def __init__(self, host: str, cert: ServerCert):
        self._context = cert.server_context()
        self._listener = socket.create_server((host, 0))
        self.host, self.port = host, self._listener.getsockname()[1]
        self.sent = 0  # bytes of reply sent, all connections
        self._stop = threading.Event()
        threading.Thread(target=self._accept, name="endless-smtp", daemon=True).start()

    def __enter__(self) -> EndlessReplySmtp:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        lines = b"220-still greeting you\r\n" * 2048
        try:
            with self._context.wrap_socket(raw, server_side=True) as conn:
                while not self._stop.is_set():
                    conn.sendall(lines)
                    self.sent += len(lines)
        except (OSError, ssl.SSLError):
            pass  # the client gave up: that is the point
