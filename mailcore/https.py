"""HTTPS to the hosts the network rule approves: the one client, for autoconfig documents
(mailcore.discovery.autoconfig) and for OAuth issuers (mailcore.oauth.client).

A requests session whose adapter connects to the one address the network rule approved for the
URL's host and port, verifies the certificate against the host name with the installation's trust
(system store plus MAIL_CA_BUNDLE), follows no proxy from the environment and no redirect (the
callers may judge those), and refuses plain HTTP. Given a Deadline, the whole exchange
(connection, TLS handshake, headers and body) ends when it passes.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool

from mailcore.deadline import Cutoff
from mailcore.netpolicy import NetworkPolicy


class PinnedAdapter(HTTPAdapter):
    """The adapter of `pinned_session`. The host name is checked by the TLS context itself
    (server_hostname): urllib3 is never asked to check it, as it would then switch the shared
    context's own check off for every other connection that uses it (IMAP and SMTP)."""

    def __init__(self, policy: NetworkPolicy, context: ssl.SSLContext, cutoff: Cutoff | None = None):
        self.policy, self.context = policy, context
        super().__init__(max_retries=0)
        if cutoff is not None:
            self.poolmanager.pool_classes_by_scheme = {**self.poolmanager.pool_classes_by_scheme,
                                                       "https": _watched_pool(cutoff)}

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        parts = urlsplit(request.url)
        if parts.scheme != "https" or not parts.hostname:
            raise requests.exceptions.InvalidURL(f"not an https URL: {parts.scheme}://{parts.hostname}")
        port = parts.port or 443
        host_params["host"] = self.policy.with_ports(port).resolve(parts.hostname, port)
        pool_kwargs.update(server_hostname=parts.hostname, ssl_context=self.context, cert_reqs=ssl.CERT_REQUIRED)
        pool_kwargs.pop("ca_certs", None)
        pool_kwargs.pop("assert_hostname", None)
        return host_params, pool_kwargs

    def cert_verify(self, conn, url, verify, cert) -> None:
        conn.cert_reqs = "CERT_REQUIRED"  # the context carries the trust; requests' own bundle stays out

    def send(self, request, **kwargs):
        request.headers["Host"] = urlsplit(request.url).netloc  # the pool knows only the address
        return super().send(request, **kwargs)


def _watched_pool(cutoff: Cutoff) -> type[HTTPSConnectionPool]:
    class WatchedConnection(HTTPSConnection):
        def _new_conn(self):
            sock = super()._new_conn()
            cutoff.watch(sock)
            return sock

    class WatchedPool(HTTPSConnectionPool):
        ConnectionCls = WatchedConnection

    return WatchedPool


def pinned_session(policy: NetworkPolicy, context: ssl.SSLContext, session: requests.Session | None = None,
                   cutoff: Cutoff | None = None, redirect_answers: bool = False) -> requests.Session:
    """`session` (a new requests session when None; Authlib's OAuth2Session is one) able to reach
    only what the network rule allows; with `cutoff`, its sockets are shut down at that deadline.
    An answer that redirects raises TooManyRedirects, unless `redirect_answers`: then it is handed
    to the caller to judge (with allow_redirects=False; the session itself never follows one)."""
    session = session if session is not None else requests.Session()
    session.trust_env = False
    if not redirect_answers:
        session.max_redirects = 0
    adapter = PinnedAdapter(policy, context, cutoff)
    session.mount("https://", adapter)
    session.mount("http://", adapter)  # refused there: no plain HTTP
    return session


@dataclass(frozen=True)
class Answer:
    status: int
    location: str
    body: bytes  # at most the limit plus one byte, so a larger document shows


def get(session: requests.Session, url: str, limit: int, accept: str, timeout: float | None = None,
        user_agent: str = "Inkorg") -> Answer:
    """One GET, no redirect followed: the status, the Location, and at most `limit` + 1 bytes of the body."""
    headers = {"Accept": accept, "Accept-Encoding": "identity", "User-Agent": user_agent}
    kwargs = {"timeout": timeout} if timeout is not None else {}
    with session.get(url, headers=headers, stream=True, allow_redirects=False, **kwargs) as response:
        body = response.raw.read(limit + 1, decode_content=True) if response.status_code == 200 else b""
        return Answer(response.status_code, response.headers.get("Location", ""), body)
