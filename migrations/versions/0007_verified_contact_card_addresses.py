"""contact-card addresses are verified before they count

Revision ID: 0007
Revises: 0006

Existing addresses that were already proven count as verified: the user's sign-in address (the
operator created it) and the address of the user's connected mail account (the user logged in to
it). Every other address starts unverified, and archive links to unverified addresses are removed:
they were made only because someone typed the address onto their card.
"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

contact_emails = sa.table("contact_emails", sa.column("id", sa.Integer), sa.column("user_id", sa.Integer),
                          sa.column("address", sa.String), sa.column("verified_at", sa.DateTime(timezone=True)))
users = sa.table("users", sa.column("id", sa.Integer), sa.column("email", sa.String))
accounts = sa.table("accounts", sa.column("user_id", sa.Integer), sa.column("address", sa.String))
links = sa.table("archived_email_links", sa.column("contact_email_id", sa.Integer))


def upgrade() -> None:
    with op.batch_alter_table("contact_emails") as batch:
        batch.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    now = datetime.now(timezone.utc)
    address = sa.func.lower(contact_emails.c.address)
    sign_in = sa.exists().where(users.c.id == contact_emails.c.user_id, sa.func.lower(users.c.email) == address)
    account = sa.exists().where(accounts.c.user_id == contact_emails.c.user_id,
                                sa.func.lower(accounts.c.address) == address)
    op.execute(contact_emails.update().where(sa.or_(sign_in, account)).values(verified_at=now))
    unverified = sa.select(contact_emails.c.id).where(contact_emails.c.verified_at.is_(None))
    op.execute(links.delete().where(links.c.contact_email_id.in_(unverified)))


def downgrade() -> None:
    with op.batch_alter_table("contact_emails") as batch:
        batch.drop_column("verified_at")
