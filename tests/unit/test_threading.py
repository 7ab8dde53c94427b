"""Conversations over a corpus of the shapes real mail has: parents missing or arriving after their
replies, replies that name only In-Reply-To, References broken in the middle, duplicate
Message-IDs, loops, the same subject from two customers, the user's reply in Sent to a message in
INBOX, a mailing-list digest. The trees (mailcore.threading.thread) and the conversations the sync
stores batch by batch (mailcore.sync.conversations) must agree, in whatever order and batches the
messages come."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from mailcore.models import Account, Conversation, Folder, Message, ThreadKey, User
from mailcore.sync import conversations
from mailcore.sync.conversations import keys_of
from mailcore.sync.listfields import header_lines
from mailcore.threading import Item, conversations_of, message_key, reference_keys, thread

START = datetime(2025, 3, 3, 9, 0)
_users = itertools.count(1)
_uids = itertools.count(1)


def mail(name: str, folder: str = "INBOX", **headers: str) -> tuple[str, str, bytes]:
    """(name, folder, header block); header names as keyword arguments (in_reply_to -> In-Reply-To)."""
    lines = "".join(f"{k.replace('_', '-').title()}: {v}\r\n" for k, v in headers.items())
    return name, folder, lines.encode()


# Each shape: its messages, and the conversations they must make (by name).
CORPUS = {
    "parent after its replies": (
        [mail("c", message_id="<c@x>", references="<a@x> <b@x>", in_reply_to="<b@x>"),
         mail("b", message_id="<b@x>", references="<a@x>", in_reply_to="<a@x>"),
         mail("a", message_id="<a@x>")],
        [{"a", "b", "c"}]),
    "missing parent, two replies to it": (
        [mail("r1", message_id="<r1@x>", references="<gone@x>"),
         mail("r2", message_id="<r2@x>", in_reply_to="<gone@x>")],
        [{"r1", "r2"}]),
    "In-Reply-To only (Outlook)": (
        [mail("q", message_id="<q@kund>"),
         mail("svar", message_id="<svar@kund>", in_reply_to="Your message of Monday <q@kund>")],
        [{"q", "svar"}]),
    "References broken in the middle": (
        [mail("1", message_id="<1@l>"),
         mail("2", message_id="<2@l>", references="<1@l>"),
         mail("4", message_id="<4@l>", references="<1@l> <3@l>"),  # 3 never received, 2 left out
         mail("5", message_id="<5@l>", references="<3@l> <4@l>")],  # the start cut off
        [{"1", "2", "4", "5"}]),
    "References cut to the last id, In-Reply-To beside": (
        [mail("root", message_id="<root@y>"),
         mail("deep", message_id="<deep@y>", references="<mid@y>", in_reply_to="<root@y>")],
        [{"root", "deep"}]),
    "duplicate Message-ID: the copy in Archive": (
        [mail("inbox copy", message_id="<dup@x>"),
         mail("archive copy", "Arkiv", message_id="<dup@x>"),
         mail("reply", message_id="<re@x>", references="<dup@x>")],
        [{"inbox copy", "archive copy", "reply"}]),
    "a loop in References": (
        [mail("l1", message_id="<l1@x>", references="<l2@x>"),
         mail("l2", message_id="<l2@x>", references="<l1@x>"),
         mail("self", message_id="<self@x>", references="<self@x>")],
        [{"l1", "l2"}, {"self"}]),
    "same subject from two customers": (
        [mail("anna", message_id="<a1@anna>", subject="Re: Offert", from_="anna@kund.example"),
         mail("bo", message_id="<b1@bo>", subject="Re: Offert", from_="bo@firma.example"),
         mail("nothing at all", subject="Re: Offert")],
        [{"anna"}, {"bo"}, {"nothing at all"}]),
    "the user's reply in Sent": (
        [mail("question", message_id="<q1@kund.example>"),
         mail("my reply", "Sent", message_id="<r1@inkorg.test>", in_reply_to="<q1@kund.example>",
              references="<q1@kund.example>"),
         mail("their answer", message_id="<q2@kund.example>", references="<q1@kund.example> <r1@inkorg.test>")],
        [{"question", "my reply", "their answer"}]),
    "a mailing-list digest": (
        [mail("post", message_id="<post@list>"),
         mail("digest", message_id="<digest-7@list>"),  # a digest names none of the posts it holds
         mail("reply to the digest", message_id="<rd@x>", in_reply_to="<digest-7@list>"),
         mail("reply to the post", message_id="<rp@x>", references="<post@list>")],
        [{"post", "reply to the post"}, {"digest", "reply to the digest"}]),
    "two conversations a message links": (
        [mail("x", message_id="<x@m>"), mail("y", message_id="<y@m>"),
         mail("link", message_id="<link@m>", references="<x@m> <y@m>")],
        [{"x", "y", "link"}]),
    "ids without brackets, spaces, no Message-ID": (
        [mail("bare", message_id="bare@old.example"),
         mail("spaced", message_id="< spaced@x >", references="<bare@old.example>"),
         mail("none")],
        [{"bare", "spaced"}, {"none"}]),
}


def items(messages) -> list[Item]:
    found = []
    for number, (name, _folder, block) in enumerate(messages):
        key, refs = keys_of(header_lines(block))
        found.append(Item(name, key, refs.split(), START + timedelta(minutes=number)))
    return found


def partition(groups) -> set[frozenset]:
    return {frozenset(g) for g in groups}


@pytest.mark.parametrize("shape", CORPUS)
def test_the_trees_make_the_expected_conversations(shape):
    messages, expected = CORPUS[shape]
    for order in (messages, list(reversed(messages))):
        found = conversations_of(items(order))
        assert partition([m.id for m in group] for group in found) == partition(expected)


def test_a_reply_hangs_under_its_parent_and_a_missing_parent_is_an_empty_container():
    roots = thread(items(CORPUS["parent after its replies"][0]))
    assert [r.key for r in roots] == ["a@x"]
    assert [c.key for c in roots[0].children] == ["b@x"] and roots[0].children[0].children[0].key == "c@x"
    empty = thread(items(CORPUS["missing parent, two replies to it"][0]))
    assert len(empty) == 1 and empty[0].message is None and empty[0].key == "gone@x"
    assert sorted(c.key for c in empty[0].children) == ["r1@x", "r2@x"]


def test_a_loop_leaves_every_message_in_exactly_one_tree():
    roots = thread(items(CORPUS["a loop in References"][0]))
    seen = [m.id for r in roots for m in r.messages()]
    assert sorted(seen) == ["l1", "l2", "self"]


def test_keys_are_read_as_servers_send_them():
    assert message_key(b"<Abc.123@Kund.Example>") == "Abc.123@Kund.Example"
    assert message_key(b"  \r\n <a@b>") == "a@b"
    assert message_key(b"<a\x00b@x\x01>") == "ab@x"
    assert message_key(b"") == "" and message_key(None) == "" and message_key(b"no id here") == ""
    assert reference_keys(b"<a@x>\r\n <b@x> <a@x>", b"<c@x> (comment)") == ["a@x", "b@x", "c@x"]
    assert reference_keys(None, b"<c@x> <d@x>") == ["c@x"]
    long = " ".join(f"<{n}@x>" for n in range(500)).encode()
    chain = reference_keys(long, None)
    assert len(chain) == 60 and chain[0] == "0@x" and chain[-1] == "499@x"


# --- the same, stored batch by batch ----------------------------------------------------------


def _account(db) -> tuple[Account, dict[str, Folder]]:
    number = next(_users)
    user = User(email=f"thread{number}@inkorg.test", name="Anna Andersson", password_hash="x")
    account = Account(user=user, address=user.email, imap_host="imap.inkorg.test", imap_port=993, imap_ssl=True,
                      imap_username=user.email, imap_password=b"sealed", smtp_host="smtp.inkorg.test",
                      smtp_port=465, smtp_ssl=True, smtp_username=user.email, smtp_password=b"sealed")
    db.add(account)
    folders = {name: Folder(account=account, name=name, role=role) for name, role in
               (("INBOX", "inbox"), ("Sent", "sent"), ("Arkiv", "archive"), ("Trash", "trash"))}
    db.add_all(folders.values())
    db.flush()
    return account, folders


def _store(db, folders, messages, batches: list[int], keyed: bool = True) -> dict[str, int]:
    """Store the messages in batches of these sizes, threading after each as a sync does."""
    ids = {}
    position = 0
    for size in batches:
        touched = set()
        for name, folder, block in messages[position:position + size]:
            key, refs = keys_of(header_lines(block)) if keyed else (None, None)
            row = Message(folder_id=folders[folder].id, uid=next(_uids), date=START, subject=name,
                          message_key=key, reference_keys=refs)
            db.add(row)
            db.flush()
            ids[name] = row.id
            touched.add(folders[folder])
        for folder in touched:
            conversations.thread_folder(db, folder)
        position += size
    return ids


def _stored_partition(db, ids: dict[str, int]) -> set[frozenset]:
    by_conversation: dict[int | None, set] = {}
    names = {v: k for k, v in ids.items()}
    for message_id, conversation in db.execute(select(Message.id, Message.conversation_id)
                                               .where(Message.id.in_(ids.values()))):
        assert conversation is not None, names[message_id]
        by_conversation.setdefault(conversation, set()).add(names[message_id])
    return partition(by_conversation.values())


@pytest.mark.parametrize("shape", CORPUS)
def test_stored_conversations_match_in_any_order_and_batches(app, shape):
    messages, expected = CORPUS[shape]
    shuffle = random.Random(shape)
    with app.extensions["mail"].sessions() as db:
        for attempt in range(4):
            order = list(messages)
            shuffle.shuffle(order)
            batches = [len(order)] if attempt == 0 else [1] * len(order) if attempt == 1 else [2] * len(order)
            _account_row, folders = _account(db)
            ids = _store(db, folders, order, batches)
            assert _stored_partition(db, ids) == partition(expected), (order, batches)
        db.rollback()


def test_a_reply_joins_and_a_link_merges_without_rethreading(app):
    with app.extensions["mail"].sessions() as db:
        account, folders = _account(db)
        ids = _store(db, folders, [mail("x", message_id="<x@m>"), mail("y", message_id="<y@m>")], [2])
        first = db.get(Message, ids["x"]).conversation_id
        assert first != db.get(Message, ids["y"]).conversation_id
        count = db.scalar(select(func.count()).select_from(Conversation).where(Conversation.account_id == account.id))
        assert count == 2
        reply = _store(db, folders, [mail("reply", "Sent", message_id="<r@m>", references="<x@m>")], [1])
        assert db.get(Message, reply["reply"]).conversation_id == first  # joined, nothing else touched
        link = _store(db, folders, [mail("link", message_id="<l@m>", references="<y@m> <r@m>")], [1])
        merged = {db.get(Message, i).conversation_id for i in (*ids.values(), reply["reply"], link["link"])}
        assert len(merged) == 1 and merged == {min(c for c in merged)}
        assert set(db.scalars(select(Conversation.id).where(Conversation.account_id == account.id))) == merged
        assert set(db.scalars(select(ThreadKey.conversation_id).where(ThreadKey.account_id == account.id))) \
            == merged
        db.rollback()


def test_a_removed_message_leaves_its_conversation_joined(app):
    with app.extensions["mail"].sessions() as db:
        _account_row, folders = _account(db)
        ids = _store(db, folders, [mail("a", message_id="<a@d>"), mail("b", message_id="<b@d>", references="<a@d>")],
                     [2])
        conversation = db.get(Message, ids["a"]).conversation_id
        db.delete(db.get(Message, ids["a"]))
        db.flush()
        late = _store(db, folders, [mail("c", message_id="<c@d>", in_reply_to="<a@d>")], [1])
        assert db.get(Message, late["c"]).conversation_id == conversation == db.get(Message, ids["b"]).conversation_id
        db.rollback()


def test_trash_and_junk_are_not_threaded_and_accounts_never_meet(app):
    with app.extensions["mail"].sessions() as db:
        _one, folders = _account(db)
        _two, others = _account(db)
        ids = _store(db, folders, [mail("a", message_id="<same@x>"), mail("t", "Trash", message_id="<t@x>",
                                                                          references="<same@x>")], [2])
        theirs = _store(db, others, [mail("b", message_id="<b@x>", references="<same@x>")], [1])
        assert db.get(Message, ids["t"]).conversation_id is None
        assert db.get(Message, theirs["b"]).conversation_id != db.get(Message, ids["a"]).conversation_id
        db.rollback()


def test_messages_stored_before_threading_get_their_keys_fetched(app):
    """An existing database: rows without keys; the sync's pass fetches three header lines for them."""
    messages = CORPUS["the user's reply in Sent"][0]
    blocks = {name: block for name, _folder, block in messages}
    with app.extensions["mail"].sessions() as db:
        _account_row, folders = _account(db)
        ids = _store(db, folders, messages, [len(messages)], keyed=False)
        assert db.scalar(select(func.count()).where(Message.id.in_(ids.values()),
                                                    Message.conversation_id.is_(None))) == 3
        asked = []

        def fetch_keys(uids):
            asked.append(sorted(uids))
            rows = db.execute(select(Message.uid, Message.subject).where(Message.uid.in_(uids),
                                                                         Message.id.in_(ids.values())))
            return {uid: keys_of(header_lines(blocks[name])) for uid, name in rows}

        for folder in folders.values():
            conversations.thread_folder(db, folder, fetch_keys)
        assert _stored_partition(db, ids) == partition(CORPUS["the user's reply in Sent"][1])
        assert sorted(u for chunk in asked for u in chunk) == sorted(db.get(Message, i).uid for i in ids.values())
        assert db.get(Message, ids["my reply"]).message_key == "r1@inkorg.test"
        db.rollback()
