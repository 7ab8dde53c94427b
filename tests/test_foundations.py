"""Secrets at rest, the network rule, provider detection, the CLI, migrations and page-or-fragment."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy import text as sql

from localmail.dns import LocalDns
from mailcore import errors
from mailcore.connect import MailEnvironment
from mailcore.discovery.detect import SOURCE_MX, SOURCE_NONE, SOURCE_PROVIDER, Detector, DiscoveryNetwork
from mailcore.discovery.dnsquery import Dns
from mailcore.discovery.providers import ProviderList
from mailcore.netpolicy import MAIL_PORTS, NetworkPolicy, parse_networks

from .helpers import Browser, make_user, text


def test_instance_secrets_are_created_private(app, app_config):
    instance = app_config["INSTANCE_PATH"]
    assert oct(os.stat(os.path.join(instance, "mail.key")).st_mode & 0o777) == "0o600"


def test_the_instance_folder_and_the_database_are_private_and_checked(tmp_path, app_config):
    """With the quickstart's defaults (SQLite in the instance folder) the folder is 0700 and the database
    holding every user's mail 0600, whatever the umask; `flask check` reports either when opened up."""
    from app import create_app
    from mailcore import health

    instance = tmp_path / "fresh" / "instance"
    config = {**app_config, "INSTANCE_PATH": str(instance), "DATABASE_URL": ""}
    previous = os.umask(0o022)
    try:
        app = create_app(config)
        with app.extensions["mail"].sessions() as db:
            db.execute(sql("SELECT 1"))
    finally:
        os.umask(previous)
    files = [p for p in (instance / "inkorg.db", instance / "inkorg.db-wal", instance / "inkorg.db-shm") if p.exists()]
    assert oct(instance.stat().st_mode & 0o777) == "0o700"
    assert all(oct(path.stat().st_mode & 0o777) == "0o600" for path in files), files

    def problems() -> list[str]:
        found = health._files(app.extensions["mail"], instance)
        return [finding.text for finding in found if finding.level == health.PROBLEM]
    assert problems() == []
    instance.chmod(0o755)
    (instance / "inkorg.db").chmod(0o644)
    assert [text.split(" ", 1)[0] for text in problems()] == [str(instance), str(instance / "inkorg.db")]


# --- network rule ----------------------------------------------------------------------------


def test_resolve_checks_port_name_and_address(local_dns):
    policy = NetworkPolicy(lookup=Dns(local_dns.address).addresses)
    with pytest.raises(errors.PortNotAllowed):
        policy.resolve("localhost", 22)
    with pytest.raises(errors.HostNotFound):
        policy.resolve("no-such-host.invalid", 993)
    with pytest.raises(errors.HostNotAllowed):
        policy.resolve("localhost", 993)
    assert NetworkPolicy(parse_networks("127.0.0.0/8"), lookup=policy.lookup).resolve("localhost", 993) == "127.0.0.1"
    assert MAIL_PORTS == {993, 143, 465, 587, 25}


# --- provider detection ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_dns():
    dns = LocalDns({
        "acme-workspace.example": [("MX", 10, "aspmx.l.google.com"), ("MX", 20, "alt1.aspmx.l.google.com")],
        "contoso-365.example": [("MX", 0, "contoso-365-example.mail.protection.outlook.com")],
        "own-mail.example": [("MX", 10, "mx.own-mail.example")],
    })
    yield dns
    dns.stop()


@pytest.mark.parametrize("address,provider,source,imap_host,smtp_host", [
    ("someone@gmail.com", "gmail", SOURCE_PROVIDER, "imap.gmail.com", "smtp.gmail.com"),
    ("Someone@GoogleMail.com", "gmail", SOURCE_PROVIDER, "imap.gmail.com", "smtp.gmail.com"),
    ("kalle@hotmail.se", "outlook", SOURCE_PROVIDER, None, None),
    ("kalle@outlook.com", "outlook", SOURCE_PROVIDER, None, None),
    ("a@yahoo.com", "yahoo", SOURCE_PROVIDER, "imap.mail.yahoo.com", None),
    ("a@icloud.com", "icloud", SOURCE_PROVIDER, "imap.mail.me.com", None),
    ("a@aol.com", "aol", SOURCE_PROVIDER, "imap.aol.com", None),
    ("a@gmx.net", "gmx", SOURCE_PROVIDER, None, None),
    ("a@zoho.com", "zoho", SOURCE_PROVIDER, None, None),
    ("a@fastmail.com", "fastmail", SOURCE_PROVIDER, "imap.fastmail.com", None),
    ("a@telia.com", "telia", SOURCE_PROVIDER, None, None),
    ("boss@acme-workspace.example", "gmail", SOURCE_MX, "imap.gmail.com", "smtp.gmail.com"),
    ("boss@contoso-365.example", "microsoft365", SOURCE_MX, "outlook.office365.com", "smtp.office365.com"),
    ("me@own-mail.example", None, SOURCE_NONE, None, None),
    ("me@no-dns-at-all.example", None, SOURCE_NONE, None, None),
])
def test_detection(local_dns, address, provider, source, imap_host, smtp_host):
    dns = Dns(local_dns.address, timeout=2)
    policy = NetworkPolicy(lookup=dns.addresses)
    detector = Detector(ProviderList.load(), DiscoveryNetwork(policy, MailEnvironment(policy).tls_context, dns,
                                                              budget=3))
    found = detector.detect(address)
    assert (found.provider.id if found.provider else None) == provider
    assert found.source == source
    if found.settings is None:
        return
    if imap_host:
        assert found.settings.incoming.host == imap_host
    if smtp_host:
        assert found.settings.outgoing.host == smtp_host
    assert found.settings.incoming.ssl is True or found.settings.incoming.port == 143
    assert found.settings.incoming.username in (address, address.split("@")[0])


