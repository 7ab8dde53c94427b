"""watch leases: which watcher process holds an account's IDLE connection, and until when

Revision ID: 0011
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('watch_owner', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('watch_lease_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_accounts_watch_lease_until', ['watch_lease_until'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_accounts_watch_lease_until')
        batch_op.drop_column('watch_lease_until')
        batch_op.drop_column('watch_owner')
