"""A TLS server of the tests that accepts on a free port of `host` and serves each connection in a
thread of its own (the hostile IMAP and SMTP servers); stop() closes the listening socket."""

from __future__ import annotations

import socket
import threading

from .certs import ServerCert


class TlsListener:
    def __init__(self, host: str, cert: ServerCert, name: str):
        self._context = cert.server_context()
        self._listener = socket.create_server((host, 0))
        self.host, self.port = host, self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name=name, daemon=True)

    def start(self) -> TlsListener:
        self._thread.start()
        return self

    def __enter__(self):
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
        raise NotImplementedError
