"""A TCP listener that accepts connections and never says a word."""

from __future__ import annotations

import select
import socket
import threading


class Tarpit:
    def __init__(self, host: str) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(64)
        self.port: int = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, name=f"localmail-tarpit-{self.port}", daemon=True
        )
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            readable, _, _ = select.select([self._listener], [], [], 0.1)
            if readable:
                conn, _ = self._listener.accept()
                self._held.append(conn)  # keep it open: the peer must see silence, not EOF

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=2)
        self._listener.close()
        for conn in self._held:
            conn.close()
        self._held.clear()
