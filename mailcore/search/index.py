"""The search index: what a message's words are, and where they are kept.

Words are folded the same way for what is stored and what is searched: lower case, and every
diacritic dropped except those of å, ä and ö, which are letters of their own in Swedish (ö is not o).
What is stored is the folded words with one space between them (`message_texts`), so SQLite's FTS5
(`unicode61`, no diacritics removed: ours are already) and PostgreSQL's indexes both see the same
plain words. SQLite reads them through the FTS5 table `message_search` (its content is
`message_texts`, kept equal by triggers); PostgreSQL through two GIN indexes, one over the words
(`WORDS`) and one over the pairs of words that stand next to each other (`PAIR_KEYS`).

A message's `search_state` says how far it is indexed: 0 not at all, 1 the list's fields (subject,
sender, recipients the list knows), 2 with its body and attachment names.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable
from itertools import pairwise

from sqlalchemy import ARRAY, SmallInteger, column, delete, insert, table, update
from sqlalchemy.orm import Session

from mailcore.models import Message, MessageText

MAX_BODY = 200_000  # characters of a body that are indexed
NOT_INDEXED, LISTED, WHOLE = 0, 1, 2
KEPT = "åäöÅÄÖ"

# PostgreSQL (migration 0025): a GIN index over the vector of each message's words (`WORDS`, an expression:
# its stored words cut at spaces and at "_", as PostgreSQL's own parser cuts them) and one over
# `message_texts.pair_keys`, a column kept out of the models: each two words that stand next to each other
# in a field, as one of 1,024 numbers (`pair_keys`). A phrase starts from the messages holding its words'
# pairs, so three common words in a row ask for few rows, not every message holding the three. Fields and
# phrases are then checked against the stored words, and so is each row when a query matches too many
# messages to list (mailcore/search/query.py).
WORDS = ("array_to_tsvector(array_remove(string_to_array(translate(subject || ' ' || sender || ' ' || recipients "
         "|| ' ' || attachments || ' ' || body, '_', ' '), ' '), ''))")
PAIR_KEYS = "pair_keys"
PAIR_BUCKETS = 1024
MAX_WORD = 200  # characters: longer runs (encoded data, not words) are not indexed; PostgreSQL's limit is 2,047 bytes
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
INDEX_OBJECTS = {"message_search", "ix_message_texts_search", "ix_message_texts_pairs", PAIR_KEYS}


def schema_filter(_object, name, type_, _reflected, _compare_to) -> bool:
    """Alembic's `include_object`: the index's own objects (the FTS5 table and its shadow tables; the
    pair keys and the GIN indexes) are made by migrations 0020 and 0025 for one database each and are
    no model's."""
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
    return [w for w in _WORD.findall(fold(text)) if len(w) <= MAX_WORD]


def pair_keys(*fields: str) -> list[int]:
    """The numbers of each two adjacent words of these stored fields (folded words, one space apart),
    sorted, each once. Each number stands for many pairs (there are 1,024 of them for all the pairs of
    a language): it narrows a phrase's messages down, and the stored words then say which hold it."""
    found = set()
    for text in fields:
        found.update(zlib.crc32(f"{a} {b}".encode()) % PAIR_BUCKETS for a, b in pairwise(text.split()))
    return sorted(found)


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
    messages = Message.__table__
    for start in range(0, len(ids), 500):  # a statement for many, not one a message
        some = ids[start:start + 500]
        connection.execute(delete(MessageText.__table__).where(MessageText.message_id.in_(some)))
        connection.execute(update(messages).where(messages.c.id.in_(some)).values(search_state=state))
    if connection.dialect.name == "postgresql":
        texts = [{**t, PAIR_KEYS: pair_keys(*(t[c] for c in FTS_COLUMNS))} for t in texts]
        connection.execute(insert(_WITH_PAIRS), texts)
    else:
        connection.execute(insert(MessageText.__table__), texts)


_WITH_PAIRS = table("message_texts", column("message_id"), *map(column, FTS_COLUMNS),
                    column(PAIR_KEYS, ARRAY(SmallInteger)))
