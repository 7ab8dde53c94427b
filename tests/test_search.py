"""Search from the local index (issue 22), against the lab's Dovecot, on SQLite and PostgreSQL: the
query language through the web layer, a word only in a body found once the sync has indexed it
(never asking the server), the indexing progress in the folder menu, and the browser in sv and en."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from sqlalchemy import func, inspect, select, text

from localmail import services
from mailcore.db import migrate
from mailcore.models import Account, Message, MessageText
from mailcore.reading import search as server_search
from mailcore.search import query as language
from mailcore.search.index import WHOLE

from .helpers import Browser, connected, schema_differences

KUNDER = "Kunder"


def _message(sender: str, subject: str, body: str, day: datetime, to: str = "", attachment: str = ""):
    item = EmailMessage()
    item["From"], item["To"], item["Subject"] = sender, to or "user@mail.test", subject
    item["Date"] = format_datetime(day)
    item.set_content(body)
    if attachment:
        item.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename=attachment)
    return item


def fill(lab, mailbox) -> None:
    """Beside the mailbox fixture's three (Offert för våren from Anna, Meeting notes, Återkoppling):"""
    lab.append_many(mailbox.address, [
        _message("Carl Lind <carl@lev.example>", "Leveransplan",
                 "Vi skickar zebrafinkarna på tisdag. Öl och ost. Märkt kund_ordernummer.",
                 datetime(2026, 3, 10, 9, tzinfo=UTC), attachment="avtal-2026.pdf"),
        _message("Brevet <news@brev.example>", "Nyhetsbrev mars",  # a run no index takes as a word
                 "Veckans nyheter om ol och ost. " + "QUJD" * 800, datetime(2026, 3, 20, 9, tzinfo=UTC)),
        _message("Bob Smith <bob@partner.example>", "Protokoll", "Beslut: det nya avtalet gäller från april.",
                 datetime(2026, 4, 2, 9, tzinfo=UTC), to="Styrelsen <styrelsen@kund.example>"),
    ])
    lab.create_folder(mailbox.address, KUNDER)
    lab.append(mailbox.address, _message("Anna Berg <anna@kund.example>", "Gammal offert",
                                         "Körsbärsträden blommar i Malmö.", datetime(2025, 5, 1, 9, tzinfo=UTC)),
               folder=KUNDER, seen=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, app_config):
    if request.param == "sqlite":
        yield app_config["DATABASE_URL"]
        return
    with services.fresh_database("inkorg_search") as url:
        yield url


@pytest.fixture
def per_sync() -> int:
    return 500


@pytest.fixture
def app(app_config, database, per_sync):
    from app import create_app

    made = create_app({**app_config, "DATABASE_URL": database, "SEARCH_INDEX_PER_SYNC": per_sync})
    yield made
    made.extensions["mail"].engine.dispose()


def found(client: Browser, query: str, everywhere: bool = False) -> set[str]:
    response = client.get("/inbox/", query_string={"q": query, **({"all": "1"} if everywhere else {})},
                          headers={"HX-Target": "listing"}, htmx=True)
    assert response.status_code == 200
    return set(re.findall(r'<span class="subject">(?:<svg.*?</svg>)?([^<]*)</span>', response.get_data(as_text=True)))


