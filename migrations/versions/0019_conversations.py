"""conversations: each message's Message-ID and the ids it names, its conversation, the keys that find
a conversation, and the user's choice of a list by conversation

Revision ID: 0019
Revises: 0018

Messages stored before keep a NULL conversation and NULL keys: the next sync fetches their three
header lines and threads them (mailcore/sync/conversations.py), as it does new messages. SQLite
adds and drops the columns in place (ALTER TABLE), never by copying a table.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

PENDING = sa.text("conversation_id IS NULL")
COLUMNS = ("message_key", "reference_keys", "conversation_id")


def upgrade() -> None:
    op.add_column("users", sa.Column("list_conversations", sa.Boolean(), server_default=sa.text("true"),
                                     nullable=False))
    op.add_column("messages", sa.Column("message_key", sa.String(length=250), nullable=True))
    op.add_column("messages", sa.Column("reference_keys", sa.Text(), nullable=True))
    op.add_column("messages", sa.Column("conversation_id", sa.BigInteger(), nullable=True))
    op.create_index("ix_messages_folder_conversation", "messages", ["folder_id", "conversation_id"])
    op.create_index("ix_messages_conversation", "messages", ["conversation_id"])
    op.create_index("ix_messages_thread_pending", "messages", ["folder_id", "uid"],
                    sqlite_where=PENDING, postgresql_where=PENDING)
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_conversations_account_id", "conversations", ["account_id"])
    op.create_table(
        "thread_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "key"),
    )
    op.create_index("ix_thread_keys_conversation", "thread_keys", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_thread_keys_conversation", table_name="thread_keys")
    op.drop_table("thread_keys")
    op.drop_index("ix_conversations_account_id", table_name="conversations")
    op.drop_table("conversations")
    for index in ("ix_messages_thread_pending", "ix_messages_conversation", "ix_messages_folder_conversation"):
        op.drop_index(index, table_name="messages")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column in COLUMNS:
        if sqlite:
            op.execute(f"ALTER TABLE messages DROP COLUMN {column}")
        else:
            op.drop_column("messages", column)
    if sqlite:
        op.execute("ALTER TABLE users DROP COLUMN list_conversations")
    else:
        op.drop_column("users", "list_conversations")
