"""Fixtures: real mail servers on loopback (localmail), the app on a fresh database, and a client
that behaves like a browser with htmx (it sends the CSRF token the page carries)."""

from __future__ import annotations

import itertools
import json
import re
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from localmail import MailLab  # noqa: E402
from localmail.dns import LocalDns  # noqa: E402
from mailcore import services  # noqa: E402


def pytest_collection_modifyitems(items) -> None:
    """Two tiers: tests/unit/ runs without any server (`pytest -m "not lab"`, seconds); every other
    test talks to the real servers of the lab (Dovecot, SMTP, DNS, HTTPS, Chromium, PostgreSQL)."""
    for item in items:
        if "unit" not in item.path.relative_to(ROOT / "tests").parts[:1]:
            item.add_marker(pytest.mark.lab)


MAIL_DOMAIN = "inkorg.test"
OAUTH_DOMAIN = "oauth.inkorg.test"  # signs in at the local issuer (an operator's own, MAIL_PROVIDERS_FILE)
OAUTH_CLIENT = ("inkorg-test", "inkorg-test-client-secret")
STARTTLS_DOMAIN = "starttls.inkorg.test"
POP_DOMAIN = "pop.inkorg.test"
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


def lab_ports(lab: MailLab) -> str:
    return " ".join(str(p) for p in (
        lab.imap_tls_port, lab.imap_starttls_port, lab.imap_plain_only_port, lab.pop3_port,
        lab.imap_untrusted_tls_port, lab.smtp_tls_port, lab.smtp_starttls_port,
        lab.smtp_no_starttls_port, lab.tarpit_port, lab.closed_port))


@pytest.fixture(scope="session")
def empty_dns():
    dns = LocalDns({})
    yield dns
    dns.stop()


@pytest.fixture
def app_config(lab, providers_file, empty_dns, tmp_path) -> dict:
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
        "SYNC_MODE": "inline",
    }


@pytest.fixture
def app(app_config):
    return create_app(app_config)


@dataclass
class Mailbox:
    address: str
    password: str


@pytest.fixture
def mailbox(lab) -> Mailbox:
    """A fresh mailbox on the lab's Dovecot with three messages (one Swedish, one read)."""
    number = next(_numbers)
    box = Mailbox(f"user{number}@{MAIL_DOMAIN}", f"mail-pw-{number}-Zq7!")
    lab.add_user(box.address, box.password)
    from email.message import EmailMessage

    for sender, subject, seen in (("Anna Berg <anna@kund.example>", "Offert för våren", False),
                                  ("Bob Smith <bob@partner.example>", "Meeting notes", True),
                                  ("=?iso-8859-1?q?=C5sa_=D6berg?= <asa@kund.example>", "Återkoppling", False)):
        message = EmailMessage()
        message["From"] = sender
        message["To"] = box.address
        message["Subject"] = subject
        message.set_content("Hej!")
        lab.append(box.address, message, seen=seen)
    return box


@pytest.fixture
def oauth_mailbox(lab, issuer) -> Mailbox:
    """A fresh mailbox that signs in at the local issuer (same password there), with two messages."""
    number = next(_numbers)
    box = Mailbox(f"olle{number}@{OAUTH_DOMAIN}", f"id-pw-{number}-Kx4!")
    lab.add_user(box.address, box.password)
    issuer.add_user(box.address, box.password)
    from email.message import EmailMessage

    for sender, subject in (("Karin Lund <karin@kund.example>", "Avtal för hösten"),
                            ("Dan Brown <dan@partner.example>", "Quarterly figures")):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, box.address, subject
        message.set_content("Hej!")
        lab.append(box.address, message)
    yield box
    issuer.access_lifetime, issuer.advertised_lifetime, issuer.rotate_refresh_tokens = 3600, None, True


class Browser:
    """The Flask test client, sending the CSRF token and htmx headers the way the page's htmx does."""

    def __init__(self, client):
        self.client = client
        self.token: str | None = None

    def _remember(self, response):
        if not response.content_type.startswith("text/html"):
            return response
        found = re.search(r'"X-CSRFToken": "([^"]+)"', response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def get(self, url: str, htmx: bool = False, **kwargs):
        headers = kwargs.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
        return self._remember(self.client.get(url, headers=headers, **kwargs))

    def post(self, url: str, data: dict | None = None, htmx: bool = True, csrf: bool = True, **kwargs):
        headers = kwargs.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
        if csrf:
            if self.token is None:
                self.get("/inbox/")
            headers["X-CSRFToken"] = self.token
        return self.client.post(url, data=data or {}, headers=headers, **kwargs)

    def sign_in(self, email: str, password: str):
        page = self.get("/signin")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True))
        response = self.client.post("/signin", data={"email": email, "password": password,
                                                     "csrf_token": token.group(1)})
        assert response.status_code == 302, response.get_data(as_text=True)
        self.get("/inbox/")
        return response


def make_user(app, email: str, name: str = "Anna Andersson", language: str | None = "en",
              password: str = "crm-password-1") -> None:
    with app.extensions["mail"].sessions() as db:
        services.create_user(db, email, password, name, language)


def connected(app, mailbox, name: str = "Anna Andersson") -> Browser:
    """A signed-in CRM user whose contact card starts with the mailbox's address, account connected."""
    make_user(app, mailbox.address, name=name)
    signed_in = Browser(app.test_client())
    signed_in.sign_in(mailbox.address, "crm-password-1")
    response = signed_in.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password})
    assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/inbox/", text(response)
    return signed_in


@pytest.fixture
def browser(app, mailbox) -> Browser:
    """Signed in as a CRM user whose contact card's first email is the mailbox's address."""
    make_user(app, mailbox.address)
    b = Browser(app.test_client())
    b.sign_in(mailbox.address, "crm-password-1")
    return b


class _Words(HTMLParser):
    def __init__(self):
        super().__init__()
        self.words: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "title"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "title"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.words.extend(data.split())


def text(response) -> str:
    """The response as the words a person reads."""
    parser = _Words()
    parser.feed(response.get_data(as_text=True))
    return " ".join(parser.words)


@pytest.fixture(scope="module")
def chromium():
    """Debian's headless Chromium, one per test module (the browser tests)."""
    from playwright.sync_api import sync_playwright

    from localmail.browser import launch_chromium

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def base_url(app):
    """The test's app served on loopback, for the browser."""
    from localmail.browser import serve

    with serve(app) as url:
        yield url
