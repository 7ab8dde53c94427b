"""The list's keyset paging on a real (SQLite) database: every message once, in order, whichever
sort and direction, even when whole pages share one date, sender or subject."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from mailcore.models import Account, Folder, Message, User
from mailcore.reading.mailbox import PAGE, SORTS, ListQuery, folder_of, folders, message_of, page

COUNT = 120  # more than two pages of PAGE (50)
SAME_DATE = datetime(2025, 6, 16, 9, 0)
_users = itertools.count(1)


def _account(db) -> Account:
    number = next(_users)
    user = User(email=f"paging{number}@inkorg.test", name="Anna Andersson", password_hash="x")
    account = Account(user=user, address=user.email, imap_host="imap.inkorg.test", imap_port=993, imap_ssl=True,
                      imap_username=user.email, imap_password=b"sealed", smtp_host="smtp.inkorg.test",
                      smtp_port=465, smtp_ssl=True, smtp_username=user.email, smtp_password=b"sealed")
    db.add(account)
    return account


@pytest.fixture(scope="module")
def mailbox(app):
    """An INBOX of 120 messages that all share a date (a bulk import); senders and subjects repeat,
    so every sort has ties across page boundaries. Another account's INBOX sits beside it."""
    with app.extensions["mail"].sessions() as db:
        account, other = _account(db), _account(db)
        inbox = Folder(account=account, name="INBOX", role="inbox")
        archive = Folder(account=account, name="Arkiv", role="archive")
        elsewhere = Folder(account=other, name="INBOX", role="inbox")
        db.add_all([inbox, archive, elsewhere])
        db.flush()
        for uid in range(1, COUNT + 1):
            db.add(Message(folder_id=inbox.id, uid=uid, date=SAME_DATE, sender_name=f"Avsändare {uid % 3}",
                           sender_address=f"s{uid % 3}@kund.example", subject=f"Ärende {uid % 4}"))
        subjects = {1: "Rabatt 100% på allt", 2: "kund_offert.pdf", 3: "kund-offert.pdf", 4: "C:\\rapport"}
        for uid in range(1, 31):
            db.add(Message(folder_id=archive.id, uid=uid, date=datetime(2024, 1, uid),
                           subject=subjects.get(uid, f"Arkiv {uid}"), sender_name="Arkivarie"))
            db.add(Message(folder_id=elsewhere.id, uid=uid, date=SAME_DATE, subject="Någon annans"))
        db.commit()
        return account.id, inbox.id, other.id, archive.id


def _all_pages(db, folder, **query) -> tuple[list[Message], int]:
    shown, cursor, pages = [], None, 0
    while True:
        result = page(db, folder, ListQuery(folder.id, after=cursor, **query))
        pages += 1
        assert len(result.messages) <= PAGE
        shown.extend(result.messages)
        cursor = result.next_cursor
        if cursor is None:
            return shown, pages
        assert pages < 10, "the cursor does not move on"


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("sort", sorted(SORTS))
def test_paging_shows_every_message_once_in_order(app, mailbox, sort, descending):
    _account_id, inbox_id, _other, _archive = mailbox
    with app.extensions["mail"].sessions() as db:
        inbox = db.get(Folder, inbox_id)
        shown, pages = _all_pages(db, inbox, sort=sort, descending=descending)
    ids = [m.id for m in shown]
    assert len(ids) == COUNT and len(set(ids)) == COUNT
    assert pages == 3
    assert {m.folder_id for m in shown} == {inbox_id}
    keys = [(getattr(m, SORTS[sort].key), m.id) for m in shown]
    assert keys == sorted(keys, reverse=descending)


@pytest.mark.parametrize("search,count", [("Ärende 1", 30), ("avsändare 2", 40), ("S0@KUND", 40),
                                          ("Någon annans", 0), ("%", 0), ("_", 0)])
def test_search_pages_only_the_folders_matches(app, mailbox, search, count):
    _account_id, inbox_id, _other, _archive = mailbox
    with app.extensions["mail"].sessions() as db:
        shown, _pages = _all_pages(db, db.get(Folder, inbox_id), search=search, sort="subject")
    assert len({m.id for m in shown}) == len(shown) == count