def test_setup_dialog_recognises_google_workspace_by_mx(app_config, local_dns, mailbox):
    from app import create_app

    app = create_app(dict(app_config, MAIL_DNS_SERVER=local_dns.address))
    make_user(app, mailbox.address)
    browser = Browser(app.test_client())
    browser.sign_in(mailbox.address, "crm-password-1")
    words = text(browser.post("/inbox/setup/next", {"address": "boss@acme-workspace.example"}))
    assert "Recognised provider from the domain's mail servers: Gmail" in words
    assert "imap.gmail.com:993" in words
    assert "Gmail: use an app password instead of your regular password." in words


# --- CLI and database ----------------------------------------------------------------------------


def test_an_older_database_is_brought_up_to_date(tmp_path, app_config):
    from app import create_app

    url = f"sqlite:///{tmp_path / 'old.db'}"
    create_engine(url).connect().close()  # an empty database, as an operator might hand us
    create_app(dict(app_config, DATABASE_URL=url))
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    assert {"users", "contact_emails", "accounts", "connection_attempts", "alembic_version"} <= tables
    with engine.connect() as connection:
        head = connection.execute(sql("select version_num from alembic_version")).scalar()
    create_app(dict(app_config, DATABASE_URL=url))  # twice is harmless
    with engine.connect() as connection:
        assert connection.execute(sql("select version_num from alembic_version")).scalar() == head


def _postgres_url() -> str | None:
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2):
            return "postgresql://postgres@127.0.0.1:5432/postgres"
    except Exception:
        return None


@pytest.mark.skipif(_postgres_url() is None, reason="no PostgreSQL on 127.0.0.1:5432")
def test_postgresql_works_too(app_config, mailbox):
    import psycopg

    from app import create_app

    name = f"inkorg_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_postgres_url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        app = create_app(dict(app_config, DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{name}"))
        make_user(app, mailbox.address)
        browser = Browser(app.test_client())
        browser.sign_in(mailbox.address, "crm-password-1")
        assert browser.post("/inbox/setup/login", {"address": mailbox.address,
                                                   "password": mailbox.password}).status_code == 200
        assert "Offert för våren" in text(browser.get("/inbox/"))
        app.extensions["mail"].engine.dispose()
    finally:
        with psycopg.connect(_postgres_url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


# --- page or fragment ----------------------------------------------------------------------------


def test_same_url_gives_page_or_fragment(browser):
    page = browser.get("/inbox/")
    fragment = browser.get("/inbox/", htmx=True)
    restore = browser.get("/inbox/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in page.get_data(as_text=True) and "<html" not in fragment.get_data(as_text=True)
    assert "<html" in restore.get_data(as_text=True)
    assert "Set up email account" in text(fragment)
    for response in (page, fragment, restore):
        assert "HX-Request" in response.headers["Vary"]


def test_without_javascript_every_step_is_a_page(app, mailbox):
    make_user(app, mailbox.address)
    browser = Browser(app.test_client())
    browser.sign_in(mailbox.address, "crm-password-1")
    step = browser.post("/inbox/setup/next", {"address": mailbox.address}, htmx=False)
    assert "<html" in step.get_data(as_text=True) and "Log in" in text(step)
    advanced = browser.get(f"/inbox/setup/advanced?address={mailbox.address}")
    assert "<html" in advanced.get_data(as_text=True) and "Incoming email settings" in text(advanced)
    done = browser.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password},
                        htmx=False)
    assert done.status_code == 303 and done.headers["Location"] == "/inbox/"
    assert "Offert för våren" in text(browser.get("/inbox/"))


def test_security_headers(browser):
    response = browser.get("/inbox/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_concurrent_setups_do_not_interfere(app_config, lab):
    """Two users connecting at the same moment each get their own account."""
    from app import create_app

    app = create_app(app_config)
    users = []
    for n in range(2):
        address, password = f"parallel{n}-{uuid.uuid4().hex[:6]}@inkorg.test", f"pw-{n}-parallel"
        lab.add_user(address, password)
        make_user(app, address)
        browser = Browser(app.test_client())
        browser.sign_in(address, "crm-password-1")
        users.append((browser, address, password))
    results = {}

    def run(browser, address, password):
        results[address] = browser.post("/inbox/setup/login", {"address": address, "password": password}).status_code

    threads = [threading.Thread(target=run, args=u) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(results.values()) == {200}


def test_flask_check_warns_of_https_without_a_trusted_proxy():
    """Behind a proxy the app must trust it, or every browser has the proxy's address and the sign-in
    limits per address count them all together; a Secure cookie setting does not change that."""
    from mailcore import health

    config = {"EXTERNAL_URL": "https://127.0.0.1:1", "SESSION_COOKIE_SECURE": True}
    warnings = [f.text for f in health._external_url(config) if f.level == health.WARNING]
    assert any("BEHIND_PROXY=1" in text and "sign-in limits" in text for text in warnings)
    trusted = [f.text for f in health._external_url({**config, "BEHIND_PROXY": True}) if f.level == health.WARNING]
    assert not any("BEHIND_PROXY" in text for text in trusted)
