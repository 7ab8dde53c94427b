"""Finding the settings for any address, against a real DNS server, real HTTPS autoconfig servers,
the real Dovecot and SMTP servers on the standard ports, and servers that never answer."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from localmail.world import MAIL_HOST, PRIVATE_HOST, TARPIT_HOST, World
from mailcore.connect import MailEnvironment
from mailcore.discovery.detect import Detector, DiscoveryNetwork
from mailcore.discovery.dnsquery import Dns
from mailcore.discovery.ispdb import Ispdb, MemoryCache
from mailcore.discovery.providers import ProviderList
from mailcore.netpolicy import MAIL_PORTS, NetworkPolicy, parse_networks

from .helpers import Browser, make_user, text, worker_loopback

BUDGET = 2.5
ISPDB_FILES = Path(__file__).with_name("ispdb")  # real documents of thunderbird/autoconfig (MPL 2.0)


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    started = World.start(tmp_path_factory.mktemp("world"), worker_loopback(5, MAIL_HOST),
                          worker_loopback(6, TARPIT_HOST), ispdb_dir=ISPDB_FILES)
    yield started
    started.stop()


def make_detector(world: World, budget: float = BUDGET, ispdb: bool = True, cache=None) -> Detector:
    """A detector of this world: its DNS, its autoconfig servers and its central ISPDB (`ispdb`:
    whether it is asked; `cache`: where its answers are kept, a fresh memory by default)."""
    dns = Dns(world.dns.address, timeout=1.5)
    policy = NetworkPolicy(parse_networks("127.0.0.0/8"), MAIL_PORTS, dns.addresses)
    env = MailEnvironment(policy, world.lab.ca_bundle)
    central = Ispdb(world.ispdb_url, cache if cache is not None else MemoryCache()) if ispdb else None
    return Detector(ProviderList.load(), DiscoveryNetwork(policy, env.tls_context, dns, world.web.port,
                                                          budget=budget, step_timeout=min(1.5, budget)),
                    central)


@pytest.fixture(scope="module")
def detector(world):
    return make_detector(world)


def server(spec: str | None):
    """'host:port:tls|starttls:address|local' -> comparable tuple."""
    if spec is None:
        return None
    host, port, security, user = spec.split(":")
    return host, int(port), security == "tls", user


A, L = "address", "local"
# (address, expected source, expected provider id or display name, incoming, outgoing)
TABLE = [
    # the built-in list, by address domain
    ("anna@gmail.com", "provider", "gmail", "imap.gmail.com:993:tls:A", "smtp.gmail.com:465:tls:A"),
    ("anna@googlemail.com", "provider", "gmail", "imap.gmail.com:993:tls:A", "smtp.gmail.com:465:tls:A"),
    ("Anna.Berg@GMAIL.com", "provider", "gmail", "imap.gmail.com:993:tls:A", "smtp.gmail.com:465:tls:A"),
    ("kalle@outlook.com", "provider", "outlook", "outlook.office365.com:993:tls:A", "smtp-mail.outlook.com:587:starttls:A"),
    ("kalle@hotmail.com", "provider", "outlook", "outlook.office365.com:993:tls:A", "smtp-mail.outlook.com:587:starttls:A"),
    ("kalle@hotmail.se", "provider", "outlook", "outlook.office365.com:993:tls:A", "smtp-mail.outlook.com:587:starttls:A"),
    ("kalle@live.se", "provider", "outlook", "outlook.office365.com:993:tls:A", "smtp-mail.outlook.com:587:starttls:A"),
    ("kalle@msn.com", "provider", "outlook", "outlook.office365.com:993:tls:A", "smtp-mail.outlook.com:587:starttls:A"),
    ("lisa@yahoo.com", "provider", "yahoo", "imap.mail.yahoo.com:993:tls:A", "smtp.mail.yahoo.com:465:tls:A"),
    ("lisa@yahoo.se", "provider", "yahoo", "imap.mail.yahoo.com:993:tls:A", "smtp.mail.yahoo.com:465:tls:A"),
    ("lisa@ymail.com", "provider", "yahoo", "imap.mail.yahoo.com:993:tls:A", "smtp.mail.yahoo.com:465:tls:A"),
    ("lisa@rocketmail.com", "provider", "yahoo", "imap.mail.yahoo.com:993:tls:A", "smtp.mail.yahoo.com:465:tls:A"),
    ("olle@icloud.com", "provider", "icloud", "imap.mail.me.com:993:tls:L", "smtp.mail.me.com:587:starttls:A"),
    ("olle@me.com", "provider", "icloud", "imap.mail.me.com:993:tls:L", "smtp.mail.me.com:587:starttls:A"),
    ("olle@mac.com", "provider", "icloud", "imap.mail.me.com:993:tls:L", "smtp.mail.me.com:587:starttls:A"),
    ("pia@aol.com", "provider", "aol", "imap.aol.com:993:tls:A", "smtp.aol.com:465:tls:A"),
    ("pia@verizon.net", "provider", "verizon", "imap.aol.com:993:tls:A", "smtp.aol.com:465:tls:A"),
    ("jens@gmx.net", "provider", "gmx", "imap.gmx.net:993:tls:A", "mail.gmx.net:465:tls:A"),
    ("jens@gmx.de", "provider", "gmx", "imap.gmx.net:993:tls:A", "mail.gmx.net:465:tls:A"),
    ("jens@gmx.co.uk", "provider", "gmx-com", "imap.gmx.com:993:tls:A", "mail.gmx.com:465:tls:A"),
    ("jens@web.de", "provider", "webde", "imap.web.de:993:tls:L", "smtp.web.de:465:tls:L"),
    ("raj@zoho.com", "provider", "zoho", "imap.zoho.com:993:tls:A", "smtp.zoho.com:465:tls:A"),
    ("raj@zoho.eu", "provider", "zoho-eu", "imap.zoho.eu:993:tls:A", "smtp.zoho.eu:465:tls:A"),
    ("mo@fastmail.com", "provider", "fastmail", "imap.fastmail.com:993:tls:A", "smtp.fastmail.com:465:tls:A"),
    ("ivan@yandex.ru", "provider", "yandex", "imap.yandex.com:993:tls:A", "smtp.yandex.com:465:tls:A"),
    ("ivan@yandex.com", "provider", "yandex", "imap.yandex.com:993:tls:A", "smtp.yandex.com:465:tls:A"),
    ("ivan@mail.ru", "provider", "mailru", "imap.mail.ru:993:tls:A", "smtp.mail.ru:465:tls:A"),
    ("ivan@inbox.ru", "provider", "mailru", "imap.mail.ru:993:tls:A", "smtp.mail.ru:465:tls:A"),
    ("eli@proton.me", "provider", "proton", "127.0.0.1:1143:starttls:A", "127.0.0.1:1025:starttls:A"),
    ("eli@protonmail.com", "provider", "proton", "127.0.0.1:1143:starttls:A", "127.0.0.1:1025:starttls:A"),
    ("sven@telia.com", "provider", "telia", "mailin.telia.com:993:tls:A", "mailout.telia.com:465:tls:A"),
    ("sven@bahnhof.se", "provider", "bahnhof", "imap.privat.bahnhof.se:993:tls:A", "mailout.privat.bahnhof.se:465:tls:A"),
    ("ola@altibox.no", "provider", "altibox", "imap.altibox.no:993:tls:A", "smtp.altibox.no:465:tls:A"),
    ("ola@online.no", "provider", "telenor-no", "imap.online.no:993:tls:A", "smtp.online.no:587:starttls:A"),
    ("ola@one.com", "provider", "onecom", "imap.one.com:993:tls:A", "send.one.com:465:tls:A"),
    ("hans@posteo.de", "provider", "posteo", "posteo.de:993:tls:A", "posteo.de:465:tls:A"),
    ("hans@mailbox.org", "provider", "mailboxorg", "imap.mailbox.org:993:tls:A", "smtp.mailbox.org:465:tls:A"),
    ("hans@t-online.de", "provider", "tonline", "secureimap.t-online.de:993:tls:A", "securesmtp.t-online.de:465:tls:A"),
    ("luc@free.fr", "provider", "free-fr", "imap.free.fr:993:tls:L", "smtp.free.fr:465:tls:L"),
    ("luc@orange.fr", "provider", "orange", "imap.orange.fr:993:tls:A", "smtp.orange.fr:465:tls:A"),
    ("luc@laposte.net", "provider", "laposte", "imap.laposte.net:993:tls:L", "smtp.laposte.net:465:tls:L"),
    ("gio@libero.it", "provider", "libero", "imapmail.libero.it:993:tls:A", "smtp.libero.it:465:tls:A"),
    ("jan@seznam.cz", "provider", "seznam", "imap.seznam.cz:993:tls:A", "smtp.seznam.cz:465:tls:A"),
    ("li@qq.com", "provider", "qq", "imap.qq.com:993:tls:A", "smtp.qq.com:465:tls:A"),
    ("li@163.com", "provider", "netease-163", "imap.163.com:993:tls:A", "smtp.163.com:465:tls:A"),
    ("bob@comcast.net", "provider", "comcast", "imap.comcast.net:993:tls:A", "smtp.comcast.net:465:tls:A"),
    ("bob@att.net", "provider", "att", "imap.mail.att.net:993:tls:A", "smtp.mail.att.net:465:tls:A"),
    ("kim@wp.pl", "provider", "wp", "imap.wp.pl:993:tls:L", "smtp.wp.pl:465:tls:L"),
    ("kim@ziggo.nl", "provider", "ziggo", "imap.ziggo.nl:993:tls:A", "smtp.ziggo.nl:587:starttls:A"),
    ("kim@mail.dk", "provider", "yousee", "imap.mail.dk:993:tls:A", "asmtp.mail.dk:587:starttls:A"),
    # the domain's MX names a known provider
    ("ceo@workspace.test", "mx", "gmail", "imap.gmail.com:993:tls:A", "smtp.gmail.com:465:tls:A"),
    ("Säljare@workspace.test", "mx", "gmail", "imap.gmail.com:993:tls:A", "smtp.gmail.com:465:tls:A"),
    ("cfo@office.test", "mx", "microsoft365", "outlook.office365.com:993:tls:A", "smtp.office365.com:587:starttls:A"),
    ("info@loopiakund.test", "mx", "loopia", "mailcluster.loopia.se:993:tls:A", "mailcluster.loopia.se:465:tls:A"),
    ("info@onecomkund.test", "mx", "onecom", "imap.one.com:993:tls:A", "send.one.com:465:tls:A"),
    ("info@zohokund.test", "mx", "zoho-org-eu", "imappro.zoho.eu:993:tls:A", "smtppro.zoho.eu:465:tls:A"),
    ("info@fastmailkund.test", "mx", "fastmail", "imap.fastmail.com:993:tls:A", "smtp.fastmail.com:465:tls:A"),
    # the domain's own autoconfig document
    ("kim@ac.test", "autoconfig", "AC Hosting", "mail.ac.test:993:tls:A", "mail.ac.test:465:tls:A"),
    ("first.last@ac.test", "autoconfig", "AC Hosting", "mail.ac.test:993:tls:A", "mail.ac.test:465:tls:A"),
    ("kim@wk.test", "autoconfig", "Well-Known Mail", "imap.wk.test:143:starttls:L", "smtp.wk.test:587:starttls:L"),
    ("x.y@wk.test", "autoconfig", "Well-Known Mail", "imap.wk.test:143:starttls:L", "smtp.wk.test:587:starttls:L"),
    ("kim@redir.test", "autoconfig", "Redirected", "mail.redir.test:993:tls:A", "mail.redir.test:465:tls:A"),
    # SRV records
    ("kim@srv.test", "srv", "", "mail.srv.test:993:tls:A", "mail.srv.test:465:tls:A"),
    ("sales@srv.test", "srv", "", "mail.srv.test:993:tls:A", "mail.srv.test:465:tls:A"),
    ("kim@srvstarttls.test", "srv", "", "mail.srvstarttls.test:143:starttls:A", "mail.srvstarttls.test:587:starttls:A"),
    # MX at an unknown host: the autoconfig of the MX host's registrable domain
    ("kim@kund.test", "mx", "Hoster", "mail.hoster.test:993:tls:A", "mail.hoster.test:465:tls:A"),
    ("order@kund.test", "mx", "Hoster", "mail.hoster.test:993:tls:A", "mail.hoster.test:465:tls:A"),
    # the central ISPDB, real documents: domains only it knows, a POP3-only one, an MX host's domain
    ("kim@online.de", "ispdb", "1&1", "imap.1und1.de:993:tls:A", "smtp.1und1.de:465:tls:A"),
    ("Anna.Berg@sofort-start.de", "ispdb", "1&1", "imap.1und1.de:993:tls:A", "smtp.1und1.de:465:tls:A"),
    ("kim@charter.net", "ispdb", "Charter Communications", "mobile.charter.net:993:tls:A", "mobile.charter.net:587:tls:A"),
    ("kim@spectrum.net", "ispdb", "Charter Communications", "mobile.charter.net:993:tls:A", "mobile.charter.net:587:tls:A"),
    ("kim@jazztel.es", "ispdb", "gmail", "imap.gmail.com:993:tls:A", "smtp.gmail.com:465:tls:A"),
    ("kim@biglobe.ne.jp", "ispdb", "Biglobe", "pop3", None),
    ("kim@ispkund.test", "ispdb", "1&1", "imap.1und1.de:993:tls:A", "smtp.1und1.de:465:tls:A"),
    # where ISPDB and the built-in list disagree, the list's (checked) settings are used
    ("kim@bellsouth.net", "provider", "att", "imap.mail.att.net:993:tls:A", "smtp.mail.att.net:465:tls:A"),
    ("kim@yahoo.co.jp", "provider", "yahoo-japan", "imap.mail.yahoo.co.jp:993:tls:L", "smtp.mail.yahoo.co.jp:465:tls:L"),
    # ISPDB has nothing usable: not found, never answers, too large, an entity bomb, plaintext only
    ("kim@isp404.test", "none", "", None, None),
    ("kim@ispslow.test", "none", "", None, None),
    ("kim@ispbig.test", "none", "", None, None),
    ("kim@ispbomb.test", "none", "", None, None),
    ("kim@ispplain.test", "none", "", None, None),
    # only probing the servers finds these
    ("kim@guess.test", "guess", "", "imap.guess.test:993:tls:A", "smtp.guess.test:465:tls:A"),
    ("a.b@guess.test", "guess", "", "imap.guess.test:993:tls:A", "smtp.guess.test:465:tls:A"),
    ("kim@mailonly.test", "guess", "", "mail.mailonly.test:993:tls:A", "mail.mailonly.test:465:tls:A"),
    ("kim@bare.test", "guess", "", "bare.test:993:tls:A", "smtp.bare.test:465:tls:A"),
    # documents that must not be used; nothing else answers
    ("kim@offsite.test", "none", "", None, None),
    ("kim@big.test", "none", "", None, None),
    ("kim@bomb.test", "none", "", None, None),
    ("kim@plain.test", "none", "", None, None),
    ("kim@nosrv.test", "none", "", None, None),
    ("kim@nothing.test", "none", "", None, None),
    ("kim@no-such-domain.test", "none", "", None, None),
    ("kim@private.test", "none", "", None, None),
    # POP3 only: said so, with no settings to log in with
    ("kim@pop.test", "autoconfig", "POP Only", "pop3", None),
    ("kim@poponly.test", "guess", "", "pop3", None),
    # nothing answers at all within the budget
    ("kim@tarpit.test", "none", "", None, None),
    ("kim@silent.test", "none", "", None, None),
]


def _expect(spec: str | None, address: str):
    if spec is None or spec == "pop3":
        return None
    host, port, security, user = spec.split(":")
    return host, int(port), security == "tls", address if user == "A" else address.rpartition("@")[0]


def test_the_table_is_large_and_covers_every_source():
    assert len(TABLE) >= 80
    assert {row[1] for row in TABLE} == {"provider", "mx", "autoconfig", "ispdb", "srv", "guess", "none"}


@pytest.mark.parametrize("address,source,who,incoming,outgoing", TABLE, ids=[row[0] for row in TABLE])
def test_discovery_table(detector, address, source, who, incoming, outgoing):
    found = detector.detect(address)
    assert found.source == source
    if who:
        assert (found.provider.id if found.provider else found.display_name) == who
    if incoming == "pop3":
        assert found.pop3_only and found.settings is None
        return
    settings = found.settings
    got_in = (settings.incoming.host, settings.incoming.port, settings.incoming.ssl,
              settings.incoming.username) if settings else None
    got_out = (settings.outgoing.host, settings.outgoing.port, settings.outgoing.ssl,
               settings.outgoing.username) if settings else None
    assert got_in == _expect(incoming, address)
    assert got_out == _expect(outgoing, address)
    assert found.seconds < BUDGET + 0.5


def test_a_list_hit_needs_no_network(world):
    asked = len(world.dns.queries)
    found = make_detector(world).detect("someone@gmail.com")
    assert found.source == "provider" and len(world.dns.queries) == asked
    assert found.seconds < 0.05


def test_the_budget_holds_when_every_server_accepts_and_never_answers(world):
    detector = make_detector(world, budget=1.5)
    for _ in range(3):
        started = time.monotonic()
        found = detector.detect("kim@tarpit.test")
        assert found.source == "none"
        assert time.monotonic() - started < 1.5 + 1.0  # without the budget, each step waits out its timeout


def test_nothing_connects_to_a_private_address(world, monkeypatch):
    """The private names resolve, and the network rule refuses them before any connection."""
    import socket

    dialled = []
    original = socket.create_connection

    def watching(address, *args, **kwargs):  # observes every dial; the real connection still happens
        dialled.append(address[0])
        return original(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", watching)
    found = make_detector(world).detect("kim@private.test")
    asked = {name for name, _kind in world.dns.queries}
    assert "autoconfig.private.test" in asked and "imap.private.test" in asked
    assert found.source == "none"
    assert PRIVATE_HOST not in dialled and dialled == []


def test_probes_never_send_a_password(world):
    before = len(world.lab.smtp_auth_attempts)
    make_detector(world).detect("kim@guess.test")
    assert len(world.lab.smtp_auth_attempts) == before


def test_autoconfig_asks_with_the_address(world):
    make_detector(world).detect("kim@ac.test")
    assert ("autoconfig.ac.test", "/mail/config-v1.1.xml?emailaddress=kim@ac.test") in world.web.requests


# --- from a typed address to a working inbox, through each path -------------------------------------


@pytest.fixture
def world_app(app_config, world):
    from app import create_app

    config = dict(app_config, **world.app_config(), MAIL_PROVIDERS_FILE=None, MAIL_ALLOWED_PORTS="",
                  MAIL_DISCOVERY_BUDGET=BUDGET, MAIL_DISCOVERIES_PER_MINUTE=1000)
    return create_app(config)


PATHS = [
    ("ac.test", "Found in your provider's configuration: AC Hosting", "address"),
    ("wk.test", "Found in your provider's configuration: Well-Known Mail", "local"),
    ("redir.test", "Found in your provider's configuration: Redirected", "address"),
    ("srv.test", "Found in the domain's DNS records.", "address"),
    ("kund.test", "Found in your provider's configuration: Hoster", "address"),
    ("guess.test", "Found by testing the servers.", "address"),
    ("online.de", "Found in Thunderbird's database of email providers: 1&1", "address"),
    ("mailonly.test", "Found by testing the servers.", "local"),  # a guess falls back to the local part
]


@pytest.mark.parametrize("domain,said,login", PATHS, ids=[p[0] for p in PATHS])
def test_typed_address_to_inbox(world_app, world, domain, said, login):
    from email.message import EmailMessage

    local = f"path{abs(hash(domain)) % 10_000}"
    address = f"{local}@{domain}"
    login_name = address if login == "address" else local
    world.add_mailbox(login_name, "world-password-1")
    message = EmailMessage()
    message["From"] = "Kund <kund@example.test>"
    message["Subject"] = f"Hej från {domain}"
    message.set_content("Hej")
    world.lab.append(login_name, message)

    make_user(world_app, address)
    browser = Browser(world_app.test_client())
    browser.sign_in(address, "crm-password-1")
    step = text(browser.post("/inbox/setup/next", {"address": address}))
    assert said in step
    done = browser.post("/inbox/setup/login", {"address": address, "password": "world-password-1"})
    assert done.status_code == 200 and done.headers["HX-Push-Url"] == "/inbox/", text(done)
    assert f"Hej från {domain}" in text(browser.get("/inbox/"))


def test_pop3_only_domain_is_told_imap_only(world_app):
    make_user(world_app, "kim@pop.test")
    browser = Browser(world_app.test_client())
    browser.sign_in("kim@pop.test", "crm-password-1")
    words = text(browser.post("/inbox/setup/next", {"address": "kim@pop.test"}))
    assert "The inbox supports IMAP accounts only, not POP3." in words


def test_discoveries_are_rate_limited(app_config, world):
    from app import create_app

    app = create_app(dict(app_config, **world.app_config(), MAIL_DISCOVERIES_PER_MINUTE=2))
    make_user(app, "kim@ac.test")
    browser = Browser(app.test_client())
    browser.sign_in("kim@ac.test", "crm-password-1")
    for _ in range(2):
        assert browser.post("/inbox/setup/next", {"address": "kim@srv.test"}).status_code == 200
    third = browser.post("/inbox/setup/next", {"address": "kim@srv.test"})
    assert third.status_code == 429 and "Too many attempts" in text(third)


# --- the central ISPDB --------------------------------------------------------------------------------


def _ispdb_requests(world: World, domain: str) -> int:
    return sum(1 for host, target in world.web.requests if host == "ispdb.test" and target == f"/v1.1/{domain}")


def test_the_ispdb_is_asked_for_the_domain_only_and_its_answers_are_kept(world):
    cache = MemoryCache()
    before = _ispdb_requests(world, "charter.net"), _ispdb_requests(world, "isp404.test")
    for _ in range(3):
        assert make_detector(world, cache=cache).detect("kim@charter.net").source == "ispdb"
        assert make_detector(world, cache=cache).detect("kim@isp404.test").source == "none"
    assert (_ispdb_requests(world, "charter.net"), _ispdb_requests(world, "isp404.test")) == (before[0] + 1,
                                                                                              before[1] + 1)
    assert not any("kim" in target for host, target in world.web.requests if host == "ispdb.test")
    started = time.perf_counter()
    assert cache.get("charter.net").document is not None and cache.get("isp404.test").detail == "HTTP 404"
    assert time.perf_counter() - started < 0.01


def test_users_of_one_domain_asking_at_once_cause_one_lookup(world):
    from concurrent.futures import ThreadPoolExecutor

    detector = make_detector(world)
    before = _ispdb_requests(world, "spectrum.net")
    world.web.delays["ispdb.test"] = 0.3  # the first lookup is still under way when the others ask
    try:
        with ThreadPoolExecutor(4) as pool:
            found = list(pool.map(detector.detect, [f"user{n}@spectrum.net" for n in range(4)]))
    finally:
        world.web.delays.clear()
    assert [f.source for f in found] == ["ispdb"] * 4
    assert _ispdb_requests(world, "spectrum.net") == before + 1


def test_the_lookup_switched_off_asks_nobody(world):
    before = _ispdb_requests(world, "online.de")
    found = make_detector(world, ispdb=False).detect("kim@online.de")
    assert found.source == "none" and _ispdb_requests(world, "online.de") == before


def test_the_ispdb_is_held_to_the_network_rule(world, monkeypatch):
    import socket

    dialled = []
    original = socket.create_connection

    def watching(address, *args, **kwargs):  # observes every dial; the real connection still happens
        dialled.append(address[0])
        return original(address, *args, **kwargs)

    detector = make_detector(world)
    detector.ispdb = Ispdb(f"https://ispdb-private.test:{world.web.port}/v1.1/", MemoryCache())
    monkeypatch.setattr(socket, "create_connection", watching)
    found = detector.detect("kim@online.de")
    assert found.source == "none" and detector.ispdb.cache.get("online.de").detail == f"HostNotAllowed: {PRIVATE_HOST}"
    assert PRIVATE_HOST not in dialled


def test_an_ispdb_whose_certificate_does_not_name_it_is_not_believed(world):
    detector = make_detector(world)
    detector.ispdb = Ispdb(f"https://ispdb-wrongname.test:{world.web.port}/v1.1/", MemoryCache())
    assert detector.detect("kim@online.de").source == "none"
    assert "certificate" in detector.ispdb.cache.get("online.de").detail.lower()
    assert not any(host == "ispdb-wrongname.test" for host, _target in world.web.requests)


def test_an_ispdb_that_never_answers_is_given_up_within_its_step(world):
    started = time.monotonic()
    found = make_detector(world).detect("kim@ispslow.test")
    assert found.source == "none" and time.monotonic() - started < BUDGET + 0.5


def test_flask_discover_says_what_every_source_said(world_app):
    result = world_app.test_cli_runner().invoke(args=["discover", "kim@ispkund.test"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "ispdb" in out and "imap.1und1.de:993 SSL" in out and "smtp.1und1.de:465 SSL" in out
    for source in ("provider", "autoconfig", "srv", "mx", "guess"):
        assert f"\n  {source}" in out
    assert "ispkund.test: HTTP 404" in out  # the address's own domain is not in the ISPDB
    assert "password" not in out.lower()


def test_the_ispdb_is_named_on_screen_its_answer_kept_and_its_sign_in_offered(app_config, world):
    """In sv and en; one app for all three, to keep the module quick."""
    from app import create_app
    from mailcore.models import IspdbAnswer

    app = create_app(dict(app_config, **world.app_config(), MAIL_PROVIDERS_FILE=None, MAIL_DISCOVERY_BUDGET=BUDGET,
                          MAIL_DISCOVERIES_PER_MINUTE=1000, OAUTH_GOOGLE_CLIENT_ID="g-client"))
    for language, said in [("en", "Found in Thunderbird's database of email providers: 1&1"),
                           ("sv", "Hittades i Thunderbirds databas över e-postleverantörer: 1&1")]:
        make_user(app, f"{language}@sofortstart.de", language=language)
        browser = Browser(app.test_client())
        browser.sign_in(f"{language}@sofortstart.de", "crm-password-1")
        assert said in text(browser.post("/inbox/setup/next", {"address": f"{language}@sofortstart.de"}))
    with app.extensions["mail"].sessions() as db:
        kept = db.get(IspdbAnswer, "sofortstart.de")
        assert kept.document.startswith(b"<?xml") and kept.expires_at > kept.fetched_at
    make_user(app, "kim@jazztel.es")
    browser = Browser(app.test_client())
    browser.sign_in("kim@jazztel.es", "crm-password-1")
    step = browser.post("/inbox/setup/next", {"address": "kim@jazztel.es"})
    assert "Sign in with Google" in text(step) and 'name="password"' not in step.get_data(as_text=True)
