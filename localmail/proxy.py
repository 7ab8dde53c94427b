"""A TCP proxy that can cut connections: for "the network died halfway" tests.

    proxy = FaultProxy(lab.host, lab.imap_tls_port)
    proxy.cut_after(20_000)      # the next connection dies after 20,000 server bytes
    ...  # the client dials proxy.host:proxy.port, TLS to "localhost" passes through
    proxy.stop()

Bytes are forwarded unchanged both ways, so TLS stays end to end: the client
verifies the lab's certificate by name exactly as without the proxy. A cut
closes both sockets with RST (SO_LINGER 0), as a dead NAT or a reset link would:
the client sees ECONNRESET or a truncated TLS stream, never a clean goodbye.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
from dataclasses import dataclass, field

_CHUNK = 65536
_RST = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST


@dataclass
class _Connection:
    number: int
    client: socket.socket
    server: socket.socket
    limit: int | None  # server bytes to pass before the cut, None: no cut
    wake_r: socket.socket
    wake_w: socket.socket
    server_bytes: int = 0
    client_bytes: int = 0
    cut: bool = False
    thread: threading.Thread | None = field(default=None, repr=False)


class FaultProxy:
    """Forwards host:port -> target_host:target_port; one thread per connection.

    connections: connections accepted so far; active: those still open;
    cuts: connections this proxy has cut (by cut_after or cut_all_now).
    """

    def __init__(self, target_host: str, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self._listener = socket.create_server((host, 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: dict[int, _Connection] = {}
        self._cut_limit: int | None = None
        self._cut_every = False
        self.connections = 0
        self.cuts = 0
        self.server_bytes = 0  # forwarded server -> client, all connections
        self._stopping = False
        self._accepter = threading.Thread(
            target=self._accept_loop, name=f"fault-proxy-{self.port}", daemon=True
        )
        self._accepter.start()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def active(self) -> int:
        with self._lock:
            return len(self._open)

    def cut_after(self, n_bytes_from_server: int | None, *, every: bool = False) -> None:
        """Cut the next connection once the server has sent it n bytes (0: at once).

        every=True: every connection from now on, until cut_after(None) resets.
        Connections already open are not affected.
        """
        if n_bytes_from_server is not None and n_bytes_from_server < 0:
            raise ValueError("n_bytes_from_server must be >= 0 or None")
        with self._lock:
            self._cut_limit = n_bytes_from_server
            self._cut_every = every and n_bytes_from_server is not None

    def cut_all_now(self) -> int:
        """Reset every open connection; how many there were."""
        with self._lock:
            victims = list(self._open.values())
            for conn in victims:
                conn.limit = conn.server_bytes  # nothing more may pass
        for conn in victims:
            _wake(conn)
        for conn in victims:
            if conn.thread is not None and conn.thread is not threading.current_thread():
                conn.thread.join(timeout=5)
        return len(victims)

    def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._accepter.join(timeout=5)
        self.cut_all_now()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Internals ------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                _abort(client)  # the target is down: the client sees a reset
                with self._lock:
                    self.connections += 1
                continue
            server.settimeout(None)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            wake_r, wake_w = socket.socketpair()
            with self._lock:
                self.connections += 1
                limit = self._cut_limit
                if not self._cut_every:
                    self._cut_limit = None
                conn = _Connection(self.connections, client, server, limit, wake_r, wake_w)
                self._open[conn.number] = conn
                conn.thread = threading.Thread(
                    target=self._pump,
                    args=(conn,),
                    name=f"fault-proxy-conn-{conn.number}",
                    daemon=True,
                )
            conn.thread.start()

    def _pump(self, conn: _Connection) -> None:
        selector = selectors.DefaultSelector()
        selector.register(conn.client, selectors.EVENT_READ, "client")
        selector.register(conn.server, selectors.EVENT_READ, "server")
        selector.register(conn.wake_r, selectors.EVENT_READ, "wake")
        open_directions = {"client", "server"}
        try:
            if conn.limit == 0:
                self._cut(conn)
                return
            while open_directions:
                for key, _ in selector.select():
                    if key.data == "wake":
                        with contextlib.suppress(OSError):
                            conn.wake_r.recv(64)
                        if self._over_limit(conn, 0):
                            self._cut(conn)
                            return
                        continue
                    source = key.fileobj
                    try:
                        data = source.recv(_CHUNK)  # type: ignore[union-attr]
                    except OSError:
                        data = None
                    if key.data == "server":
                        if data is None:  # the server reset: so does the client's side
                            self._cut(conn, counted=False)
                            return
                        allowed = self._allowance(conn, len(data))
                        if data and allowed:
                            if not _send(conn.client, data[:allowed]):
                                self._cut(conn, counted=False)
                                return
                            with self._lock:
                                conn.server_bytes += allowed
                                self.server_bytes += allowed
                        if data and allowed < len(data) or self._over_limit(conn, 0):
                            self._cut(conn)
                            return
                        if not data:  # EOF: pass the half-close on
                            selector.unregister(conn.server)
                            open_directions.discard("server")
                            _shutdown_write(conn.client)
                    else:
                        if data is None:
                            self._cut(conn, counted=False)
                            return
                        if data:
                            if not _send(conn.server, data):
                                self._cut(conn, counted=False)
                                return
                            conn.client_bytes += len(data)
                        else:
                            selector.unregister(conn.client)
                            open_directions.discard("client")
                            _shutdown_write(conn.server)
            self._close(conn)
        finally:
            selector.close()
            with self._lock:
                self._open.pop(conn.number, None)
            conn.wake_r.close()
            conn.wake_w.close()

    def _allowance(self, conn: _Connection, size: int) -> int:
        with self._lock:
            if conn.limit is None:
                return size
            return max(0, min(size, conn.limit - conn.server_bytes))

    def _over_limit(self, conn: _Connection, pending: int) -> bool:
        with self._lock:
            return conn.limit is not None and conn.server_bytes + pending >= conn.limit

    def _cut(self, conn: _Connection, *, counted: bool = True) -> None:
        if counted:
            with self._lock:
                self.cuts += 1
            conn.cut = True
        _abort(conn.client)
        _abort(conn.server)

    def _close(self, conn: _Connection) -> None:
        conn.client.close()
        conn.server.close()


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False


def _shutdown_write(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)


def _abort(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST)
    sock.close()


def _wake(conn: _Connection) -> None:
    with contextlib.suppress(OSError):
        conn.wake_w.send(b"x")
