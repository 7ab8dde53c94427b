"""an account whose server misbehaved in IDLE is not watched for a while: accounts.watch_paused_until;
a compose window remembers what it answers (reused when opened again), and a forwarded attachment is a
reference to the original's part until Send

Revision ID: 0023
Revises: 0022

SQLite adds and drops the column in place (ALTER TABLE), never by copying the table.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("watch_paused_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("compose_windows", sa.Column("answer_mode", sa.String(length=8), nullable=True))
    op.add_column("compose_windows", sa.Column("answer_of", sa.BigInteger(), nullable=True))
    op.add_column("pending_uploads", sa.Column("forward_of", sa.BigInteger(), nullable=True))
    op.add_column("pending_uploads", sa.Column("part_index", sa.Integer(), nullable=True))


COLUMNS = (("accounts", "watch_paused_until"), ("compose_windows", "answer_mode"),
           ("compose_windows", "answer_of"), ("pending_uploads", "forward_of"), ("pending_uploads", "part_index"))


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_column(table, column)
