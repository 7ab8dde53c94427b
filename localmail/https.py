"""A real HTTPS server on loopback that serves canned routes by Host header and path.

    web = LocalHttps(lab, names=["autoconfig.example.test", "*.example.test"])
    web.route("autoconfig.example.test", "/mail/config-v1.1.xml", b"<clientConfig .../>")
    web.redirect("example.test", "/.well-known/autoconfig/mail/config-v1.1.xml",
                 "https://autoconfig.example.test/mail/config-v1.1.xml")
    web.tarpit("slow.example.test", "/mail/config-v1.1.xml")
    web.trickle("drip.example.test", "/mail/config-v1.1.xml", b"<clientConfig .../>", interval=0.2)
    ...  # connect to web.host:web.port with server_hostname="autoconfig.example.test",
         # trusting lab.ca_bundle
    web.requests   # [("autoconfig.example.test", "/mail/config-v1.1.xml?emailaddress=..."), ...]
    web.stop()

The certificate comes from the MailLab's trusted CA (the one in lab.ca_bundle),
so a client that trusts the lab trusts this server too. Each connection gets its
own thread, and the TLS handshake happens there, so a stuck client or a tarpit
route never holds up anybody else.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import TCPServer, ThreadingMixIn
from typing import TYPE_CHECKING, Any

from .certs import ServerCert, TlsFiles
from .ports import port_error

if TYPE_CHECKING:
    from .lab import MailLab

DEFAULT_CONTENT_TYPE = "text/xml; charset=utf-8"  # what autoconfig documents are
ANY_HOST = "*"  # route(ANY_HOST, ...) answers for a path on every Host without its own route


@dataclass(frozen=True)
class _Route:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    tarpit: bool = False
    trickle: float = 0.0  # seconds between bytes of the whole response, status line included


class LocalHttps:
    def __init__(
        self,
        tls: MailLab | TlsFiles,
        names: Sequence[str] = ("localhost",),
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        timeout: float = 10.0,
    ) -> None:
        """tls: the MailLab (or its TlsFiles) whose CA signs this server's certificate;
        names: its SANs (exact names, wildcards, IP addresses); timeout: how long a
        connection may take to finish its handshake and send its request."""
        address = ipaddress.ip_address(host)
        if address.version != 4 or not address.is_loopback:
            raise ValueError(f"LocalHttps needs an IPv4 loopback host, got {host!r}")
        files = tls if isinstance(tls, TlsFiles) else tls.tls_files
        self.cert: ServerCert = files.issue(names, stem="https")
        self.names = (names,) if isinstance(names, str) else tuple(names)
        self.host = host
        self.timeout = timeout
        self.requests: list[tuple[str, str]] = []  # (host, request target) as received
        self.delays: dict[str, float] = {}  # host -> seconds every answer for it waits (a server far away)
        self._routes: dict[tuple[str, str], _Route] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._open: set[ssl.SSLSocket] = set()
        try:
            self._server = _Server((host, port), _Handler, self)
        except OSError as error:
            raise port_error("LocalHttps", host, port, error) from error
        self.port: int = self._server.server_address[1]
        self.address = f"{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"localmail-https-{self.port}",
            daemon=True,
        )
        self._thread.start()

    # Routes ---------------------------------------------------------------------

    def route(
        self,
        host: str,
        path: str,
        body: bytes | str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer GET/HEAD for host+path (query string ignored) with this response.
        Content-Type defaults to DEFAULT_CONTENT_TYPE; Content-Length is added."""
        data = body.encode() if isinstance(body, str) else bytes(body)
        merged = dict(headers or {})
        if not any(key.lower() == "content-type" for key in merged):
            merged["Content-Type"] = DEFAULT_CONTENT_TYPE
        self._set(host, path, _Route(status, tuple(merged.items()), data))

    def redirect(self, host: str, path: str, location: str, status: int = 301) -> None:
        self._set(host, path, _Route(status, (("Location", location),), b""))

    def tarpit(self, host: str, path: str) -> None:
        """Read the request, then never answer: the connection stays open until stop()."""
        self._set(host, path, _Route(0, (), b"", tarpit=True))

    def trickle(self, host: str, path: str, body: bytes | str, interval: float = 0.2) -> None:
        """Answer 200 with this body, one byte every `interval` seconds (status line, headers
        and body alike): each read gets data in time, so only a deadline ends it."""
        data = body.encode() if isinstance(body, str) else bytes(body)
        self._set(host, path, _Route(200, (("Content-Type", DEFAULT_CONTENT_TYPE),), data, trickle=interval))

    def remove(self, host: str, path: str) -> None:
        with self._lock:
            self._routes.pop((_host(host), path), None)

    def url(self, host: str, path: str = "/") -> str:
        """https://host:port/path (resolve host to self.host yourself, e.g. LocalDns)."""
        return f"https://{host}:{self.port}{path}"

    def _set(self, host: str, path: str, route: _Route) -> None:
        if not path.startswith("/"):
            raise ValueError(f"a route's path starts with '/', got {path!r}")
        with self._lock:
            self._routes[(_host(host), path)] = route

    def _lookup(self, host: str, target: str) -> _Route | None:
        path = target.split("#", 1)[0].split("?", 1)[0]
        with self._lock:
            self.requests.append((host, target))
            return self._routes.get((host, path)) or self._routes.get((ANY_HOST, path))

    # Lifecycle ------------------------------------------------------------------

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()  # tarpit handlers return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            still_open, self._open = list(self._open), set()
        for conn in still_open:  # e.g. a client that never finished its request
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=2)

    def __enter__(self) -> LocalHttps:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _host(host: str) -> str:
    """The Host header's name: no port, no final dot, lower case ("[::1]:8443" -> "::1")."""
    host = host.strip()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".").lower()


