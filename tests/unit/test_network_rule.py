"""Where the setup may connect: public addresses on mail ports, unless the operator allows more. The
names resolve through a fake lookup here, so every kind of address can be tried without a DNS server."""

from __future__ import annotations

import pytest

from mailcore import errors
from mailcore.netpolicy import MAIL_PORTS, NetworkPolicy, parse_networks, parse_ports


@pytest.mark.parametrize("address,allowed", [
    # public
    ("8.8.8.8", True),
    ("172.32.0.1", True),
    ("2a00:1450:4001:80b::200e", True),
    ("2606:4700:4700::1111", True),
    ("::ffff:8.8.8.8", True),
    ("2002:808:808::1", True),  # 6to4 of a public address
    ("64:ff9b::808:808", True),  # NAT64 of a public address
    # private
    ("10.1.2.3", False),
    ("172.16.0.1", False),
    ("172.31.255.255", False),
    ("192.168.1.1", False),
    ("100.64.0.1", False),  # carrier-grade NAT
    ("fd00::1", False),
    ("fc00::1", False),
    ("fec0::1", False),  # the old site-local range, still routed inside some networks
    ("::ffff:10.0.0.1", False),
    ("64:ff9b::a00:5", False),  # NAT64 delivers this to 10.0.0.5
    ("2002:c0a8:101::1", False),  # 6to4 of 192.168.1.1
    # loopback
    ("127.0.0.1", False),
    ("127.255.255.254", False),
    ("::1", False),
    ("::ffff:127.0.0.1", False),
    ("::7f00:1", False),  # IPv4-compatible 127.0.0.1
    ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
    ("64:ff9b::7f00:1", False),
    # link-local, such as the cloud metadata service
    ("169.254.169.254", False),
    ("fe80::1", False),
    ("fe80::1%eth0", False),
    ("::ffff:169.254.169.254", False),
    ("64:ff9b::a9fe:a9fe", False),
    # unspecified, multicast, broadcast, documentation and reserved
    ("0.0.0.0", False),
    ("::", False),
    ("224.0.0.1", False),
    ("ff02::1", False),
    ("255.255.255.255", False),
    ("192.0.2.1", False),
    ("2001:db8::1", False),
    ("240.0.0.1", False),
])
def test_by_default_only_public_addresses_are_allowed(address, allowed):
    assert NetworkPolicy().permits_address(address) is allowed


@pytest.mark.parametrize("networks,address,allowed", [
    ("10.0.0.0/8", "10.9.9.9", True),
    ("10.0.0.0/8", "::ffff:10.9.9.9", True),
    ("10.0.0.0/8", "10.0.0.0", True),
    ("10.0.0.0/8", "11.0.0.1", True),  # public anyway
    ("10.0.0.0/8", "192.168.1.1", False),
    ("10.0.0.0/8", "169.254.169.254", False),
    ("127.0.0.0/8, 10.0.0.0/8", "127.0.0.2", True),
    ("127.0.0.0/8", "::1", False),  # IPv6 loopback is not in an IPv4 network
    ("::1/128", "::1", True),
    ("fd00::/8", "fd12::5", True),
    ("fd00::/8", "fe80::1", False),
    ("192.168.1.7", "192.168.1.7", True),
    ("192.168.1.7", "192.168.1.8", False),
])
def test_allowed_networks_widen_the_rule_and_no_more(networks, address, allowed):
    assert NetworkPolicy(parse_networks(networks)).permits_address(address) is allowed


class FakeLookup:
    """Answers as a DNS server would, and counts the questions."""

    def __init__(self, answers: dict[str, list[str]]):
        self.answers = answers
        self.asked: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.asked.append(host)
        return self.answers.get(host, [])


LOOKUP = {
    "imap.kund.example": ["93.184.216.34"],
    "dual.kund.example": ["2a00:1450:4001:80b::200e", "93.184.216.34"],
    "rebind.evil.example": ["127.0.0.1", "10.0.0.1", "93.184.216.34"],
    "internal.evil.example": ["10.0.0.5", "fd00::5"],
    "metadata.evil.example": ["169.254.169.254"],
    "nat64.evil.example": ["64:ff9b::a9fe:a9fe"],
    "loopback.evil.example": ["127.0.0.1", "::1"],
}


@pytest.mark.parametrize("host,port,outcome", [
    ("imap.kund.example", 993, "93.184.216.34"),
    ("dual.kund.example", 587, "2a00:1450:4001:80b::200e"),
    ("rebind.evil.example", 143, "93.184.216.34"),  # the checked address is the one connected to
    ("internal.evil.example", 993, errors.HostNotAllowed),
    ("metadata.evil.example", 465, errors.HostNotAllowed),
    ("nat64.evil.example", 465, errors.HostNotAllowed),
    ("loopback.evil.example", 25, errors.HostNotAllowed),
    ("no-such-host.kund.example", 993, errors.HostNotFound),
    ("imap.kund.example", 22, errors.PortNotAllowed),
    ("imap.kund.example", 80, errors.PortNotAllowed),
    ("metadata.evil.example", 80, errors.PortNotAllowed),  # the port is checked before any lookup
])
def test_resolve_gives_one_checked_address_or_says_why_not(host, port, outcome):
    lookup = FakeLookup(LOOKUP)
    policy = NetworkPolicy(lookup=lookup)
    if isinstance(outcome, str):
        assert policy.resolve(host, port) == outcome
        assert lookup.asked == [host]  # resolved once: the answer cannot change before connecting
    else:
        with pytest.raises(outcome):
            policy.resolve(host, port)
        assert lookup.asked == ([] if outcome is errors.PortNotAllowed else [host])


def test_a_refused_host_names_the_addresses_it_resolved_to():
    with pytest.raises(errors.HostNotAllowed) as refused:
        NetworkPolicy(lookup=FakeLookup(LOOKUP)).resolve("internal.evil.example", 993)
    assert refused.value.detail == "10.0.0.5, fd00::5"


def test_the_operator_widens_ports_and_networks_from_plain_text():
    policy = NetworkPolicy(parse_networks("10.0.0.0/8 fd00::/8"), MAIL_PORTS | parse_ports("1143, 2525"),
                           FakeLookup(LOOKUP))
    assert policy.resolve("internal.evil.example", 1143) == "10.0.0.5"
    assert policy.with_ports(995).resolve("internal.evil.example", 995) == "10.0.0.5"
    assert policy.with_ports(995).allowed_networks == policy.allowed_networks
    with pytest.raises(errors.PortNotAllowed):
        policy.resolve("internal.evil.example", 995)
    assert MAIL_PORTS == {993, 143, 465, 587, 25}
    assert parse_networks("") == () and parse_ports("") == frozenset()