@pytest.mark.parametrize("search,subjects", [
    ("100%", ["Rabatt 100% på allt"]),
    ("%", ["Rabatt 100% på allt"]),
    ("kund_offert", ["kund_offert.pdf"]),
    ("kund-offert", ["kund-offert.pdf"]),
    ("_", ["kund_offert.pdf"]),
    ("C:\\r", ["C:\\rapport"]),
    ("Arkiv 1", [f"Arkiv {n}" for n in range(10, 20)]),
])
def test_percent_and_underscore_are_searched_for_as_themselves(app, mailbox, search, subjects):
    *_rest, archive_id = mailbox
    with app.extensions["mail"].sessions() as db:
        shown, _pages = _all_pages(db, db.get(Folder, archive_id), search=search, sort="subject", descending=False)
    assert [m.subject for m in shown] == subjects


@pytest.mark.parametrize("cursor", ["garbage", "12|not-a-date", "|", "-", "99999999999999999999999|2025-06-16",
                                    "x|2025-06-16T09:00:00"])
def test_an_edited_cursor_starts_from_the_first_page(app, mailbox, cursor):
    _account_id, inbox_id, _other, _archive = mailbox
    with app.extensions["mail"].sessions() as db:
        inbox = db.get(Folder, inbox_id)
        first = page(db, inbox, ListQuery(inbox.id))
        assert page(db, inbox, ListQuery(inbox.id, after=cursor)).messages == first.messages


def test_folders_and_messages_are_only_the_owners(app, mailbox):
    account_id, inbox_id, other_id, _archive = mailbox
    with app.extensions["mail"].sessions() as db:
        account, other = db.get(Account, account_id), db.get(Account, other_id)
        assert [f.name for f in folders(db, account)] == ["INBOX", "Arkiv"]
        assert folder_of(db, account, None).id == inbox_id
        assert folder_of(db, other, inbox_id) is None
        mine = page(db, db.get(Folder, inbox_id), ListQuery(inbox_id)).messages[0]
        assert message_of(db, account, mine.id) is mine
        assert message_of(db, other, mine.id) is None


@pytest.fixture(scope="module")
def conversations(app):
    """An INBOX of 150 messages in 20 conversations interleaved in time, every fifth not threaded;
    two in three say "Offert" (the rest "Annat"), so a conversation's newest message is often not its
    newest match."""
    with app.extensions["mail"].sessions() as db:
        account = _account(db)
        inbox = Folder(account=account, name="INBOX", role="inbox")
        db.add(inbox)
        db.flush()
        for uid in range(1, 151):
            db.add(Message(folder_id=inbox.id, uid=uid, date=datetime(2025, 1, 1 + uid % 28, uid % 24),
                           subject="Offert" if uid % 3 else "Annat", sender_name=f"Kund {uid % 7}",
                           conversation_id=None if uid % 5 == 0 else 1_000_000 + uid % 20))
        db.commit()
        return inbox.id


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("sort", sorted(SORTS))
def test_a_search_by_conversation_pages_each_conversation_once_by_its_newest_match(app, conversations, sort,
                                                                                   descending):
    with app.extensions["mail"].sessions() as db:
        inbox = db.get(Folder, conversations)
        matching = [m for m in db.query(Message).filter_by(folder_id=inbox.id) if m.subject == "Offert"]
        newest: dict[int, Message] = {}
        for m in matching:
            if m.conversation_id is not None and (m.conversation_id not in newest or
                                                  (m.date, m.id) > (newest[m.conversation_id].date,
                                                                    newest[m.conversation_id].id)):
                newest[m.conversation_id] = m
        expected = {m.id for m in newest.values()} | {m.id for m in matching if m.conversation_id is None}
        shown, pages = _all_pages(db, inbox, search="offert", conversations=True, sort=sort, descending=descending,
                                  limit=15)
        assert [m.id for m in shown] == list(dict.fromkeys(m.id for m in shown))  # none twice
        assert {m.id for m in shown} == expected and pages >= 2
        key = {"date": lambda m: (m.date, m.id), "sender": lambda m: (m.sender_name, m.id),
               "subject": lambda m: (m.subject, m.id)}[sort]
        assert [key(m) for m in shown] == sorted(map(key, shown), reverse=descending)
