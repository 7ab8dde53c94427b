"""Pure parts that sat among the lab tests: the secret box, the network rule, the provider lists, the
recipients parser, folder roles, reading uploads and the settings read from the environment."""

from __future__ import annotations

import pytest

from app import Config
from mailcore.compose.message import InvalidRecipients, parse_recipients
from mailcore.crypto import SecretBox, SecretBoxError
from mailcore.discovery.detect import Detector
from mailcore.discovery.providers import ProviderList
from mailcore.netpolicy import NetworkPolicy, parse_networks
from mailcore.sync.engine import folder_role

# --- the secret box, the network rule, the provider lists (from tests/test_foundations.py) ---------------


def test_sealed_password_only_opens_in_its_own_row(tmp_path):
    box = SecretBox.from_config(None, tmp_path / "mail.key")
    sealed = box.seal("hunter2-ÅÄÖ", "account:1:user:1:imap")
    assert b"hunter2" not in sealed
    assert box.open(sealed, "account:1:user:1:imap") == "hunter2-ÅÄÖ"
    for elsewhere in ("account:2:user:1:imap", "account:1:user:2:imap", "account:1:user:1:smtp"):
        with pytest.raises(SecretBoxError):
            box.open(sealed, elsewhere)
    assert oct((tmp_path / "mail.key").stat().st_mode & 0o777) == "0o600"
    assert SecretBox.from_config(None, tmp_path / "mail.key").open(sealed, "account:1:user:1:imap")
    other = SecretBox.from_config(None, tmp_path / "other.key")
    with pytest.raises(SecretBoxError):
        other.open(sealed, "account:1:user:1:imap")


@pytest.mark.parametrize("address,allowed", [
    ("8.8.8.8", True), ("2a00:1450:4001:80b::200e", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.1.1", False), ("172.16.0.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("::1", False), ("fd00::1", False),
    ("0.0.0.0", False), ("::ffff:127.0.0.1", False), ("224.0.0.1", False),
])
def test_default_policy_allows_only_public_addresses(address, allowed):
    assert NetworkPolicy().permits_address(address) is allowed


def test_allowed_networks_widen_the_rule():
    policy = NetworkPolicy(parse_networks("127.0.0.0/8, 10.0.0.0/8"))
    assert policy.permits_address("127.0.0.2") and policy.permits_address("10.9.9.9")
    assert not policy.permits_address("169.254.169.254")


def test_builtin_list_is_well_formed():
    providers = ProviderList.load().providers
    assert len(providers) >= 40
    domains = [d for p in providers for d in p.domains]
    assert len(domains) == len(set(domains))
    for p in providers:
        for server in (p.incoming, p.outgoing):
            if server:
                assert (server.port, server.ssl) in {(993, True), (143, False), (465, True), (587, False)} \
                    or p.id == "proton"


def test_operator_file_overrides_the_builtin_list(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text('{"version": 1, "providers": [{"id": "gmail-local", "name": "Our Gmail relay",'
                    ' "domains": ["gmail.com"], "incoming": {"host": "imap.relay.example", "port": 993,'
                    ' "ssl": true, "username": "address"}, "outgoing": {"host": "smtp.relay.example",'
                    ' "port": 587, "ssl": false, "username": "local"}}]}')
    found = Detector(ProviderList.load(path)).detect("kim@gmail.com")
    assert found.provider.name == "Our Gmail relay"
    assert found.settings.outgoing.username == "kim" and found.settings.outgoing.ssl is False


# --- recipients, folder roles, uploads, settings -------------------------------------------------------


def test_recipients_parse_as_they_read():
    assert parse_recipients('"Berg, Anna" <anna@kund.example>, bob@x.example') == [
        ("Berg, Anna", "anna@kund.example"), ("", "bob@x.example")]
    for hostile in ("alice@x.example)<bob@y.example>", "a@b.example, <c@d.example", "x@y.example\n"):
        with pytest.raises(InvalidRecipients):
            parse_recipients(hostile)


@pytest.mark.parametrize("name,flags,expected", [
    ("INBOX", [], "inbox"), ("Sent", [b"\\Sent"], "sent"), ("Whatever", [b"\\Junk"], "junk"),
    ("Skickat", [], "sent"), ("Skickade objekt", [], "sent"), ("Sent Items", [], "sent"),
    ("[Gmail]/Sent Mail", [], "sent"), ("Utkast", [], "drafts"), ("Papperskorgen", [], "trash"),
    ("Borttagna objekt", [], "trash"), ("Deleted Items", [], "trash"), ("Skräppost", [], "junk"),
    ("INBOX.Spam", [], "junk"), ("[Gmail]/Spam", [], "junk"), ("Arkiv", [], "archive"),
    ("Kunder/Skickat", [], "sent"), ("Kunder", [], None),
])
def test_special_folders_by_flag_or_name(name, flags, expected):
    assert folder_role(name, flags, "/" if "/" in name else ".") == expected


def test_limits_come_from_the_environment():
    config = Config({"SIGNIN_FAILURES_PER_ACCOUNT": "3", "SIGNIN_FAILURES_PER_ADDRESS": "50",
                     "SIGNIN_WINDOW_MINUTES": "30", "SESSION_IDLE_HOURS": "2", "SESSION_MAX_DAYS": "7"})
    assert (config.SIGNIN_FAILURES_PER_ACCOUNT, config.SIGNIN_FAILURES_PER_ADDRESS, config.SIGNIN_WINDOW_MINUTES,
            config.SESSION_IDLE_HOURS, config.SESSION_MAX_DAYS) == (3, 50, 30, 2, 7)
    defaults = Config({})
    assert (defaults.SIGNIN_FAILURES_PER_ACCOUNT, defaults.SIGNIN_FAILURES_PER_ADDRESS, defaults.SIGNIN_WINDOW_MINUTES,
            defaults.SESSION_IDLE_HOURS, defaults.SESSION_MAX_DAYS) == (5, 20, 15, 12, 14)