def test_the_query_language_over_the_index(app, lab, mailbox, monkeypatch):
    fill(lab, mailbox)
    client = connected(app, mailbox)  # the first sync indexes every message, bodies too
    with app.extensions["mail"].sessions() as db:
        states = dict(db.execute(select(Message.search_state, func.count()).group_by(Message.search_state)).all())
        assert states == {WHOLE: 7}
        if db.get_bind().dialect.name == "postgresql":
            with db.get_bind().connect() as connection:  # the schema is the models' (the GIN index aside)
                assert schema_differences(connection) == []
    # every body is indexed: the server is never asked again
    monkeypatch.setattr(server_search, "server_matches", lambda *a: pytest.fail("the server was asked"))

    # as many matches as there are, or more than are listed (each row is checked, read newest first)
    for few in (language.FEW, 0):
        monkeypatch.setattr(language, "FEW", few)
        assert found(client, "zebrafinkarna") == {"Leveransplan"}  # only in its body
        assert found(client, "zebra") == {"Leveransplan"}  # what is typed so far
        assert found(client, "öl") == {"Leveransplan"}  # ö is a letter of its own
        assert found(client, "ol") == {"Nyhetsbrev mars"}
        assert found(client, "OFFÉRT") == {"Offert för våren"}  # case and other diacritics folded
        assert found(client, "offert", everywhere=True) == {"Offert för våren", "Gammal offert"}
        assert found(client, '"nya avtalet gäller"') == {"Protokoll"}
        assert found(client, '"avtalet nya"') == set()
        assert found(client, "from:anna", everywhere=True) == {"Offert för våren", "Gammal offert"}
        assert found(client, "subject:offert körsbär", everywhere=True) == {"Gammal offert"}
        assert found(client, "subject:avtal") == set()
        assert found(client, "to:styrelsen") == {"Protokoll"}
        assert found(client, 'from:"carl lind" zebra') == {"Leveransplan"}  # a phrase in a field, a word anywhere
        assert found(client, 'from:"lev carl"') == set()  # the sender's words are "carl lind carl lev example"
        assert found(client, "from:lev subject:lev") == {"Leveransplan"}  # what a word in a field begins
        assert found(client, '"leveransplan vi"') == set()  # a phrase stays within its field
        assert found(client, "avtal") == {"Leveransplan", "Protokoll"}  # an attachment's name, a body's word
        assert found(client, "has:attachment") == {"Leveransplan"}
        assert found(client, "is:unread -offert -ost") == {"Återkoppling", "Protokoll"}
        assert found(client, "after:15/03/2026 before:2026-04-02") == {"Nyhetsbrev mars"}  # en-GB and ISO
        assert found(client, "körsbär") == set()  # in another folder
        assert found(client, "ordernummer") == {"Leveransplan"}  # a word is cut at "_" too, as SQLite's FTS5 cuts it
        assert found(client, "kund_order") == {"Leveransplan"}  # the beginning of the word as written
        assert found(client, "nummer") == set()
        assert found(client, "is:unread -___") == found(client, "is:unread")  # no word: it excludes nothing
    assert "Kunder" in client.get("/inbox/", query_string={"q": "körsbär", "all": "1"}).get_data(as_text=True)
    if app.extensions["mail"].engine.dialect.name == "postgresql":
        _phrases_start_from_their_pairs(app, client)

    # a message removed by a sync leaves the index with it
    with app.extensions["mail"].sessions() as db:
        db.execute(Message.__table__.delete().where(Message.subject == "Leveransplan"))
        db.commit()
        assert db.scalar(select(func.count()).select_from(MessageText)) == 6
    assert found(client, "zebrafinkarna") == set()


def _phrases_start_from_their_pairs(app, client: Browser) -> None:
    """PostgreSQL (migration 0025): a phrase's messages are looked up in the index of word pairs and the
    words' index together, never by reading every message; going back to 0024 and up again gives the
    messages already there their pairs, and leaves out a stored word too long for the index."""
    engine = app.extensions["mail"].engine
    with engine.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))  # a table this small is read whole otherwise
        for query, index in (("avtal", "ix_message_texts_search"), ('"nya avtalet gäller"', "ix_message_texts_pairs")):
            asked = language.matching("postgresql", language.parse(query).terms)
            plan = "\n".join(connection.execute(text("EXPLAIN " + str(asked.compile(
                dialect=engine.dialect, compile_kwargs={"literal_binds": True})))).scalars())
            assert f"Bitmap Index Scan on {index}" in plan, plan
    migrate(engine, "0024", down=True)
    with engine.connect() as connection:
        assert "pair_keys" not in {c["name"] for c in inspect(connection).get_columns("message_texts")}
        connection.execute(text("UPDATE message_texts SET body = body || ' ' || repeat('x', 3000)"))  # as 0024 kept
        connection.commit()
    migrate(engine, "head")
    assert found(client, '"nya avtalet gäller"') == {"Protokoll"}
    assert found(client, '"avtalet nya"') == set()
    assert found(client, "zebrafinkarna") == {"Leveransplan"}
    assert found(client, "from:anna", everywhere=True) == {"Offert för våren", "Gammal offert"}


