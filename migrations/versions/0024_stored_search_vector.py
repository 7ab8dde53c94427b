"""PostgreSQL keeps each message's words as a stored vector without positions or weights (stripped),
message_texts.search_vector, with the GIN index over it: a search no longer computes the vector again for
every row it checks; phrases and fields are checked against the stored words. SQLite is unchanged (FTS5
keeps its own index).

Revision ID: 0024
Revises: 0023
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

VECTOR = ("strip(to_tsvector('simple', subject || ' ' || sender || ' ' || recipients || ' ' || attachments "
          "|| ' ' || body))")
# what 0020 made
EXPRESSION = ("setweight(to_tsvector('simple', subject), 'A') || setweight(to_tsvector('simple', sender), 'B') "
              "|| setweight(to_tsvector('simple', recipients), 'C') || to_tsvector('simple', attachments || ' ' || body)")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_message_texts_search")
    op.execute(f"ALTER TABLE message_texts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({VECTOR}) STORED")
    op.execute("CREATE INDEX ix_message_texts_search ON message_texts USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_message_texts_search")
    op.execute("ALTER TABLE message_texts DROP COLUMN search_vector")
    op.execute(f"CREATE INDEX ix_message_texts_search ON message_texts USING gin (({EXPRESSION}))")
