"""TCP listeners that accept connections and never say a word."""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Sequence

from .ports import port_error

STANDARD_MAIL_PORTS = (993, 143, 465, 587)


class Tarpit:
    """Accepts on every port in `ports` (0 = a free one) and holds each connection
    open in silence until stop(): the peer sees neither data nor EOF.

        Tarpit("127.0.0.1").port                    # one random port (the lab's)
        Tarpit("127.0.0.6", STANDARD_MAIL_PORTS)    # 993, 143, 465, 587
    """

    def __init__(self, host: str, ports: Sequence[int] = (0,)) -> None:
        if not ports:
            raise ValueError("Tarpit needs at least one port")
        self.host = host
        self._listeners: list[socket.socket] = []
        try:
            for port in ports:
                self._listeners.append(_listen(host, port))
        except BaseException:
            for listener in self._listeners:
                listener.close()
            raise
        self.ports: list[int] = [s.getsockname()[1] for s in self._listeners]
        self.port: int = self.ports[0]
        self._held: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, name=f"localmail-tarpit-{self.port}", daemon=True
        )
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            readable, _, _ = select.select(self._listeners, [], [], 0.1)
            for listener in readable:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                self._held.append(conn)  # keep it open: the peer must see silence, not EOF

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._thread.join(timeout=2)
        for listener in self._listeners:
            listener.close()
        for conn in self._held:
            conn.close()
        self._held.clear()

    def __enter__(self) -> Tarpit:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise port_error("Tarpit", host, port, error) from error
    sock.listen(64)
    return sock

