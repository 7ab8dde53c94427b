"""The unit tier: the pure parts of the inbox, at most with the app on a temporary SQLite database.
No Dovecot, SMTP, DNS, HTTP server or browser, so the whole folder runs in a few seconds:

    .venv/bin/python -m pytest tests/unit -q
"""

from __future__ import annotations

import itertools
import shutil
import socket

import pytest

from app import create_app
from tests.helpers import CHEAP_HASH, Browser, make_user


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """A unit test that opens a connection is a lab test in the wrong folder: fail it at once.
    Per test, so the lab tests that run in the same session keep their sockets."""
    def refuse(self, address):
        raise AssertionError(f"the unit tier connects to nothing (tried {address!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.fixture(scope="session")
def lab():
    raise AssertionError("the unit tier starts no mail servers: move this test out of tests/unit")


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """One app for the whole tier (migrations take most of a second); tests add their own rows."""
    return _app_in(tmp_path_factory.mktemp("unit"))


@pytest.fixture
def fresh_app(migrated_database, tmp_path):
    """The app on a database of its own, a copy of the one migrated once per session (tests/conftest.py):
    for tests that add users, sessions or counters the others must not see."""
    shutil.copyfile(migrated_database, tmp_path / "inkorg.db")
    return _app_in(tmp_path)


@pytest.fixture
def signed_in(fresh_app) -> Browser:
    """A client signed in as a CRM user (kim@crm.example, no email account yet) on a fresh database,
    sending the CSRF token and htmx headers as the page does."""
    make_user(fresh_app, "kim@crm.example", name="Kim Karlsson")
    browser = Browser(fresh_app.test_client())
    browser.sign_in("kim@crm.example", "crm-password-1")
    return browser


def _app_in(root):
    """The app with its instance folder and SQLite database in `root` (migrated there if new)."""
    return create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(root / "instance"),
        "DATABASE_URL": f"sqlite:///{root / 'inkorg.db'}",
        "SECRET_KEY": "unit-test-secret",
        "SYNC_MODE": "inline",
        "PASSWORD_HASH": CHEAP_HASH,
    })


_domains = itertools.count(1)


@pytest.fixture
def db(app):
    """A database session of the test's app."""
    with app.extensions["mail"].sessions() as session:
        yield session


@pytest.fixture
def domain() -> str:
    """A mail domain of the test's own: the unit tier's apps may share a database."""
    return f"kund{next(_domains)}.example"
