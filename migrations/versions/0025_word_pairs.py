"""PostgreSQL indexes each message's words through an expression over its stored words (no stored vector)
and, in `message_texts.pair_keys`, each two adjacent words of a field as one of 1,024 numbers, with a GIN
index over them: a phrase of common words starts from the few messages holding its pairs. Words of more
than 200 characters, which the index cannot take, are dropped from the stored words. SQLite is
unchanged (FTS5 keeps its own index).

Revision ID: 0025
Revises: 0024
"""

import zlib
from itertools import pairwise

from alembic import op
from sqlalchemy import text

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

FIELDS = ("subject", "sender", "recipients", "attachments", "body")
WORDS = ("array_to_tsvector(array_remove(string_to_array(translate(subject || ' ' || sender || ' ' || recipients "
         "|| ' ' || attachments || ' ' || body, '_', ' '), ' '), ''))")
# what 0024 made
VECTOR = ("strip(to_tsvector('simple', subject || ' ' || sender || ' ' || recipients || ' ' || attachments "
          "|| ' ' || body))")
BATCH = 2000


def _pair_keys(*fields: str) -> list[int]:
    """As mailcore.search.index.pair_keys computes them in this revision."""
    found = set()
    for stored_text in fields:
        found.update(zlib.crc32(f"{a} {b}".encode()) % 1024 for a, b in pairwise(stored_text.split()))
    return sorted(found)


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_message_texts_search")
    op.execute("ALTER TABLE message_texts DROP COLUMN IF EXISTS search_vector")
    for field in FIELDS:  # what the index cannot take: runs of encoded data, not words
        op.execute(f"UPDATE message_texts SET {field} = trim(regexp_replace({field}, '\\S{{201,}}', '', 'g')) "
                   f"WHERE {field} ~ '\\S{{201,}}'")
    op.execute("ALTER TABLE message_texts ADD COLUMN pair_keys smallint[]")
    last = 0
    while True:
        rows = connection.execute(text(f"SELECT message_id, {', '.join(FIELDS)} FROM message_texts "
                                       "WHERE message_id > :last ORDER BY message_id LIMIT :batch"),
                                  {"last": last, "batch": BATCH}).all()
        if not rows:
            break
        connection.execute(text("UPDATE message_texts SET pair_keys = CAST(:keys AS smallint[]) "
                                "WHERE message_id = :id"),
                           [{"id": row[0], "keys": "{" + ",".join(map(str, _pair_keys(*row[1:]))) + "}"}
                            for row in rows])
        last = rows[-1][0]
    op.execute("ALTER TABLE message_texts ALTER COLUMN pair_keys SET NOT NULL")
    op.execute(f"CREATE INDEX ix_message_texts_search ON message_texts USING gin (({WORDS}))")
    op.execute("CREATE INDEX ix_message_texts_pairs ON message_texts USING gin (pair_keys)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_message_texts_pairs")
    op.execute("DROP INDEX IF EXISTS ix_message_texts_search")
    op.execute("ALTER TABLE message_texts DROP COLUMN pair_keys")
    op.execute(f"ALTER TABLE message_texts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({VECTOR}) STORED")
    op.execute("CREATE INDEX ix_message_texts_search ON message_texts USING gin (search_vector)")
