"""Conversations against the real Dovecot, on SQLite and PostgreSQL: a first sync threads INBOX and
Sent together (the user's reply in its place, a customer's "Re: Offert" of the same subject apart);
the list shows a row per conversation with its count; the reading pane shows the whole conversation;
Mark as read from the list acts on the conversation's messages in the folder, on the server too; the
choice of a list by message is remembered; and messages stored before threading get their keys and
conversations from the next sync. The schema on PostgreSQL is the models'."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest
from sqlalchemy import delete, select, update

from app import create_app
from localmail import services
from mailcore.models import Conversation, Folder, Message, ThreadKey, User

from .helpers import connected, schema_differences, server_flags


def _mail(sender: str, to: str, subject: str, message_id: str, **links: str) -> EmailMessage:
    item = EmailMessage()
    item["From"], item["To"], item["Subject"], item["Message-ID"] = sender, to, subject, message_id
    for name, value in links.items():
        item[name.replace("_", "-").title()] = value
    item.set_content(f"{subject}: text of {message_id}")
    return item


def _conversation_mailbox(lab, mailbox) -> None:
    me = mailbox.address
    lab.append(me, _mail("Kund Karlsson <kund@kund.example>", me, "Offert", "<q1@kund.example>"), seen=True)
    lab.append(me, _mail(me, "kund@kund.example", "Re: Offert", "<r1@inkorg.test>", in_reply_to="<q1@kund.example>",
                         references="<q1@kund.example>"), folder="Sent", seen=True)
    lab.append(me, _mail("Kund Karlsson <kund@kund.example>", me, "Re: Offert", "<q2@kund.example>",
                         in_reply_to="<r1@inkorg.test>"))  # Outlook: In-Reply-To only
    lab.append(me, _mail("Other Customer <o@firma.example>", me, "Re: Offert", "<o1@firma.example>",
                         references="<unrelated@firma.example>"))


def _rows(page: str) -> list[str]:
    return re.findall(r'<li class="message[^"]*" id="m-(\d+)"', page)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_app(request, app_config):
    if request.param == "sqlite":
        yield create_app(app_config)
        return
    with services.fresh_database("inkorg_threads") as url:
        app = create_app({**app_config, "DATABASE_URL": url})
        yield app
        app.extensions["mail"].engine.dispose()


def test_a_conversation_across_inbox_and_sent(any_database_app, lab, mailbox):
    app = any_database_app
    _conversation_mailbox(lab, mailbox)
    browser = connected(app, mailbox)
    browser.post("/inbox/refresh")
    with app.extensions["mail"].sessions() as db:
        by_key = {m.message_key: m for m in db.scalars(select(Message))}
        question, reply, answer, other = (by_key[k] for k in ("q1@kund.example", "r1@inkorg.test", "q2@kund.example",
                                                                "o1@firma.example"))
        assert question.conversation_id == reply.conversation_id == answer.conversation_id is not None
        assert other.conversation_id != question.conversation_id  # the same subject, another customer
        inbox = db.scalar(select(Folder).where(Folder.role == "inbox"))
        answer_id, question_id, reply_id, inbox_id = answer.id, question.id, reply.id, inbox.id

    page = browser.get(f"/inbox/?folder={inbox_id}").get_data(as_text=True)
    rows = _rows(page)
    assert len(rows) == 5 and str(answer_id) in rows and str(question_id) not in rows  # 3 others + 2 conversations
    row = re.search(rf'<li class="([^"]*)" id="m-{answer_id}".*?</li>', page, re.DOTALL)
    assert row.group(1) == "message unread conversation" and 'class="count" title="2 messages">2<' in row.group(0)

    pane = browser.get(f"/inbox/message/{answer_id}", htmx=True).get_data(as_text=True)
    shown = re.findall(r'data-conversation-message="(\d+)"', pane)
    assert shown == [str(question_id), str(reply_id)]  # oldest first, the reply from Sent in its place

    browser.post("/inbox/messages/seen", {"ids": str(answer_id), "seen": "0", "conversations": "1",
                                          "folder": str(inbox_id)})
    flags = server_flags(lab, mailbox.address)
    assert b"\\Seen" not in flags["Offert"] and all(b"\\Seen" not in f for s, f in flags.items() if s == "Re: Offert")
    assert b"\\Seen" in server_flags(lab, mailbox.address, "Sent")["Re: Offert"]  # another folder: untouched

    browser.post("/inbox/list/conversations", {"conversations": "0"})
    assert len(_rows(browser.get(f"/inbox/?folder={inbox_id}").get_data(as_text=True))) == 6
    with app.extensions["mail"].sessions() as db:
        assert db.scalar(select(User.list_conversations).where(User.email == mailbox.address)) is False
        if db.get_bind().dialect.name == "postgresql":
            with db.get_bind().connect() as connection:
                assert schema_differences(connection) == []


def test_messages_stored_before_threading_are_threaded_by_the_next_sync(app, lab, mailbox):
    _conversation_mailbox(lab, mailbox)
    browser = connected(app, mailbox)
    browser.post("/inbox/refresh")
    with app.extensions["mail"].sessions() as db:  # as a database from before threading has them
        db.execute(update(Message).values(message_key=None, reference_keys=None, conversation_id=None))
        db.execute(delete(ThreadKey))
        db.execute(delete(Conversation))
        db.commit()
    browser.post("/inbox/refresh")
    with app.extensions["mail"].sessions() as db:
        messages = list(db.scalars(select(Message)))
        assert all(m.message_key is not None and m.conversation_id is not None for m in messages)
        by_key = {m.message_key: m.conversation_id for m in messages}
        assert by_key["q1@kund.example"] == by_key["r1@inkorg.test"] == by_key["q2@kund.example"]
        assert len({m.conversation_id for m in messages}) == len(messages) - 2  # the others apart


def test_a_conversation_in_the_browser(app, inbox_page, lab, mailbox):
    """Chromium: the conversation's row, the whole conversation in the pane, a line opened in place,
    the list switched to messages and back with the button in the list's tools; no console error."""
    pytest.importorskip("playwright.sync_api")
    from playwright.sync_api import expect

    _conversation_mailbox(lab, mailbox)
    page = inbox_page("en")
    page.get_by_role("button", name="Refresh").click()
    row = page.locator("#message-list .message.conversation")
    expect(row).to_have_count(1)
    expect(row.locator(".count")).to_have_text("2")
    row.locator("a").click()
    pane = page.locator("#reading")
    expect(pane.locator("h2")).to_have_text("Re: Offert")
    lines = pane.locator("details.conversation-message")
    expect(lines).to_have_count(2)
    expect(lines.nth(1)).to_contain_text("Sent")  # the user's reply, in its place
    lines.nth(0).locator("summary").click()
    expect(lines.nth(0).locator(".conversation-body")).to_contain_text("Offert: text of <q1@kund.example>")
    page.keyboard.press("Escape")
    page.locator(".list-mode button").click()
    expect(page.locator(".list-mode button")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#message-list .message")).to_have_count(6)
    page.locator(".list-mode button").click()
    expect(page.locator("#message-list .message")).to_have_count(5)


def test_move_from_the_list_moves_the_conversations_messages_and_undo_brings_them_back(app, lab, mailbox):
    _conversation_mailbox(lab, mailbox)
    lab.create_folder(mailbox.address, "Arkiv")
    browser = connected(app, mailbox)
    browser.post("/inbox/refresh")
    with app.extensions["mail"].sessions() as db:
        answer = db.scalar(select(Message).where(Message.message_key == "q2@kund.example"))
        inbox, archive = (db.scalar(select(Folder).where(Folder.name == name)) for name in ("INBOX", "Arkiv"))
        answer_id, inbox_id, archive_id = answer.id, inbox.id, archive.id
    moved = browser.post("/inbox/messages/move", {"ids": str(answer_id), "conversations": "1",
                                                  "target": str(archive_id), "folder": str(inbox_id)})
    moved = moved.get_data(as_text=True)
    assert "2 messages moved to Archive." in moved
    assert sorted(server_flags(lab, mailbox.address, "Arkiv")) == ["Offert", "Re: Offert"]
    assert "Offert" not in server_flags(lab, mailbox.address)  # the other customer's "Re: Offert" stays
    undo = {name: re.search(rf'name="{name}" value="([^"]*)"', moved).group(1) for name in ("moved_to", "home", "uids")}
    browser.post("/inbox/messages/undo", {**undo, "folder": str(inbox_id)})
    assert server_flags(lab, mailbox.address, "Arkiv") == {}
    assert "Offert" in server_flags(lab, mailbox.address)


def test_the_corpus_threads_the_same_on_postgresql(app_config):
    """The awkward shapes of tests/unit/test_threading.py, stored batch by batch on PostgreSQL: joins,
    merges of stored conversations (one statement per table), keys never doubled."""
    from .unit.test_threading import CORPUS, _account, _store, _stored_partition, partition

    with services.fresh_database("inkorg_threads") as url:
        app = create_app({**app_config, "DATABASE_URL": url})
        with app.extensions["mail"].sessions() as db:
            for shape, (messages, expected) in CORPUS.items():
                for batches in ([len(messages)], [1] * len(messages)):
                    _account_row, folders = _account(db)
                    ids = _store(db, folders, list(reversed(messages)), batches)
                    assert _stored_partition(db, ids) == partition(expected), (shape, batches)
            db.commit()
            keys = db.execute(select(ThreadKey.account_id, ThreadKey.key)).all()
            assert len(keys) == len(set(keys))
        app.extensions["mail"].engine.dispose()
