"""The central ISPDB's parts that need no server: its setting, its URLs, the lifetimes of its cached
answers (in memory and in the database), and what its documents say about OAuth sign-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailcore import clock
from mailcore.config import SettingError, Settings
from mailcore.discovery import autoconfig
from mailcore.discovery import ispdb as central
from mailcore.discovery.detect import Detector
from mailcore.discovery.ispdb import DatabaseCache, Ispdb, IspdbUnavailable, MemoryCache, oauth_issuer
from mailcore.discovery.providers import ProviderList

FILES = Path(__file__).resolve().parent.parent / "ispdb"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_lookup_is_on_by_default_and_empty_turns_it_off():
    assert Settings.from_env({}).mail_ispdb_url == "https://autoconfig.thunderbird.net/v1.1/"
    assert Settings.from_env({"MAIL_ISPDB_URL": ""}).mail_ispdb_url == ""
    assert Settings.from_mapping({"MAIL_ISPDB_URL": ""}).mail_ispdb_url == ""
    mine = Settings.from_env({"MAIL_ISPDB_URL": "https://ispdb.example/v1.1/"})
    assert mine.mail_ispdb_url == "https://ispdb.example/v1.1/"
    with pytest.raises(SettingError, match="MAIL_ISPDB_URL must be an https:// URL"):
        Settings.from_env({"MAIL_ISPDB_URL": "http://autoconfig.thunderbird.net/v1.1/"})


def test_the_url_names_the_domain_only():
    lookup = Ispdb("https://ispdb.example:8443/v1.1", MemoryCache())
    assert lookup.url("Online.DE.") == "https://ispdb.example:8443/v1.1/online.de"
    assert lookup.url("a/b?c") == "https://ispdb.example:8443/v1.1/a%2Fb%3Fc"
    assert lookup.port == 8443 and Ispdb(central.DEFAULT_URL, MemoryCache()).port == 443


@pytest.fixture
def fetches(monkeypatch):
    """What the lookup asked for; the answers stand in for the server (tests/test_discovery.py asks
    a real one)."""
    asked: list[str] = []
    documents = {"online.de": (FILES / "1und1.de.xml").read_bytes(),
                 "biglobe.ne.jp": (FILES / "biglobe.ne.jp.xml").read_bytes()}

    def fetch(url, policy, context, deadline, port=None):
        asked.append(url)
        domain = url.rsplit("/", 1)[1]
        if domain not in documents:
            raise autoconfig.AutoconfigError("HTTP 404")
        return documents[domain]

    monkeypatch.setattr(central.autoconfig, "fetch", fetch)
    return asked


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    from mailcore import db as maildb
    from mailcore.models import IspdbAnswer

    engine = maildb.make_engine(f"sqlite:///{tmp_path_factory.mktemp('ispdb') / 'cache.db'}")
    IspdbAnswer.__table__.create(engine)  # the one table (the migrations are tested against the models elsewhere)
    yield engine
    engine.dispose()


@pytest.fixture
def database_cache(database):
    from sqlalchemy import delete

    from mailcore import db as maildb
    from mailcore.models import IspdbAnswer

    sessions = maildb.session_factory(database)
    with sessions() as db:
        db.execute(delete(IspdbAnswer))
        db.commit()
    return DatabaseCache(sessions)


@pytest.mark.parametrize("kind", ["memory", "database"])
def test_a_document_is_kept_a_day_and_a_failure_an_hour(fetches, database_cache, kind):
    cache = MemoryCache() if kind == "memory" else database_cache
    lookup = Ispdb(central.DEFAULT_URL, cache)

    def ask(domain: str):
        if kind == "database":
            database_cache.memory.clear()  # from the table, as another process would
        return lookup.answer(domain, None, None, 0.0)

    with clock.fixed(START):
        assert ask("online.de").document.startswith(b"<?xml") and ask("nowhere.example").detail == "HTTP 404"
        assert ask("biglobe.ne.jp").document  # a POP3-only document is an answer too
    assert len(fetches) == 3
    with clock.fixed(START + timedelta(minutes=59)):
        for domain in ("online.de", "nowhere.example", "biglobe.ne.jp"):
            ask(domain)
        assert len(fetches) == 3
    with clock.fixed(START + timedelta(minutes=61)):
        ask("online.de")
        assert ask("nowhere.example").document is None and len(fetches) == 4
    with clock.fixed(START + timedelta(hours=24, minutes=1)):
        assert ask("online.de").document and len(fetches) == 5


def test_a_remembered_failure_says_so(fetches):
    lookup = Ispdb(central.DEFAULT_URL, MemoryCache())
    with pytest.raises(IspdbUnavailable, match=r"^HTTP 404$"):
        lookup.document("nowhere.example", None, None, 0.0)
    with pytest.raises(IspdbUnavailable, match=r"^HTTP 404 \(remembered\)$"):
        lookup.document("nowhere.example", None, None, 0.0)
    assert len(fetches) == 1


def test_memory_keeps_the_newest_answers_only():
    memory = MemoryCache(size=2)
    answer = central.Answer(b"x", "", clock.now() + timedelta(hours=1))
    for domain in ("a.example", "b.example", "c.example"):
        memory.put(domain, answer)
    assert memory.get("a.example") is None and memory.get("c.example").document == b"x"


def test_oauth_is_read_only_where_the_imap_server_takes_it():
    assert oauth_issuer((FILES / "googlemail.com.xml").read_bytes()) == "accounts.google.com"
    assert oauth_issuer((FILES / "1und1.de.xml").read_bytes()) is None
    smtp_only = (b'<clientConfig><emailProvider id="x"><incomingServer type="imap"><authentication>'
                 b"password-cleartext</authentication></incomingServer></emailProvider>"
                 b"<oAuth2><issuer>accounts.google.com</issuer></oAuth2></clientConfig>")
    assert oauth_issuer(smtp_only) is None


@pytest.mark.parametrize("address,expected", [
    ("kim@jazztel.es", "gmail"),  # Google's servers, Google's issuer: the Google sign-in
    ("kim@evil.example", None),  # Google's issuer named for servers that are not Google's
])
def test_the_sign_in_is_offered_only_for_the_providers_own_servers(address, expected):
    document = (FILES / "googlemail.com.xml").read_bytes()
    if expected is None:
        document = document.replace(b"imap.gmail.com", b"imap.evil.example")
    settings = autoconfig.parse(document, address).settings
    found = Detector(ProviderList.load())._signs_in(document, settings)
    assert (found.id if found else None) == expected


def test_an_answer_that_cannot_be_kept_is_still_given(fetches):
    class Broken(MemoryCache):
        def put(self, domain, answer):
            raise RuntimeError("database is locked")

    assert Ispdb(central.DEFAULT_URL, Broken()).answer("online.de", None, None, 0.0).document


@pytest.mark.parametrize("setting,asked", [(None, central.DEFAULT_URL), ("", None),
                                           ("https://ispdb.example/v1.1/", "https://ispdb.example/v1.1/")])
def test_the_installation_asks_the_ispdb_of_its_setting_and_keeps_answers_in_its_database(setting, asked):
    from sqlalchemy.orm import sessionmaker

    from mailcore.installation import _ispdb

    sessions = sessionmaker()
    lookup = _ispdb(Settings.from_env({} if setting is None else {"MAIL_ISPDB_URL": setting}), sessions)
    assert (lookup.base_url if lookup else None) == asked
    assert lookup is None or (isinstance(lookup.cache, DatabaseCache) and lookup.cache.sessions is sessions)


@pytest.mark.parametrize("outgoing,expected", [("smtp.office365.com", "microsoft365"),
                                               ("smtp-mail.outlook.com", "outlook")])
def test_of_two_providers_on_one_imap_server_the_one_sending_through_the_documents_server_signs_in(outgoing, expected):
    document = (b'<clientConfig version="1.1"><emailProvider id="x"><domain>x.example</domain>'
                b"<displayName>Microsoft</displayName><incomingServer type=\"imap\"><hostname>outlook.office365.com"
                b"</hostname><port>993</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username>"
                b"<authentication>OAuth2</authentication></incomingServer><outgoingServer type=\"smtp\"><hostname>"
                + outgoing.encode() + b"</hostname><port>587</port><socketType>STARTTLS</socketType><username>"
                b"%EMAILADDRESS%</username><authentication>OAuth2</authentication></outgoingServer></emailProvider>"
                b"<oAuth2><issuer>login.microsoftonline.com</issuer></oAuth2></clientConfig>")
    settings = autoconfig.parse(document, "kim@x.example").settings
    assert Detector(ProviderList.load())._signs_in(document, settings).id == expected