def _rows(client: Browser, query: str, everywhere: bool = False, folder: str = "INBOX") -> list[tuple[str, str]]:
    """(subject, conversation count or "") of each row the list shows, top to bottom."""
    asked = {"q": query, "folder": folder, **({"all": "1"} if everywhere else {})}
    response = client.get("/inbox/", query_string=asked, headers={"HX-Target": "listing"}, htmx=True)
    assert response.status_code == 200
    rows = re.findall(r'<li class="message[^"]*".*?</li>', response.get_data(as_text=True), re.S)
    return [(re.search(r'<span class="subject">(?:<svg.*?</svg>)?([^<]*)</span>', row).group(1),
             (re.search(r'<span class="count"[^>]*>(\d+)</span>', row) or re.match("()", "")).group(1))
            for row in rows]


def test_a_conversation_matches_when_any_of_its_messages_does(app, lab, mailbox):
    """A search lists conversations: one row for a conversation however many of its messages match,
    the newest match standing for it; All folders leaves out Junk and Trash unless that is the open
    folder; marking the row acts on the conversation's messages in its folder."""
    question = _message("Karin Berg <karin@kund.example>", "Pris på ramar", "Vad kostar ekramarna?",
                        datetime(2026, 5, 1, 9, tzinfo=UTC))
    question["Message-ID"] = "<ramar-1@kund.example>"
    answer = _message(f"Me <{mailbox.address}>", "Re: Pris på ramar", "Ekramarna kostar 900 kr styck.",
                      datetime(2026, 5, 2, 9, tzinfo=UTC), to="karin@kund.example")
    answer["Message-ID"], answer["In-Reply-To"] = "<ramar-2@mail.test>", "<ramar-1@kund.example>"
    thanks = _message("Karin Berg <karin@kund.example>", "Re: Pris på ramar", "Tack, vi beställer tio.",
                      datetime(2026, 5, 3, 9, tzinfo=UTC))
    thanks["Message-ID"], thanks["References"] = "<ramar-3@kund.example>", "<ramar-1@kund.example> <ramar-2@mail.test>"
    other = _message("Olle Ek <olle@annan.example>", "Re: Pris på ramar", "Ekramarna från er var fina.",
                     datetime(2026, 5, 4, 9, tzinfo=UTC))  # the same subject, another conversation
    lab.append_many(mailbox.address, [question, thanks, other])
    lab.append(mailbox.address, answer, folder="Sent", seen=True)
    lab.append(mailbox.address, _message("Spam <spam@skrap.example>", "Ekramar billigt", "Köp ekramarna nu.",
                                         datetime(2026, 5, 5, 9, tzinfo=UTC)), folder="Junk")
    lab.append(mailbox.address, _message("Karin Berg <karin@kund.example>", "Gammalt om ramar",
                                         "Ekramarna i fjol.", datetime(2025, 5, 5, 9, tzinfo=UTC)), folder="Trash")
    client = connected(app, mailbox)

    # "tio" is only in the newest of the conversation's INBOX messages, "ekramarna" in every one but
    # that: each conversation is one row, its newest match standing for it, with the count of its messages
    assert _rows(client, "tio") == [("Re: Pris på ramar", "2")]
    assert _rows(client, "ekramarna") == [("Re: Pris på ramar", ""), ("Pris på ramar", "2")]
    # All folders: the reply in Sent is the conversation's newest match; Junk is not searched
    assert _rows(client, "ekramarna", everywhere=True) == [("Re: Pris på ramar", ""), ("Re: Pris på ramar", "")]
    assert _rows(client, "styck", everywhere=True) == [("Re: Pris på ramar", "")]
    assert _rows(client, "ekramarna", folder="Trash") == [("Gammalt om ramar", "")]
    # from Trash, Trash too (and a row per message, as Trash lists them)
    assert [s for s, _ in _rows(client, "ekramarna", everywhere=True, folder="Trash")] == [
        "Re: Pris på ramar", "Re: Pris på ramar", "Pris på ramar", "Gammalt om ramar"]

    client.post("/inbox/list/conversations", {"conversations": "0"})  # a row per message
    assert [s for s, _ in _rows(client, "ekramarna")] == ["Re: Pris på ramar", "Pris på ramar"]
    assert [s for s, _ in _rows(client, "fina ekramarna")] == ["Re: Pris på ramar"]
    client.post("/inbox/list/conversations", {"conversations": "1"})

    with app.extensions["mail"].sessions() as db:
        row = db.scalar(select(Message).where(Message.message_key == "ramar-3@kund.example"))
        conversation = row.conversation_id
    client.post("/inbox/messages/seen", {"ids": str(row.id), "seen": "1", "conversations": "1", "folder": "INBOX",
                                         "q": "tio"})
    with app.extensions["mail"].sessions() as db:
        read = dict(db.execute(select(Message.message_key, Message.seen).where(
            Message.conversation_id == conversation)).all())
    assert read == {"ramar-1@kund.example": True, "ramar-2@mail.test": True, "ramar-3@kund.example": True}


