"""sent mail whose copy could not be put in Sent yet: kept until a sync files it

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unfiled_sent_copies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_unfiled_sent_copies_account_id", "unfiled_sent_copies", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_unfiled_sent_copies_account_id", table_name="unfiled_sent_copies")
    op.drop_table("unfiled_sent_copies")
