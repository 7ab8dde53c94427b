"""folders and messages for synchronisation

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('folders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=1000), nullable=False),
    sa.Column('delimiter', sa.String(length=4), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('subscribed', sa.Boolean(), nullable=False),
    sa.Column('selectable', sa.Boolean(), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=True),
    sa.Column('uidnext', sa.BigInteger(), nullable=True),
    sa.Column('highestmodseq', sa.BigInteger(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('unread', sa.Integer(), nullable=False),
    sa.Column('server_total', sa.Integer(), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('last_synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'name')
    )
    with op.batch_alter_table('folders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_folders_account_id'), ['account_id'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('folder_id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.BigInteger(), nullable=False),
    sa.Column('modseq', sa.BigInteger(), nullable=True),
    sa.Column('seen', sa.Boolean(), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.Column('date', sa.DateTime(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sender_name', sa.String(length=300), nullable=False),
    sa.Column('sender_address', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=1000), nullable=False),
    sa.Column('preview', sa.String(length=300), nullable=False),
    sa.Column('has_attachments', sa.Boolean(), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['folder_id'], ['folders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('folder_id', 'uid')
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_folder_date', ['folder_id', 'date', 'id'], unique=False)
        batch_op.create_index('ix_messages_folder_sender', ['folder_id', 'sender_name', 'id'], unique=False)
        batch_op.create_index('ix_messages_folder_subject', ['folder_id', 'subject', 'id'], unique=False)

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sync_state', sa.String(length=16), server_default='new', nullable=False))
        batch_op.add_column(sa.Column('sync_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('next_sync_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_sync_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sync_owner', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sync_lease_until', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('sync_lease_until')
        batch_op.drop_column('sync_owner')
        batch_op.drop_column('last_sync_at')
        batch_op.drop_column('next_sync_at')
        batch_op.drop_column('sync_failures')
        batch_op.drop_column('sync_state')

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_folder_date')
        batch_op.drop_index('ix_messages_folder_sender')
        batch_op.drop_index('ix_messages_folder_subject')

    op.drop_table('messages')
    with op.batch_alter_table('folders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_folders_account_id'))

    op.drop_table('folders')
