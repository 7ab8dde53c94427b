"""Fixtures: real mail servers on loopback (localmail), the app on a fresh database, and a client
that behaves like a browser with htmx (it sends the CSRF token the page carries)."""

from __future__ import annotations

import itertools
import json
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from localmail import MailLab  # noqa: E402
from localmail.dns import LocalDns  # noqa: E402

from . import schedule  # noqa: E402
from .helpers import (  # noqa: E402
    CHEAP_HASH,
    MAIL_DOMAIN,
    OAUTH_CLIENT,
    OAUTH_DOMAIN,
    POP_DOMAIN,
    STARTTLS_DOMAIN,
    Browser,
    Mailbox,
    connected,
    lab_ports,
    make_user,
)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items) -> None:
    """Two tiers: tests/unit/ runs without any server (`pytest -m "not lab"`, seconds); every other
    test talks to the real servers of the lab (Dovecot, SMTP, DNS, HTTPS, Chromium, PostgreSQL).

    Under pytest-xdist (`--dist loadgroup`, as scripts/test.sh runs it) a test that uses a fixture
    kept for its module (a module's own lab, a built wheel) runs on the same worker as the
    rest of its module, so the fixture is made once; the other tests go to whichever worker is free."""
    for item in items:
        if "unit" not in item.path.relative_to(ROOT / "tests").parts[:1]:
            item.add_marker(pytest.mark.lab)
        if item.get_closest_marker("xdist_group") is None and _uses_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.path.stem))
    if getattr(config.option, "dist", "no") != "no":
        items[:] = schedule.longest_first(items, schedule.load())  # see tests/schedule.py


def pytest_configure(config) -> None:
    recorder = schedule.recorder_from_environment()
    if recorder is not None:
        config.pluginmanager.register(recorder, "inkorg-durations")


def _uses_module_fixture(item) -> bool:
    definitions = getattr(item, "_fixtureinfo", None)
    if definitions is None:
        return False
    return any(fixture.scope in ("module", "package", "class")
               for name in item.fixturenames for fixture in definitions.name2fixturedefs.get(name, ()))


_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def issuer():
    """The local OAuth 2.0 / OpenID Connect issuer (localmail.oauth_server); its HTTPS side starts with the lab."""
    from localmail.oauth_server import LocalIssuer

    local = LocalIssuer()
    local.add_client(*OAUTH_CLIENT)
    yield local
    local.stop()


@pytest.fixture(scope="session")
def lab(tmp_path_factory, issuer) -> MailLab:
    mail_lab = MailLab.start(tmp_path_factory.mktemp("mail"), oauth_introspection_url=issuer.introspection_url)
    issuer.serve_https(mail_lab.tls_files)
    yield mail_lab
    mail_lab.stop()


@pytest.fixture(scope="session")
def providers_file(lab, issuer, tmp_path_factory) -> Path:
    """The test servers as providers of their own domains, as an operator's MAIL_PROVIDERS_FILE would."""
    def server(port: int, ssl: bool) -> dict:
        return {"host": lab.hostname, "port": port, "ssl": ssl, "username": "address"}

    path = tmp_path_factory.mktemp("providers") / "providers.json"
    path.write_text(json.dumps({"version": 1, "providers": [
        {"id": "testmail", "name": "Testmail", "domains": [MAIL_DOMAIN],
         "incoming": server(lab.imap_tls_port, True), "outgoing": server(lab.smtp_tls_port, True)},
        {"id": "testmail-starttls", "name": "Testmail STARTTLS", "domains": [STARTTLS_DOMAIN],
         "incoming": server(lab.imap_starttls_port, False), "outgoing": server(lab.smtp_starttls_port, False)},
        {"id": "testpop", "name": "Testpop", "domains": [POP_DOMAIN], "incoming": None,
         "outgoing": server(lab.smtp_tls_port, True), "pop3_only": True},
        {"id": "testid", "name": "Testmail ID", "domains": [OAUTH_DOMAIN],
         "incoming": server(lab.imap_tls_port, True), "outgoing": server(lab.smtp_starttls_port, False),
         "oauth2": {"issuer": issuer.issuer, "client_id": OAUTH_CLIENT[0], "client_secret": OAUTH_CLIENT[1],
                    "scopes": ["openid", "email", "offline_access"]}},
    ]}))
    return path


