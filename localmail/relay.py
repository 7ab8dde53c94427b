"""A byte-for-byte TCP relay in front of Dovecot.

Dovecot's login processes treat a client as secured whenever its IP equals the
server's IP, which is always true on loopback: no LOGINDISABLED, plaintext LOGIN
allowed without TLS. Relaying from a second loopback address makes Dovecot see
a remote client, so it behaves as it would on a network. TLS stays end-to-end.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading

from .ports import port_error


class TcpRelay:
    def __init__(
        self,
        host: str,
        source: str,
        backend_ports: list[int],
        public_ports: dict[int, int] | None = None,
    ) -> None:
        if source == host:
            raise ValueError(f"the relay must dial Dovecot from another address than {host}")
        self.host = host
        self.source = source
        self.backend_ports = backend_ports
        self.public_ports = public_ports or {}  # backend port -> fixed public port (else random)
        self.ports: dict[int, int] = {}  # backend port -> public port
        self._loop = asyncio.new_event_loop()
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="localmail-relay", daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=5)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def pause(self) -> None:
        """Stop listening (clients get "connection refused"); open relays stay as they are."""
        asyncio.run_coroutine_threadsafe(self._close_listeners(), self._loop).result(timeout=5)

    def resume(self) -> None:
        """Listen again, on the same public ports as before."""
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=5)

    async def _listen(self) -> None:
        for backend in self.backend_ports:
            accept = functools.partial(self._accept, backend)
            port = self.ports.get(backend) or self.public_ports.get(backend, 0)
            try:
                server = await asyncio.start_server(accept, self.host, port)
            except OSError as error:
                raise port_error("MailLab relay", self.host, port, error) from error
            self._servers.append(server)
            self.ports[backend] = server.sockets[0].getsockname()[1]

    async def _close_listeners(self) -> None:
        # close() releases the listening sockets at once. No wait_closed(): since
        # Python 3.12 it also waits for every relayed connection to end.
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()

    def _accept(
        self, backend: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.ensure_future(self._relay(reader, writer, backend))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _relay(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter, backend: int
    ) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(
                self.host, backend, local_addr=(self.source, 0)
            )
        except OSError:
            client_w.close()
            return
        try:
            await asyncio.gather(_pipe(client_r, server_w), _pipe(server_r, client_w))
        finally:
            for writer in (client_w, server_w):
                writer.close()

    async def _shutdown(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    # Pass the EOF on but keep the other direction open (half-close).
    with contextlib.suppress(ConnectionError, OSError):
        if writer.can_write_eof():
            writer.write_eof()
