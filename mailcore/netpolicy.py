"""Where the setup may connect: public addresses, or networks the operator allows, on mail ports.

A host is resolved once; the checked address is the one connected to, so a DNS answer cannot
change between the check and the connection. An IPv6 address that carries an IPv4 address (mapped,
compatible, NAT64, 6to4, Teredo) is judged as the IPv4 address it reaches, so that a private or
metadata address cannot pass in IPv6 clothing.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mailcore.errors import HostNotAllowed, HostNotFound, PortNotAllowed

MAIL_PORTS = frozenset({993, 143, 465, 587, 25})
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_COMPATIBLE = ipaddress.ip_network("::/96")  # ::a.b.c.d (deprecated, RFC 4291)
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # ::ffff:0:a.b.c.d (SIIT, RFC 6145)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known prefix (RFC 6052)
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # local-use NAT64 (RFC 8215)
_LAST_32_BITS = 0xFFFFFFFF


def parse_networks(text: str | Iterable[str]) -> tuple[Network, ...]:
    items = text.replace(",", " ").split() if isinstance(text, str) else list(text)
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())


def parse_ports(text: str | Iterable[int]) -> frozenset[int]:
    items = text.replace(",", " ").split() if isinstance(text, str) else list(text)
    return frozenset(int(item) for item in items)


def carried_ipv4(ip: Address) -> tuple[ipaddress.IPv4Address, ...] | None:
    """The IPv4 addresses an IPv6 address leads to, or None when it is plain IPv6.

    An empty tuple means it is a wrapper whose IPv4 address cannot be read with certainty.
    """
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip.teredo is not None:  # 2001::/32: the server, and the client XOR 0xffffffff
        return ip.teredo
    if ip.sixtofour is not None:  # 2002:AABB:CCDD::/48
        return (ip.sixtofour,)
    low = ipaddress.IPv4Address(int(ip) & _LAST_32_BITS)
    if ip in _NAT64 or ip in _TRANSLATED:
        return (low,)
    if ip in _LOCAL_NAT64:
        # The operator picks the prefix length (/48 to /96); only the /96 form, with zeros between
        # the prefix and the IPv4 address, can be read for sure.
        return (low,) if (int(ip) >> 32) & (2**48 - 1) == 0 else ()
    if ip in _COMPATIBLE and int(ip) > 1:  # not :: and ::1, which are IPv6's own
        return (low,)
    return None


def system_addresses(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True)
class NetworkPolicy:
    allowed_networks: tuple[Network, ...] = ()
    allowed_ports: frozenset[int] = field(default=MAIL_PORTS)
    lookup: Callable[[str], list[str]] = system_addresses

    def permits_address(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        if self._allows(ip):
            return True  # the operator named this very address's network
        carried = carried_ipv4(ip)
        if carried is None:
            return self._public(ip)
        return bool(carried) and all(self._allows(v4) or self._public(v4) for v4 in carried)

    def _allows(self, ip: Address) -> bool:
        return any(ip in net for net in self.allowed_networks)

    @staticmethod
    def _public(ip: Address) -> bool:
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
