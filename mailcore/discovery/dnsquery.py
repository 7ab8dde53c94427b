"""DNS look-ups for discovery: MX, SRV and addresses, through one configurable resolver."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import dns.exception
import dns.resolver

from mailcore.netpolicy import system_addresses


@dataclass(frozen=True)
class SrvRecord:
    priority: int
    weight: int
    port: int
    target: str


class Dns:
    """A resolver bound to MAIL_DNS_SERVER ("host:port") or, without one, to the system's."""

    def __init__(self, nameserver: str | None = None, timeout: float = 3.0):
        self.nameserver = nameserver
        self._resolver = dns.resolver.Resolver(configure=nameserver is None)
        if nameserver:
            host, _, port = nameserver.rpartition(":") if ":" in nameserver else (nameserver, "", "53")
            self._resolver.nameservers = [host.strip("[]")]
            self._resolver.port = int(port)
        self._resolver.lifetime = timeout
        self._resolver.timeout = timeout

    def _query(self, name: str, rdtype: str, timeout: float | None = None) -> list:
        try:
            return list(self._resolver.resolve(name, rdtype, lifetime=timeout or self._resolver.lifetime))
        except (dns.exception.DNSException, ValueError):
            return []

    def mx(self, domain: str, timeout: float | None = None) -> list[str]:
        """MX hosts, best preference first; [] for none, a null MX, or a failed look-up."""
        records = sorted(self._query(domain, "MX", timeout), key=lambda r: r.preference)
        return [str(r.exchange).rstrip(".").lower() for r in records if str(r.exchange) not in (".", "")]

    def srv(self, name: str, timeout: float | None = None) -> list[SrvRecord]:
        """SRV records by priority then weight; RFC 2782's "." target means: no such service."""
        records = [SrvRecord(r.priority, r.weight, r.port, str(r.target).rstrip(".").lower())
                   for r in self._query(name, "SRV", timeout)]
        return sorted((r for r in records if r.target), key=lambda r: (r.priority, -r.weight))

    def addresses(self, host: str) -> list[str]:
        """Addresses of host, IPv4 (or IPv6 when it has none): through the configured server when
        there is one (the local host's own names excepted), else through the system's resolver."""
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host.strip("[]"))
            return [host.strip("[]")]
        except OSError:
            pass
        local = host.lower().rstrip(".")
        if self.nameserver and local != "localhost" and not local.endswith(".localhost"):
            try:
                found = list(self._resolver.resolve(host, "A"))
            except dns.resolver.NXDOMAIN:
                return []  # the name does not exist: no AAAA either
            except (dns.exception.DNSException, ValueError):
                found = []
            return [str(r) for r in found] or [str(r) for r in self._query(host, "AAAA")]
        return system_addresses(host)
