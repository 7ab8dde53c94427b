"""The network rule for IPv6 addresses that carry an IPv4 address: each is judged as the IPv4 address
it leads to. Pure functions: no server is needed."""

from __future__ import annotations

import ipaddress

import pytest

from mailcore.netpolicy import NetworkPolicy, carried_ipv4, parse_networks


def teredo(server: str, client: str) -> str:
    """2001:0:SSSS:SSSS:flags:port:CCCC:CCCC with the client IPv4 XOR 0xffffffff (RFC 4380)."""
    s, c = int(ipaddress.IPv4Address(server)), int(ipaddress.IPv4Address(client)) ^ 0xFFFFFFFF
    return str(ipaddress.IPv6Address((0x20010000 << 96) | (s << 64) | (0x8000_63BF << 32) | c))


# (address, what it carries, allowed by the default rule)
WRAPPED = [
    # NAT64, the well-known prefix: 64:ff9b::a9fe:a9fe is the cloud metadata address
    ("64:ff9b::a9fe:a9fe", "169.254.169.254", False),
    ("64:ff9b::169.254.169.254", "169.254.169.254", False),
    ("64:ff9b::7f00:1", "127.0.0.1", False),
    ("64:ff9b::a01:203", "10.1.2.3", False),
    ("64:ff9b::c0a8:101", "192.168.1.1", False),
    ("64:ff9b::6440:1", "100.64.0.1", False),
    ("64:ff9b::808:808", "8.8.8.8", True),
    # NAT64, the local-use prefix, /96 form
    ("64:ff9b:1::a9fe:a9fe", "169.254.169.254", False),
    ("64:ff9b:1::a00:1", "10.0.0.1", False),
    ("64:ff9b:1::808:808", "8.8.8.8", True),
    # 6to4: 2002:AABB:CCDD::/48
    ("2002:a9fe:a9fe::", "169.254.169.254", False),
    ("2002:7f00:1::1", "127.0.0.1", False),
    ("2002:c0a8:101:1::5", "192.168.1.1", False),
    ("2002:0a00:0001::", "10.0.0.1", False),
    ("2002:808:808::1", "8.8.8.8", True),
    # IPv4-compatible ::a.b.c.d
    ("::169.254.169.254", "169.254.169.254", False),
    ("::127.0.0.1", "127.0.0.1", False),
    ("::a00:1", "10.0.0.1", False),
    ("::8.8.8.8", "8.8.8.8", True),
    # IPv4-mapped ::ffff:a.b.c.d and IPv4-translated ::ffff:0:a.b.c.d
    ("::ffff:169.254.169.254", "169.254.169.254", False),
    ("::ffff:a9fe:a9fe", "169.254.169.254", False),
    ("::ffff:127.0.0.1", "127.0.0.1", False),
    ("::ffff:8.8.8.8", "8.8.8.8", True),
    ("::ffff:0:a9fe:a9fe", "169.254.169.254", False),
    ("::ffff:0:808:808", "8.8.8.8", True),
    # Teredo: a public server, and the client the packets reach
    (teredo("65.54.227.120", "169.254.169.254"), "169.254.169.254", False),
    (teredo("65.54.227.120", "10.0.0.1"), "10.0.0.1", False),
    (teredo("65.54.227.120", "127.0.0.1"), "127.0.0.1", False),
    (teredo("10.0.0.1", "8.8.4.4"), "8.8.4.4", False),  # a private relay is no better
    (teredo("65.54.227.120", "8.8.4.4"), "8.8.4.4", True),
]


@pytest.mark.parametrize("address,ipv4,allowed", WRAPPED, ids=[row[0] for row in WRAPPED])
def test_an_ipv6_wrapper_is_judged_as_the_ipv4_it_carries(address, ipv4, allowed):
    assert ipaddress.IPv4Address(ipv4) in carried_ipv4(ipaddress.ip_address(address))
    assert NetworkPolicy().permits_address(address) is allowed
    assert NetworkPolicy().permits_address(ipv4) is (allowed or ipv4 == "8.8.4.4")


def test_the_teredo_client_is_the_last_32_bits_xor_ffffffff():
    server, client = carried_ipv4(ipaddress.ip_address("2001:0:4136:e378:8000:63bf:3fff:fdd2"))
    assert (str(server), str(client)) == ("65.54.227.120", "192.0.2.45")
    assert not NetworkPolicy().permits_address("2001:0:4136:e378:8000:63bf:3fff:fdd2")  # 192.0.2.0/24: reserved


PLAIN = [
    ("2a00:1450:4001:80b::200e", True), ("2606:4700::6810:84e5", True),
    ("::1", False), ("::", False), ("fe80::1", False), ("fd00::1", False), ("ff02::1", False),
    ("2001:db8::1", False),
]


@pytest.mark.parametrize("address,allowed", PLAIN, ids=[row[0] for row in PLAIN])
def test_plain_ipv6_is_judged_as_itself(address, allowed):
    assert carried_ipv4(ipaddress.ip_address(address)) is None
    assert NetworkPolicy().permits_address(address) is allowed


def test_a_local_nat64_address_in_an_unknown_form_is_refused():
    # 64:ff9b:1:a9fe:a9:fe00:: is 169.254.169.254 in the /48 form; which form the operator uses is
    # not knowable here, so anything but the /96 form is refused
    assert carried_ipv4(ipaddress.ip_address("64:ff9b:1:a9fe:a9:fe00::")) == ()
    assert not NetworkPolicy().permits_address("64:ff9b:1:a9fe:a9:fe00::")
    assert not NetworkPolicy().permits_address("64:ff9b:1:808:8:800::")


# Allowed networks apply to the IPv4 address inside the wrapper exactly as to the IPv4 address itself.
ALLOWED = [
    ("10.1.2.3", True), ("::ffff:10.1.2.3", True), ("64:ff9b::a01:203", True), ("64:ff9b:1::a01:203", True),
    ("2002:a01:203::", True), ("::10.1.2.3", True), (teredo("65.54.227.120", "10.1.2.3"), True),
    ("169.254.169.254", False), ("::ffff:169.254.169.254", False), ("64:ff9b::a9fe:a9fe", False),
    ("2002:a9fe:a9fe::", False), ("::169.254.169.254", False), (teredo("65.54.227.120", "169.254.169.254"), False),
    ("192.168.1.1", False), ("64:ff9b::c0a8:101", False),
]


@pytest.mark.parametrize("address,allowed", ALLOWED, ids=[row[0] for row in ALLOWED])
def test_allowed_networks_judge_the_unwrapped_address(address, allowed):
    assert NetworkPolicy(parse_networks("10.0.0.0/8")).permits_address(address) is allowed


def test_an_allowed_ipv6_network_allows_its_own_addresses():
    policy = NetworkPolicy(parse_networks("64:ff9b::/96"))  # the operator runs NAT64 to reach a private network
    assert policy.permits_address("64:ff9b::a01:203")
    assert not NetworkPolicy(parse_networks("fd00::/8")).permits_address("64:ff9b::a01:203")


def test_resolve_refuses_a_host_whose_only_address_is_a_wrapped_metadata_address():
    from mailcore.errors import HostNotAllowed

    policy = NetworkPolicy(lookup=lambda host: ["64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::"])
    with pytest.raises(HostNotAllowed):
        policy.resolve("metadata.example", 993)
    assert NetworkPolicy(lookup=lambda host: ["64:ff9b::a9fe:a9fe", "64:ff9b::808:808"]).resolve(
        "mixed.example", 993) == "64:ff9b::808:808"