@pytest.fixture(scope="session")
def empty_dns():
    dns = LocalDns({})
    yield dns
    dns.stop()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> Path:
    """An SQLite database with every migration applied, made once per session (per xdist worker):
    each test's app starts on a copy instead of migrating from nothing (a file copy against half a
    second of Alembic). tests/test_foundations.py still migrates an empty database for real."""
    root = tmp_path_factory.mktemp("migrated")
    database = root / "inkorg.db"
    template = create_app({"TESTING": True, "INSTANCE_PATH": str(root / "instance"), "SECRET_KEY": "template",
                           "DATABASE_URL": f"sqlite:///{database}", "SYNC_MODE": "inline"})
    template.extensions["mail"].engine.dispose()
    with sqlite3.connect(database) as connection:  # everything in the one file, nothing left in a -wal
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return database


@pytest.fixture
def app_config(lab, providers_file, empty_dns, migrated_database, tmp_path) -> dict:
    shutil.copyfile(migrated_database, tmp_path / "inkorg.db")
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'inkorg.db'}",
        "SECRET_KEY": "test-secret-key",
        "MAIL_CA_BUNDLE": str(lab.ca_bundle),
        "MAIL_PROVIDERS_FILE": str(providers_file),
        "MAIL_ALLOWED_NETWORKS": "127.0.0.0/8",
        "MAIL_ALLOWED_PORTS": lab_ports(lab),
        "MAIL_TIMEOUT": 3.0,
        "MAIL_TESTS_PER_5_MINUTES": 1000,
        "MAIL_DNS_SERVER": empty_dns.address,  # answers "no such domain" unless a test brings its own
        "MAIL_ISPDB_URL": "",  # no third party asked; the discovery world brings its own ISPDB
        "SYNC_MODE": "inline",
        "SEARCH_INDEX_PER_SYNC": 0,  # no search index unless a test asks for one (tests/test_search.py)
        "PASSWORD_HASH": CHEAP_HASH,
    }


@pytest.fixture
def app(app_config):
    return create_app(app_config)


@pytest.fixture
def mailbox(lab) -> Mailbox:
    """A fresh mailbox on the lab's Dovecot with three messages (one Swedish, one read)."""
    number = next(_numbers)
    box = Mailbox(f"user{number}@{MAIL_DOMAIN}", f"mail-pw-{number}-Zq7!")
    lab.add_user(box.address, box.password)
    from email.message import EmailMessage

    messages, seen = [], []
    for sender, subject, read in (("Anna Berg <anna@kund.example>", "Offert för våren", False),
                                  ("Bob Smith <bob@partner.example>", "Meeting notes", True),
                                  ("=?iso-8859-1?q?=C5sa_=D6berg?= <asa@kund.example>", "Återkoppling", False)):
        message = EmailMessage()
        message["From"] = sender
        message["To"] = box.address
        message["Subject"] = subject
        message.set_content("Hej!")
        messages.append(message)
        seen.append(read)
    lab.append_many(box.address, messages, seen=seen)  # one IMAP login for the three
    return box


@pytest.fixture
def oauth_mailbox(lab, issuer) -> Mailbox:
    """A fresh mailbox that signs in at the local issuer (same password there), with two messages."""
    number = next(_numbers)
    box = Mailbox(f"olle{number}@{OAUTH_DOMAIN}", f"id-pw-{number}-Kx4!")
    lab.add_user(box.address, box.password)
    issuer.add_user(box.address, box.password)
    from email.message import EmailMessage

    messages = []
    for sender, subject in (("Karin Lund <karin@kund.example>", "Avtal för hösten"),
                            ("Dan Brown <dan@partner.example>", "Quarterly figures")):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, box.address, subject
        message.set_content("Hej!")
        messages.append(message)
    lab.append_many(box.address, messages)
    yield box
    issuer.access_lifetime, issuer.advertised_lifetime, issuer.rotate_refresh_tokens = 3600, None, True


