"""an account whose server misbehaved in IDLE is not watched for a while: accounts.watch_paused_until

Revision ID: 0023
Revises: 0015

SQLite adds and drops the column in place (ALTER TABLE), never by copying the table.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("watch_paused_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE accounts DROP COLUMN watch_paused_until")
    else:
        op.drop_column("accounts", "watch_paused_until")
