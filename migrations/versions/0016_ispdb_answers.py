"""ispdb answers: what the central ISPDB said for a domain, cached (a document a day, a failure an hour)

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ispdb_answers",
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.Column("detail", sa.String(length=255), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("domain"),
    )
    op.create_index("ix_ispdb_answers_expires_at", "ispdb_answers", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ispdb_answers_expires_at", table_name="ispdb_answers")
    op.drop_table("ispdb_answers")
