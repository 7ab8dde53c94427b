"""OAuth 2.0 sign-in: how each side of an account logs in, its sealed tokens, sign-ins under way

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imap_auth', sa.String(length=16), server_default='password', nullable=False))
        batch_op.add_column(sa.Column('smtp_auth', sa.String(length=16), server_default='password', nullable=False))

    op.create_table('oauth_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('refresh_token', sa.LargeBinary(), nullable=True),
    sa.Column('access_token', sa.LargeBinary(), nullable=True),
    sa.Column('access_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('refresh_owner', sa.String(length=64), nullable=True),
    sa.Column('refresh_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id'),
    sqlite_autoincrement=True
    )

    op.create_table('oauth_flows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('state_hash')
    )
    with op.batch_alter_table('oauth_flows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_flows_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_flows_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('oauth_flows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_flows_created_at'))
        batch_op.drop_index(batch_op.f('ix_oauth_flows_user_id'))
    op.drop_table('oauth_flows')
    op.drop_table('oauth_grants')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('smtp_auth')
        batch_op.drop_column('imap_auth')
