"""The Thunderbird autoconfig format (config-v1.1.xml): fetching it safely and reading it.

Fetched with the installation's pinned HTTPS client (mailcore.https: verified certificates, the one
address the network rule approved), at most MAX_BYTES, redirects followed only within the same
registrable domain and to the one autoconfig port, all under one wall-clock deadline that shuts the
connection down when it passes, parsed with defusedxml so entity tricks cannot expand.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit, urlunsplit

import requests
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from publicsuffixlist import PublicSuffixList

from mailcore.deadline import Deadline
from mailcore.https import get, pinned_session
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


def fetch(url: str, policy: NetworkPolicy, context: ssl.SSLContext, deadline: float,
          port: int | None = None) -> bytes:
    """GET url over HTTPS from `port` (MAIL_AUTOCONFIG_PORT, else 443), all of it before `deadline`
    (a monotonic time)."""
    clock = Deadline.until(deadline)
    with clock.cutoff() as cutoff, pinned_session(policy, context, cutoff=cutoff, redirect_answers=True) as session:
        return _fetch(url, session, clock, port or 443)


def _fetch(url: str, session: requests.Session, clock: Deadline, target_port: int) -> bytes:
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
        _in_time(clock)
        netloc = parts.hostname if target_port == 443 else f"{parts.hostname}:{target_port}"
        try:
            answer = get(session, urlunsplit(("https", netloc, parts.path or "/", parts.query, "")), MAX_BYTES,
                         "application/xml, text/xml", timeout=clock.remaining(0.001), user_agent="Inkorg-autoconfig")
        except Exception as exc:
            _in_time(clock)
            raise AutoconfigError(f"{type(exc).__name__}: {exc}") from None
        _in_time(clock)  # a read cut short by the deadline may look like a short document
        if answer.status in _REDIRECTS:
            url = answer.location if "://" in answer.location else f"https://{parts.netloc}{answer.location}"
            continue
        if answer.status != 200:
            raise AutoconfigError(f"HTTP {answer.status}")
        if len(answer.body) > MAX_BYTES:
            raise AutoconfigError("document larger than 64 KB")
        return answer.body
    raise AutoconfigError("too many redirects")


def _in_time(clock: Deadline) -> None:
    if clock.passed:
        raise AutoconfigError("out of time")


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
