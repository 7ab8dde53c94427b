"""Keeping each message's conversation as the sync stores messages (mailcore/threading.py decides).

A sync's batch of new rows gets its conversations before it is inserted (`thread_rows`), at a cost
of a handful of statements whatever its size: one look-up of the keys the rows name (in chunks), one
insert of the new conversations and of the new keys, and one update per table for the stored
conversations a row links (they merge). A reply joins its conversation without rethreading the
account; a removed message leaves its keys behind, so the messages it joined stay joined (JWZ's
empty container). Junk, Trash and Drafts are not threaded. Messages stored before threading (an
existing database) and the app's own Sent copies wait with a NULL conversation: `thread_folder`
fetches the keys of the former (three header lines) and threads them all.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.orm import Session

from mailcore.models import Conversation, Folder, Message, Role, ThreadKey
from mailcore.sync.listfields import header_block, header_lines
from mailcore.threading import Grouper, message_key, reference_keys

THREAD_HEADERS_ITEM = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID IN-REPLY-TO REFERENCES)]"
UNTHREADED = (Role.JUNK, Role.TRASH, Role.DRAFTS)  # a draft is not part of a conversation yet
_CHUNK = 2000  # ids in one IN list (SQLite takes 32,766 parameters)


def threaded(folder: Folder) -> bool:
    return folder.role not in UNTHREADED


def keys_of(headers: dict[bytes, bytes]) -> tuple[str, str]:
    """(message_key, reference_keys) as stored, from a header block's lines."""
    return (message_key(headers.get(b"message-id")),
            " ".join(reference_keys(headers.get(b"references"), headers.get(b"in-reply-to"))))


def keys_of_fetch(data: dict) -> tuple[str, str]:
    return keys_of(header_lines(header_block(data) or b""))


def pending(db: Session, folder: Folder) -> list[tuple[int, int, str | None, str | None]]:
    """(id, uid, message_key, reference_keys) of the folder's messages without a conversation."""
    return [tuple(r) for r in db.execute(
        select(Message.id, Message.uid, Message.message_key, Message.reference_keys)
        .where(Message.folder_id == folder.id, Message.conversation_id.is_(None)))]


def store_keys(db: Session, folder_id: int, keys: dict[int, tuple[str, str]]) -> None:
    """Keys fetched for messages stored before threading, by UID."""
    if not keys:
        return
    table = Message.__table__
    db.execute(table.update().where(table.c.folder_id == bindparam("f"), table.c.uid == bindparam("u"))
               .values(message_key=bindparam("k"), reference_keys=bindparam("r")),
               [{"f": folder_id, "u": uid, "k": key, "r": refs} for uid, (key, refs) in keys.items()])


def thread_messages(db: Session, account_id: int, messages: Iterable[tuple[int, str, str]]) -> int:
    """Give these stored messages (id, message_key, reference_keys) their conversations; how many."""
    assigned = _group(db, account_id, messages)
    if assigned:
        table = Message.__table__
        db.connection().execute(
            table.update().where(table.c.id == bindparam("i")).values(conversation_id=bindparam("c")),
            [{"i": message_id, "c": conversation} for message_id, conversation in assigned.items()])
    return len(assigned)


def thread_rows(db: Session, folder: Folder, rows: list[dict]) -> None:
    """Set `conversation_id` in a sync's new rows (with their keys) before they are inserted: no
    update of any row afterwards."""
    if not threaded(folder) or not rows:
        return
    assigned = _group(db, folder.account_id, ((n, r["message_key"] or "", r["reference_keys"] or "")
                                              for n, r in enumerate(rows)))
    for number, row in enumerate(rows):
        row["conversation_id"] = assigned[number]