class _Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type, owner: LocalHttps) -> None:
        self.owner = owner
        self.context = owner.cert.server_context()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind() would call socket.getfqdn(): a reverse DNS lookup
        # that can leave the machine. The name is not used for anything here.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Runs in the connection's own thread: TLS handshake first, then HTTP."""
        request.settimeout(self.owner.timeout)
        try:
            conn = self.context.wrap_socket(request, server_side=True)
        except (OSError, ValueError):
            return  # bad handshake, timeout, or a plain-HTTP client
        with self.owner._lock:
            if self.owner._stopping.is_set():
                conn.close()
                return
            self.owner._open.add(conn)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        except OSError:
            pass
        finally:
            with self.owner._lock:
                self.owner._open.discard(conn)
            conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-request is not worth a traceback on stderr


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "localmail-https"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        owner = self.server.owner
        self.close_connection = True
        route = owner._lookup(_host(self.headers.get("Host", "")), self.path)
        if route is None:
            route = _Route(404, (("Content-Type", "text/plain; charset=utf-8"),), b"Not found\n")
        if route.tarpit:
            owner._stopping.wait()
            return
        delay = owner.delays.get(_host(self.headers.get("Host", "")), 0.0)
        if delay and owner._stopping.wait(delay):
            return
        if route.trickle:
            self._drip(route, send_body)
            return
        self.send_response(route.status)
        for key, value in route.headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(route.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if send_body:
            self.wfile.write(route.body)

    def _drip(self, route: _Route, send_body: bool) -> None:
        head = [f"HTTP/1.1 {route.status} OK", *(f"{k}: {v}" for k, v in route.headers),
                f"Content-Length: {len(route.body)}", "Connection: close", "", ""]
        data = "\r\n".join(head).encode() + (route.body if send_body else b"")
        for i in range(len(data)):
            if self.server.owner._stopping.wait(route.trickle):
                return
            self.wfile.write(data[i:i + 1])
            self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        pass
