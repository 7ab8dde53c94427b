"""Where the setup may connect: public addresses, or networks the operator allows, on mail ports.

A host is resolved once; the checked address is the one connected to, so a DNS answer cannot
change between the check and the connection.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .errors import HostNotAllowed, HostNotFound, PortNotAllowed

MAIL_PORTS = frozenset({993, 143, 465, 587, 25})
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: a gateway delivers these to the IPv4 address


def parse_networks(text: str | Iterable[str]) -> tuple[Network, ...]:
    items = text.replace(",", " ").split() if isinstance(text, str) else list(text)
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())


def parse_ports(text: str | Iterable[int]) -> frozenset[int]:
    items = text.replace(",", " ").split() if isinstance(text, str) else list(text)
    return frozenset(int(item) for item in items)


def system_addresses(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(info[4][0] for info in infos))


def _as_delivered(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The IPv4 address an IPv6 one carries where routing delivers it there (IPv4-mapped, 6to4,
    NAT64, IPv4-compatible): 64:ff9b::a00:5 reaches 10.0.0.5 and must be judged as that."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped or ip.sixtofour:
        return ip.ipv4_mapped or ip.sixtofour
    if ip in NAT64 or 1 < int(ip) <= 0xFFFFFFFF:  # not :: or ::1, which are IPv6's own
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


@dataclass(frozen=True)
class NetworkPolicy:
    allowed_networks: tuple[Network, ...] = ()
    allowed_ports: frozenset[int] = field(default=MAIL_PORTS)
    lookup: Callable[[str], list[str]] = system_addresses

    def permits_address(self, address: str) -> bool:
        ip = _as_delivered(ipaddress.ip_address(address))
        if any(ip in net for net in self.allowed_networks):
            return True
        return ip.is_global and not ip.is_multicast and not getattr(ip, "is_site_local", False)

    def resolve(self, host: str, port: int) -> str:
        """The one address to connect to for host:port, or an error saying why there is none."""
        if port not in self.allowed_ports:
            raise PortNotAllowed(str(port))
        addresses = self.lookup(host)
        if not addresses:
            raise HostNotFound(host)
        for address in addresses:
            if self.permits_address(address):
                return address
        raise HostNotAllowed(", ".join(dict.fromkeys(addresses)))

    def with_ports(self, *ports: int) -> NetworkPolicy:
        return NetworkPolicy(self.allowed_networks, self.allowed_ports | frozenset(ports), self.lookup)