@pytest.fixture
def browser(app, mailbox) -> Browser:
    """Signed in as a CRM user whose contact card's first email is the mailbox's address."""
    make_user(app, mailbox.address)
    b = Browser(app.test_client())
    b.sign_in(mailbox.address, "crm-password-1")
    return b


class SharedChromium:
    """One Playwright driver and one Debian headless Chromium per pytest worker, launched when a test
    first asks for it (a launch costs more CPU than most browser tests), again when a test asks for
    launch arguments of its own. Playwright's sync API allows one driver per thread, so a test that
    starts its own (`own_playwright`) stops this one first; the next test launches it again."""

    def __init__(self) -> None:
        self._playwright = self._browser = None
        self._args: tuple[str, ...] = ()

    def browser(self, *args: str):
        """The browser, launched with Chromium's usual arguments and `args` (relaunched when a test
        asks for other ones, or when it has crashed)."""
        if self._browser is not None and (not self._browser.is_connected() or args != self._args):
            self.stop()
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            from localmail.browser import CHROMIUM_ARGS, launch_chromium

            self._playwright = sync_playwright().start()
            self._browser, self._args = launch_chromium(self._playwright, args=[*CHROMIUM_ARGS, *args]), args
        return self._browser

    def close_contexts(self) -> None:
        """What a test left open (its pages would go on polling a server that is gone)."""
        if self._browser is not None and self._browser.is_connected():
            for context in self._browser.contexts:
                context.close()

    def stop(self) -> None:
        browser, playwright, self._browser, self._playwright = self._browser, self._playwright, None, None
        try:
            if browser is not None and browser.is_connected():
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


@pytest.fixture(scope="session")
def shared_chromium():
    shared = SharedChromium()
    yield shared
    shared.stop()


@pytest.fixture
def chromium(shared_chromium):
    """Debian's headless Chromium (the worker's, see `SharedChromium`); the contexts a test opens in it
    are closed after the test."""
    yield shared_chromium.browser()
    shared_chromium.close_contexts()


@pytest.fixture
def own_playwright(shared_chromium) -> None:
    """For a test that starts Playwright itself (the documentation pictures, as `inkorg docs
    screenshots` runs it): the worker's shared one is stopped first."""
    shared_chromium.stop()


@pytest.fixture
def base_url(app):
    """The test's app served on loopback, for the browser."""
    from localmail.browser import serve

    with serve(app) as url:
        yield url


@pytest.fixture
def inbox_page(app, lab, mailbox, base_url, chromium):
    """inbox_page(lang, viewport) -> a signed-in page on the inbox of a connected account; console errors
    fail the test."""
    from playwright.sync_api import expect

    from .browser import DESKTOP, LOCALES, TIMEOUT, WatchedPages, wait_for_htmx

    pages = WatchedPages(chromium, TIMEOUT)
    state = {}

    def open_(lang: str = "en", viewport: dict = DESKTOP):
        if "client" not in state:
            state["client"] = connected(app, mailbox)
            if lang != "en":
                state["client"].post("/settings/personal", {"language": lang, "signature": ""})
        page = pages.open({422}, locale=LOCALES[lang], viewport=viewport, timezone_id="UTC")
        # a session of its own, signed in on the server and handed to the browser as its cookies: the
        # sign-in form is walked by tests/test_guide.py and tests/test_hardening_web.py
        signed = Browser(app.test_client())
        signed.sign_in(mailbox.address, "crm-password-1")
        page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}
                                  for cookie in signed.client._cookies.values()])
        page.goto(base_url + "/inbox/")
        wait_for_htmx(page)
        expect(page.locator("#message-list .message").first).to_be_visible()
        return page

    yield open_
    pages.close()
