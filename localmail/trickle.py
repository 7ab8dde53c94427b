"""A TCP proxy that passes the server's bytes on one at a time, slowly: for "a server that never
stops answering, but never finishes" tests.

    slow = TrickleProxy(web.host, web.port, interval=0.2)
    ...  # the client dials slow.host:slow.port; TLS passes through end to end
    slow.stop()

The client's bytes go through at once; the server's come one every `interval` seconds, from the
first byte of the TLS handshake on, so a per-read timeout never fires and only a deadline on the
whole exchange ends it.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TrickleProxy:
    def __init__(self, target_host: str, target_port: int, interval: float = 0.2,
                 host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.interval = interval
        self.host = host
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self.connections = 0
        self.server_bytes = 0  # passed on to clients, all connections
        self._stopping = threading.Event()
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name=f"trickle-{self.port}", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self.connections += 1
                self._open += [client, server]
            for source, sink, slow in ((client, server, False), (server, client, True)):
                threading.Thread(target=self._pump, args=(source, sink, slow), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, slow: bool) -> None:
        source.settimeout(None)
        try:
            while not self._stopping.is_set():
                data = source.recv(65536)
                if not data:
                    break
                if not slow:
                    sink.sendall(data)
                    continue
                for i in range(len(data)):
                    if self._stopping.wait(self.interval):
                        return
                    sink.sendall(data[i:i + 1])
                    with self._lock:
                        self.server_bytes += 1
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._thread.join(timeout=2)
        self._listener.close()
        with self._lock:
            still_open, self._open = self._open, []
        for sock in still_open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def __enter__(self) -> TrickleProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
