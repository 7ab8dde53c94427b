"""Which message the reading pane goes on to when the open one leaves the list: the next in the list's
order, else the one before it, only among the rows the list shows; on a real (SQLite) database,
in every sort and direction, with ties on the sort value."""

from __future__ import annotations

from datetime import datetime

import pytest

from mailcore.models import Account, Folder, Message, User
from mailcore.reading.mailbox import SORTS, ListQuery, page, place_of, successor


@pytest.fixture(scope="module")
def folders(app):
    """An INBOX of 12 messages, dates, senders and subjects repeating (ties everywhere), and an Archive."""
    with app.extensions["mail"].sessions() as db:
        user = User(email="successor@inkorg.test", name="Anna Andersson", password_hash="x")
        account = Account(user=user, address=user.email, imap_host="imap.inkorg.test", imap_port=993, imap_ssl=True,
                          imap_username=user.email, imap_password=b"sealed", smtp_host="smtp.inkorg.test",
                          smtp_port=465, smtp_ssl=True, smtp_username=user.email, smtp_password=b"sealed")
        inbox, archive = Folder(account=account, name="INBOX", role="inbox"), Folder(account=account, name="Arkiv")
        db.add_all([inbox, archive])
        db.flush()
        for uid in range(1, 13):
            db.add(Message(folder_id=inbox.id, uid=uid, date=datetime(2026, 11, 1 + uid % 4, 9),
                           sender_name=f"S{uid % 3}", sender_address=f"s{uid % 3}@kund.example",
                           subject=f"Ärende {uid % 5}"))
        db.add(Message(folder_id=archive.id, uid=1, date=datetime(2026, 11, 1), subject="Arkiverat"))
        db.commit()
        return inbox.id, archive.id


@pytest.mark.parametrize("sort", sorted(SORTS))
@pytest.mark.parametrize("descending", [True, False])
def test_the_next_in_the_lists_order_else_the_one_before(app, folders, sort, descending):
    with app.extensions["mail"].sessions() as db:
        inbox = db.get(Folder, folders[0])
        query = ListQuery(inbox.id, sort=sort, descending=descending)
        listed = page(db, inbox, query).messages
        shown = {m.id for m in listed}
        for index, message in enumerate(listed):
            expected = listed[index + 1] if index + 1 < len(listed) else listed[index - 1]
            assert successor(db, inbox, query, place_of(message), shown) is expected, (sort, descending, index)
        # only rows the list shows: past the last one shown, the one before it
        assert successor(db, inbox, query, place_of(listed[5]), {m.id for m in listed[:6]}) is listed[4]


def test_a_search_and_another_folder(app, folders):
    with app.extensions["mail"].sessions() as db:
        inbox, archive = db.get(Folder, folders[0]), db.get(Folder, folders[1])
        query = ListQuery(inbox.id, search="Ärende 2")
        listed = page(db, inbox, query).messages
        assert len(listed) >= 2 and all(m.subject == "Ärende 2" for m in listed)
        assert successor(db, inbox, query, place_of(listed[0]), {m.id for m in listed}) is listed[1]
        elsewhere = page(db, archive, ListQuery(archive.id)).messages[0]
        assert successor(db, inbox, query, place_of(elsewhere), {m.id for m in listed}) is None
