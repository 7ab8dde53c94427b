"""connection attempts have a kind: a login test or a discovery

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connection_attempts") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="login"))


def downgrade() -> None:
    with op.batch_alter_table("connection_attempts") as batch:
        batch.drop_column("kind")
