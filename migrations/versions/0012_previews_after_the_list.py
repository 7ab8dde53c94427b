"""a message's preview is NULL until it is fetched: a first sync lists every message, then fills
previews newest first, and a sync cut off between the two finds the ones still missing

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PENDING = sa.text("preview IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.alter_column("preview", existing_type=sa.String(length=300), nullable=True)
    op.create_index("ix_messages_preview_pending", "messages", ["folder_id", "uid"],
                    sqlite_where=PENDING, postgresql_where=PENDING)


def downgrade() -> None:
    op.drop_index("ix_messages_preview_pending", table_name="messages")
    op.execute("UPDATE messages SET preview = '' WHERE preview IS NULL")
    with op.batch_alter_table("messages") as batch:
        batch.alter_column("preview", existing_type=sa.String(length=300), nullable=False)