def _group(db: Session, account_id: int, messages: Iterable[tuple[object, str, str]]) -> dict[object, int]:
    """Each message's conversation (stored keys looked up at once; new conversations, merges and
    new keys written), by the message's first element."""
    messages = list(messages)
    if not messages:
        return {}
    named = {key for _id, key, refs in messages for key in [key, *refs.split()] if key}
    grouper = Grouper(dict(_known(db, account_id, named)))
    for message_id, key, refs in messages:
        grouper.add(message_id, key, refs.split())
    new = sorted(grouper.new_conversations, reverse=True)
    numbers: dict[int, int] = {}
    if new:
        table = Conversation.__table__
        ids = db.connection().execute(table.insert().returning(table.c.id, sort_by_parameter_order=True),
                                      [{"account_id": account_id}] * len(new)).scalars().all()
        numbers = dict(zip(new, ids, strict=True))

    def number(conversation: int) -> int:
        return numbers.get(conversation, conversation)

    _merge(db, account_id, {old: number(kept) for old, kept in grouper.merged.items()})
    new_keys = grouper.new_key_conversations
    if new_keys:
        # on conflict: the app's own Sent copy and a sync may name a new key at the same moment
        db.connection().execute(_insert_ignoring(db, ThreadKey.__table__, ["account_id", "key"]),
                                [{"account_id": account_id, "key": k, "conversation_id": number(c)}
                                 for k, c in new_keys.items()])
    return {message_id: number(c) for message_id, c in grouper.assigned.items()}


def _insert_ignoring(db: Session, model, unique: list[str]):
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(model).on_conflict_do_nothing(index_elements=unique)


def _known(db: Session, account_id: int, keys: set[str]) -> Iterable[tuple[str, int]]:
    ordered = sorted(keys)
    for start in range(0, len(ordered), _CHUNK):
        yield from db.execute(select(ThreadKey.key, ThreadKey.conversation_id).where(
            ThreadKey.account_id == account_id, ThreadKey.key.in_(ordered[start:start + _CHUNK]))).all()


def _merge(db: Session, account_id: int, merged: dict[int, int]) -> None:
    """Stored conversations a message linked become one: their keys and messages go to the one kept
    (conversation ids are never reused nor shared between accounts)."""
    olds = sorted(merged)
    for start in range(0, len(olds), _CHUNK):
        chunk = olds[start:start + _CHUNK]
        kept = case({old: merged[old] for old in chunk}, value=ThreadKey.conversation_id)
        db.execute(update(ThreadKey).where(ThreadKey.account_id == account_id, ThreadKey.conversation_id.in_(chunk))
                   .values(conversation_id=kept), execution_options={"synchronize_session": False})
        kept = case({old: merged[old] for old in chunk}, value=Message.conversation_id)
        db.execute(update(Message).where(Message.conversation_id.in_(chunk)).values(conversation_id=kept),
                   execution_options={"synchronize_session": False})
        db.execute(Conversation.__table__.delete().where(Conversation.id.in_(chunk),
                                                         Conversation.account_id == account_id))


def thread_folder(db: Session, folder: Folder, fetch_keys=None, batch: int = 2000) -> int:
    """Thread the folder's messages that have no conversation yet; `fetch_keys(uids)` gives
    {uid: (message_key, reference_keys)} for those stored before threading (None: leave them)."""
    if not threaded(folder):
        return 0
    rows = pending(db, folder)
    if not rows:
        return 0
    unkeyed = [uid for _id, uid, key, _refs in rows if key is None]
    if unkeyed and fetch_keys is not None:
        fetched: dict[int, tuple[str, str]] = {}
        for start in range(0, len(unkeyed), batch):
            chunk = unkeyed[start:start + batch]
            found = fetch_keys(chunk)
            # a message the server cannot describe is threaded on its own
            fetched.update({uid: found.get(uid, ("", "")) for uid in chunk})
        store_keys(db, folder.id, fetched)
        rows = [(i, uid, *fetched[uid]) if uid in fetched else (i, uid, key, refs) for i, uid, key, refs in rows]
    ready = [(i, key, refs or "") for i, _uid, key, refs in rows if key is not None]
    return thread_messages(db, folder.account_id, ready)
