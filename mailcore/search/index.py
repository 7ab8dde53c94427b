"""The search index: what a message's words are, and where they are kept.

Words are folded the same way for what is stored and what is searched: lower case, and every
diacritic dropped except those of å, ä and ö, which are letters of their own in Swedish (ö is not o).
What is stored is the folded words with one space between them (`message_texts`), so SQLite's FTS5
(`unicode61`, no diacritics removed: ours are already) and PostgreSQL's `simple` parser both see the
same plain words. SQLite reads them through the FTS5 table `message_search` (its content is
`message_texts`, kept equal by triggers); PostgreSQL through a GIN index over the stored vector `SEARCH_VECTOR`.

A message's `search_state` says how far it is indexed: 0 not at all, 1 the list's fields (subject,
sender, recipients the list knows), 2 with its body and attachment names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from mailcore.models import Message, MessageText

MAX_BODY = 200_000  # characters of a body that are indexed
NOT_INDEXED, LISTED, WHOLE = 0, 1, 2
KEPT = "åäöÅÄÖ"

# PostgreSQL: each message's words as a vector without positions or weights, stored in
# `message_texts.search_vector`, a column generated from its words (migration 0024) and kept out of the
# models; the GIN index `ix_message_texts_search` is over it. Fields and phrases are checked against the
# stored words (mailcore/search/query.py).
SEARCH_VECTOR = "search_vector"
FTS_COLUMNS = ("subject", "sender", "recipients", "attachments", "body")
SQLITE_SCHEMA = [
    "CREATE VIRTUAL TABLE message_search USING fts5(subject, sender, recipients, attachments, body, "
    "content='message_texts', content_rowid='message_id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER message_texts_added AFTER INSERT ON message_texts BEGIN "
    "INSERT INTO message_search(rowid, subject, sender, recipients, attachments, body) "
    "VALUES (new.message_id, new.subject, new.sender, new.recipients, new.attachments, new.body); END",
    "CREATE TRIGGER message_texts_removed AFTER DELETE ON message_texts BEGIN "
    "INSERT INTO message_search(message_search, rowid, subject, sender, recipients, attachments, body) "
    "VALUES ('delete', old.message_id, old.subject, old.sender, old.recipients, old.attachments, old.body); END",
    "CREATE TRIGGER message_texts_changed AFTER UPDATE ON message_texts BEGIN "
    "INSERT INTO message_search(message_search, rowid, subject, sender, recipients, attachments, body) "
    "VALUES ('delete', old.message_id, old.subject, old.sender, old.recipients, old.attachments, old.body); "
    "INSERT INTO message_search(rowid, subject, sender, recipients, attachments, body) "
    "VALUES (new.message_id, new.subject, new.sender, new.recipients, new.attachments, new.body); END",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS message_texts_changed", "DROP TRIGGER IF EXISTS message_texts_removed",
               "DROP TRIGGER IF EXISTS message_texts_added", "DROP TABLE IF EXISTS message_search"]
INDEX_OBJECTS = {"message_search", "ix_message_texts_search", SEARCH_VECTOR}


def schema_filter(_object, name, type_, _reflected, _compare_to) -> bool:
    """Alembic's `include_object`: the index's own objects (the FTS5 table and its shadow tables; the
    stored vector and its GIN index) are made by migrations 0020 and 0024 for one database each and
    are no model's."""
    return not (name and (name in INDEX_OBJECTS or name.startswith("message_search_")))


def _folding() -> dict[int, str]:
    table: dict[int, str] = {}
    for number in [*range(0x80, 0x2500), *range(0xFB00, 0xFB07), *range(0xFF01, 0xFF5F)]:  # ligatures, full width
        char = chr(number)
        if char in KEPT:
            continue
        bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        if bare != char:
            table[number] = bare
    return table


_FOLD = _folding()
_WORD = re.compile(r"\w+")
_FOLDED = re.compile("[" + "".join(map(chr, sorted(_FOLD))) + "]")  # the few letters to change, found in C


def _folded(match: re.Match) -> str:
    return _FOLD[ord(match.group())]


def fold(text: str) -> str:
    """Lower case, diacritics dropped but å, ä, ö kept (written composed or not)."""
    if not text.isascii():
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        text = _FOLDED.sub(_folded, text)
    return text.lower()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def plain(text: str) -> str:
    """The folded words of `text`, one space between them: what the index stores."""
    return " ".join(words(text))


def texts_of_rows(rows: Iterable) -> list[dict]:
    """`message_texts` rows for messages as the list knows them (subject, sender, recipients)."""
    return [{"message_id": row.id, "subject": plain(row.subject or ""),
             "sender": plain(f"{row.sender_name or ''} {row.sender_address or ''}"),
             "recipients": plain(row.recipients or ""), "attachments": "", "body": ""} for row in rows]


def store(db: Session, texts: list[dict], state: int) -> None:
    """Put these messages' words in the index (replacing what it had of them) and mark how far."""
    if not texts:
        return
    ids = [t["message_id"] for t in texts]
    connection = db.connection()  # Core statements: the ORM's bulk insert costs more than the index
    table = Message.__table__
    for start in range(0, len(ids), 500):  # a statement for many, not one a message
        some = ids[start:start + 500]
        connection.execute(delete(MessageText.__table__).where(MessageText.message_id.in_(some)))
        connection.execute(update(table).where(table.c.id.in_(some)).values(search_state=state))
    connection.execute(insert(MessageText.__table__), texts)
