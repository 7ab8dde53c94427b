"""a user's time zone: the IANA name dates are shown in (NULL: the browser's, else DEFAULT_TIMEZONE)

Revision ID: 0015
Revises: 0013

SQLite adds and drops the column in place (ALTER TABLE), never by copying the table: a copy would
turn users.person_id's inline reference into a table constraint, which 0013's downgrade cannot drop.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users DROP COLUMN timezone")
    else:
        op.drop_column("users", "timezone")
