"""the search index: message_texts (a message's folded words), search_state per message and the
partial index of those still to index, messages by date across folders; on SQLite the FTS5 table message_search over message_texts
with its triggers, on PostgreSQL a GIN index over the words' tsvector

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

from mailcore.search.index import SQLITE_DROP, SQLITE_SCHEMA

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

PENDING = sa.text("search_state < 2")
# PostgreSQL's index as this revision made it, over an expression (0024 stores the vector instead)
VECTOR = ("setweight(to_tsvector('simple', subject), 'A') || setweight(to_tsvector('simple', sender), 'B') "
          "|| setweight(to_tsvector('simple', recipients), 'C') || to_tsvector('simple', attachments || ' ' || body)")
POSTGRESQL_SCHEMA = [f"CREATE INDEX ix_message_texts_search ON message_texts USING gin (({VECTOR}))"]
POSTGRESQL_DROP = ["DROP INDEX IF EXISTS ix_message_texts_search"]


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("search_state", sa.SmallInteger(), server_default="0", nullable=False))
    op.create_index("ix_messages_search_pending", "messages", ["folder_id", "id"],
                    sqlite_where=PENDING, postgresql_where=PENDING)
    op.create_index("ix_messages_date", "messages", ["date", "id"])
    op.create_table(
        "message_texts",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), server_default="", nullable=False),
        sa.Column("sender", sa.Text(), server_default="", nullable=False),
        sa.Column("recipients", sa.Text(), server_default="", nullable=False),
        sa.Column("attachments", sa.Text(), server_default="", nullable=False),
        sa.Column("body", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id"),
    )
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_SCHEMA if dialect == "postgresql" else SQLITE_SCHEMA:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_DROP if dialect == "postgresql" else SQLITE_DROP:
        op.execute(statement)
    op.drop_table("message_texts")
    op.drop_index("ix_messages_date", table_name="messages")
    op.drop_index("ix_messages_search_pending", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("search_state")