WORDS = {"sv": {"indexed": "indexerad", "all": "Alla mappar", "search": "Sök i aktuell mapp"},
         "en": {"indexed": "indexed", "all": "All folders", "search": "Search in the open folder"}}


@pytest.mark.parametrize(("database", "lang", "per_sync"), [("sqlite", "sv", 2), ("postgresql", "en", 2)],
                         indirect=["database"])
def test_searching_in_the_browser_while_and_after_indexing(app, lab, mailbox, inbox_page, lang):
    from playwright.sync_api import expect

    words = WORDS[lang]
    fill(lab, mailbox)
    page = inbox_page(lang)  # the first sync indexed the list fields and two bodies (the newest)
    with app.extensions["mail"].sessions() as db:  # bodies are missing: the next pass comes soon, not in 5 minutes
        account = db.scalar(select(Account))
        assert (account.next_sync_at.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds() < 20
    page.locator("#folder-title").click()
    inbox_link = page.locator(".folder-menu a").first
    expect(inbox_link).to_contain_text(f"{words['indexed']} 33 %")
    page.locator("#folder-title").click()
    rows = page.locator("#message-list .message")
    search = page.get_by_role("searchbox", name=words["search"])
    search.fill("zebrafinkarna")  # not indexed yet: the server's search finds it
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Leveransplan")

    client = Browser(app.test_client())
    client.sign_in(mailbox.address, "crm-password-1")
    for _ in range(4):  # each sync pass indexes two more bodies
        client.post("/inbox/refresh")
    page.goto(page.url)
    page.locator("#folder-title").click()
    expect(page.locator(".folder-menu")).not_to_contain_text(words["indexed"])
    page.locator("#folder-title").click()  # closed again (an open menu stays open while the list updates)

    search.fill('"nya avtalet"')
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Protokoll")
    search.fill("körsbär")  # only in the body of a message in Kunder
    expect(page.locator("#m-empty")).to_be_visible()
    page.get_by_label(words["all"]).check()
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".found-in")).to_have_text(KUNDER)
    expect(page).to_have_url(re.compile(r"all=1"))
    search.fill("from:anna")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Offert för våren")  # newest first
    expect(rows.nth(1)).to_contain_text("Gammal offert")
