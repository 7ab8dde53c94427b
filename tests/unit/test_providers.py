"""Provider knowledge as data: addresses and MX hosts matched to providers, the settings the lists
give at once, and an operator's file overriding the built-in one. No network is used."""

from __future__ import annotations

import json

import pytest

from mailcore.discovery.detect import SOURCE_NONE, SOURCE_PROVIDER, Detector
from mailcore.discovery.providers import ProviderList

BUILTIN = ProviderList.load()


@pytest.mark.parametrize("domain,provider", [
    ("gmail.com", "gmail"),
    ("GMail.COM", "gmail"),
    ("googlemail.com", "gmail"),
    ("outlook.com", "outlook"),
    ("hotmail.com", "outlook"),
    ("hotmail.se", "outlook"),
    ("live.se", "outlook"),
    ("telia.com", "telia"),
    ("kund.example", None),
    ("gmail.com.evil.example", None),
    ("mail.gmail.com", None),
])
def test_an_address_domain_names_its_provider(domain, provider):
    found = BUILTIN.by_domain(domain)
    assert (found.id if found else None) == provider


@pytest.mark.parametrize("mx_hosts,provider", [
    (["aspmx.l.google.com"], "gmail"),  # a company domain on Google Workspace
    (["alt1.aspmx.l.google.com", "alt2.aspmx.l.google.com"], "gmail"),
    (["ASPMX.L.GOOGLE.COM."], "gmail"),
    (["kund-se.mail.protection.outlook.com"], "microsoft365"),
    (["mx.kund.example", "aspmx.l.google.com"], "gmail"),  # any of the domain's MX hosts
    (["mx.kund.example"], None),
    (["mx.notgoogle.com"], None),
    (["google.com.evil.example"], None),
    ([], None),
])
def test_an_mx_host_names_its_provider(mx_hosts, provider):
    found = BUILTIN.by_mx(mx_hosts)
    assert (found.id if found else None) == provider


@pytest.mark.parametrize("address,provider,incoming,outgoing", [
    ("Kalle@Gmail.com", "Gmail", ("imap.gmail.com", 993, True, "Kalle@Gmail.com"),
     ("smtp.gmail.com", 465, True, "Kalle@Gmail.com")),
    ("kalle@outlook.com", "Outlook.com", ("outlook.office365.com", 993, True, "kalle@outlook.com"),
     ("smtp-mail.outlook.com", 587, False, "kalle@outlook.com")),
    ("kalle@hotmail.se", "Outlook.com", ("outlook.office365.com", 993, True, "kalle@hotmail.se"),
     ("smtp-mail.outlook.com", 587, False, "kalle@hotmail.se")),
    ("kalle@telia.com", "Telia (Sweden)", ("mailin.telia.com", 993, True, "kalle@telia.com"),
     ("mailout.telia.com", 465, True, "kalle@telia.com")),
])
def test_the_lists_give_the_settings_at_once(address, provider, incoming, outgoing):
    found = Detector(BUILTIN).from_lists(address)
    assert found.source == SOURCE_PROVIDER and found.name == provider
    settings = found.settings
    assert settings.address == address
    for server, expected in ((settings.incoming, incoming), (settings.outgoing, outgoing)):
        assert (server.host, server.port, server.ssl, server.username) == expected


def test_an_unknown_domain_without_a_network_finds_nothing_and_connects_nowhere():
    detector = Detector(BUILTIN)  # no DiscoveryNetwork: only the lists
    assert detector.from_lists("anna@kund.example") is None
    found = detector.detect("anna@kund.example")
    assert found.source == SOURCE_NONE and found.settings is None and not found.pop3_only


def _operator_file(tmp_path, *providers: dict):
    path = tmp_path / "providers.json"
    path.write_text(json.dumps({"version": 1, "providers": list(providers)}), encoding="utf-8")
    return path


def test_an_operators_file_overrides_a_builtin_entry_and_adds_its_own(tmp_path):
    path = _operator_file(
        tmp_path,
        {"id": "gmail-relay", "name": "Vår Gmail-relä", "domains": ["gmail.com"],
         "incoming": {"host": "imap.relay.kund.example", "port": 993, "ssl": True, "username": "address"},
         "outgoing": {"host": "smtp.relay.kund.example", "port": 587, "ssl": False, "username": "local"}},
        {"id": "kund", "name": "Kund AB", "domains": ["kund.example"], "mx": ["mx.kund.example"],
         "incoming": {"host": "imap.%EMAILDOMAIN%", "port": 143, "ssl": False},
         "outgoing": {"host": "smtp.%EMAILDOMAIN%", "port": 465, "ssl": True}})
    providers = ProviderList.load(path)
    detector = Detector(providers)
    relay = detector.from_lists("kim@gmail.com")
    assert relay.name == "Vår Gmail-relä"
    assert (relay.settings.outgoing.host, relay.settings.outgoing.username) == ("smtp.relay.kund.example", "kim")
    own = detector.from_lists("anna@KUND.example")
    assert (own.settings.incoming.host, own.settings.incoming.port, own.settings.incoming.ssl) == (
        "imap.kund.example", 143, False)
    assert providers.by_mx(["mx.kund.example"]).id == "kund"
    assert detector.from_lists("kalle@googlemail.com").name == "Gmail"  # the rest of the built-in entry stays
    assert detector.from_lists("kalle@telia.com").name == "Telia (Sweden)"


def test_a_pop3_only_provider_is_told_apart(tmp_path):
    path = _operator_file(tmp_path, {"id": "popmail", "name": "Popmail", "domains": ["pop.kund.example"],
                                     "incoming": None, "outgoing": {"host": "smtp.kund.example", "port": 465,
                                                                    "ssl": True}, "pop3_only": True})
    found = Detector(ProviderList.load(path)).from_lists("anna@pop.kund.example")
    assert found.settings is None and found.pop3_only and found.name == "Popmail"


@pytest.mark.parametrize("entry,problem", [
    ({"note": "call-us"}, "unknown note"),
    ({"incoming": {"host": "imap.kund.example", "port": 993, "ssl": True, "username": "everything"}}, "username"),
])
def test_a_mistake_in_an_operators_file_is_named(tmp_path, entry, problem):
    path = _operator_file(tmp_path, {"id": "kund", "name": "Kund AB", "domains": ["kund.example"], **entry})
    with pytest.raises(ValueError, match=problem):
        ProviderList.load(path)


def test_the_builtin_list_has_one_provider_per_domain_and_only_encrypted_mail_ports():
    domains = [d for p in BUILTIN.providers for d in p.domains]
    assert len(BUILTIN.providers) >= 80
    assert len(domains) == len(set(domains))
    for provider in BUILTIN.providers:
        for server in (provider.incoming, provider.outgoing):
            if server and provider.id != "proton":  # the Bridge listens on its own local ports
                assert (server.port, server.ssl) in {(993, True), (143, False), (465, True), (587, False)}
