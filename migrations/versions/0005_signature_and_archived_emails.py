"""signature and archived emails

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('archived_emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=500), nullable=False),
    sa.Column('subject', sa.String(length=1000), nullable=False),
    sa.Column('recipients', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('archived_emails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archived_emails_user_id'), ['user_id'], unique=False)

    op.create_table('archived_email_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('archived_email_id', sa.Integer(), nullable=False),
    sa.Column('contact_email_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['archived_email_id'], ['archived_emails.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_email_id'], ['contact_emails.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('archived_email_id', 'contact_email_id')
    )
    with op.batch_alter_table('archived_email_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archived_email_links_contact_email_id'), ['contact_email_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature', sa.Text(), server_default='', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('signature')

    with op.batch_alter_table('archived_email_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archived_email_links_contact_email_id'))

    op.drop_table('archived_email_links')
    with op.batch_alter_table('archived_emails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archived_emails_user_id'))

    op.drop_table('archived_emails')
