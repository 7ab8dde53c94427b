"""users, contact cards and mail accounts

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 03:07:52.517255
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('show_inline_images', sa.Boolean(), nullable=False),
    sa.Column('mark_read_in_preview', sa.Boolean(), nullable=False),
    sa.Column('save_sent_copy', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=True),
    sa.Column('settings_source', sa.String(length=32), nullable=False),
    sa.Column('imap_host', sa.String(length=255), nullable=False),
    sa.Column('imap_port', sa.Integer(), nullable=False),
    sa.Column('imap_ssl', sa.Boolean(), nullable=False),
    sa.Column('imap_username', sa.String(length=320), nullable=False),
    sa.Column('imap_password', sa.LargeBinary(), nullable=False),
    sa.Column('smtp_host', sa.String(length=255), nullable=False),
    sa.Column('smtp_port', sa.Integer(), nullable=False),
    sa.Column('smtp_ssl', sa.Boolean(), nullable=False),
    sa.Column('smtp_same_login', sa.Boolean(), nullable=False),
    sa.Column('smtp_username', sa.String(length=320), nullable=False),
    sa.Column('smtp_password', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error_kind', sa.String(length=64), nullable=True),
    sa.Column('last_error_side', sa.String(length=16), nullable=True),
    sa.Column('last_error_detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id'),
    sqlite_autoincrement=True,
    )
    op.create_table('connection_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('connection_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connection_attempts_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_connection_attempts_user_id'), ['user_id'], unique=False)

    op.create_table('contact_emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'address')
    )
    with op.batch_alter_table('contact_emails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_emails_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('contact_emails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_emails_user_id'))

    op.drop_table('contact_emails')
    with op.batch_alter_table('connection_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connection_attempts_user_id'))
        batch_op.drop_index(batch_op.f('ix_connection_attempts_at'))

    op.drop_table('connection_attempts')
    op.drop_table('accounts')
    op.drop_table('users')
