"""The Thunderbird autoconfig format (config-v1.1.xml): fetching it safely and reading it.

Fetched over HTTPS with verified certificates from the one address the network policy approved,
at most MAX_BYTES, redirects followed only within the same registrable domain and to the one
autoconfig port, all under one wall-clock deadline, parsed with defusedxml so entity tricks cannot
expand.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from publicsuffixlist import PublicSuffixList

from mailcore.netpolicy import NetworkPolicy
from mailcore.settings import AccountSettings, ServerSettings

MAX_BYTES = 64 * 1024
MAX_REDIRECTS = 3
_REDIRECTS = (301, 302, 303, 307, 308)


@cache
def _public_suffixes() -> PublicSuffixList:
    """Read at the first discovery rather than at every process start (a sync worker needs none)."""
    return PublicSuffixList()


class AutoconfigError(Exception):
    """The document could not be had or used; discovery moves on to other sources."""


@dataclass(frozen=True)
class AutoconfigResult:
    settings: AccountSettings | None  # None: the document offers no usable IMAP (see pop3_only)
    display_name: str
    pop3_only: bool = False


def registrable_domain(host: str) -> str:
    host = host.lower().rstrip(".")
    return _public_suffixes().privatesuffix(host) or host


class _Deadline:
    """Shuts the watched socket down when the deadline passes.

    A socket timeout bounds each read, not the sum of them: a server sending a byte a second
    would keep every read alive for ever. Shutting the socket down ends whatever read is waiting.
    """

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.passed = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._end)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.passed:
                _shut(sock)

    def check(self) -> None:
        if self.passed or time.monotonic() >= self.deadline:
            raise AutoconfigError("out of time")

    def _end(self) -> None:
        with self._lock:
            self.passed = True
            if self._sock is not None:
                _shut(self._sock)


def _shut(sock: socket.socket) -> None:
    try:  # the plain socket's shutdown, also for an SSLSocket: no TLS goodbye, just the end
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, context: ssl.SSLContext, deadline: _Deadline):
        super().__init__(host, port, timeout=max(0.001, deadline.deadline - time.monotonic()), context=context)
        self._address = address
        self._deadline = deadline

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self._deadline.watch(sock)
        tls = self._context.wrap_socket(sock, server_hostname=self.host, do_handshake_on_connect=False)
        self._deadline.watch(tls)
        self.sock = tls
        tls.do_handshake()


def fetch(url: str, policy: NetworkPolicy, context: ssl.SSLContext, deadline: float,
          port: int | None = None) -> bytes:
    """GET url over HTTPS from `port` (MAIL_AUTOCONFIG_PORT, else 443), all of it before `deadline`."""
    with _Deadline(deadline) as clock:
        return _fetch(url, policy, context, clock, port or 443)


def _fetch(url: str, policy: NetworkPolicy, context: ssl.SSLContext, clock: _Deadline, target_port: int) -> bytes:
    origin = registrable_domain(urlsplit(url).hostname or "")
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise AutoconfigError(f"not an https URL: {url}")
        if registrable_domain(parts.hostname) != origin:
            raise AutoconfigError(f"redirect leaves {origin}: {parts.hostname}")
        try:
            named_port = parts.port
        except ValueError:
            raise AutoconfigError(f"not a port: {parts.netloc}") from None
        if named_port not in (None, target_port):
            raise AutoconfigError(f"redirect to port {named_port}, not {target_port}")
        clock.check()
        try:
            address = policy.with_ports(target_port).resolve(parts.hostname, target_port)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            status, location, body = _get(parts.hostname, target_port, address, path or "/", context, clock)
        except Exception as exc:
            clock.check()
            raise AutoconfigError(f"{type(exc).__name__}: {exc}") from None
        clock.check()  # a read cut short by the deadline may look like a short document
        if status in _REDIRECTS:
            url = location if "://" in location else f"https://{parts.netloc}{location}"
            continue
        if status != 200:
            raise AutoconfigError(f"HTTP {status}")
        if len(body) > MAX_BYTES:
            raise AutoconfigError("document larger than 64 KB")
        return body
    raise AutoconfigError("too many redirects")


def _get(host: str, port: int, address: str, target: str, context: ssl.SSLContext,
         clock: _Deadline) -> tuple[int, str, bytes]:
    """One GET: (status, Location, at most MAX_BYTES + 1 bytes of a 200's body)."""
    connection = _PinnedHTTPSConnection(host, port, address, context, clock)
    try:
        connection.request("GET", target, headers={"Accept": "application/xml, text/xml",
                                                   "User-Agent": "Inkorg-autoconfig"})
        response = connection.getresponse()
        if response.status != 200:
            return response.status, response.getheader("Location", ""), b""
        return 200, "", response.read(MAX_BYTES + 1)
    finally:
        connection.close()


def _server(element, address: str) -> ServerSettings | None:
    local, _, domain = address.rpartition("@")

    def text(tag: str) -> str:
        found = element.find(tag)
        return (found.text or "").strip() if found is not None else ""

    socket_type = text("socketType").upper()
    if socket_type not in ("SSL", "STARTTLS"):
        return None  # never a plaintext option
    try:
        port = int(text("port"))
    except ValueError:
        return None
    host = text("hostname").replace("%EMAILDOMAIN%", domain).lower()
    username = (text("username") or "%EMAILADDRESS%").replace("%EMAILADDRESS%", address)
    username = username.replace("%EMAILLOCALPART%", local).replace("%EMAILDOMAIN%", domain)
    if not host or not 0 < port < 65536 or "%" in username:
        return None
    return ServerSettings(host, port, socket_type == "SSL", username)


def _best(servers: list[ServerSettings]) -> ServerSettings | None:
    """The document's order, except that implicit TLS goes before STARTTLS."""
    return sorted(servers, key=lambda s: not s.ssl)[0] if servers else None


def parse(document: bytes, address: str) -> AutoconfigResult:
    try:
        root = ElementTree.fromstring(document, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise AutoconfigError(f"unreadable document: {exc}") from None
    provider = root.find("emailProvider")
    if root.tag != "clientConfig" or provider is None:
        raise AutoconfigError("not a clientConfig document")
    name = (provider.findtext("displayName") or provider.get("id") or "").strip()
    incoming = [s for e in provider.findall("incomingServer") if e.get("type") == "imap"
                for s in [_server(e, address)] if s]
    outgoing = [s for e in provider.findall("outgoingServer") if e.get("type") == "smtp"
                for s in [_server(e, address)] if s]
    has_pop3 = any(e.get("type") == "pop3" for e in provider.findall("incomingServer"))
    imap, smtp = _best(incoming), _best(outgoing)
    if imap is None:
        if has_pop3:
            return AutoconfigResult(None, name, pop3_only=True)
        raise AutoconfigError("no IMAP server with TLS")
    if smtp is None:
        raise AutoconfigError("no SMTP server with TLS")
    return AutoconfigResult(AccountSettings(address, imap, smtp), name)


def urls(domain: str, address: str) -> list[str]:
    """Where a domain publishes its document: the autoconfig host, then the well-known path."""
    from urllib.parse import quote

    return [f"https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={quote(address, safe='@')}",
            f"https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml"]
