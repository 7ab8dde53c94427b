"""crm archive: archived emails of any direction, linked to a contact and a company, visible to all
users or only to the one who archived them, attachments archived alone; automatic archiving's settings

Revision ID: 0017
Revises: 0016

Emails archived before (Send and archive) stay visible only to the user who archived them. SQLite adds
the columns in place (ALTER TABLE), never by copying a table: archived_email_links refers to
archived_emails, and a copy would delete the links with the old table.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

FALSE = sa.text("false")


def _add_reference(table: str, column: str, target: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES {target} (id) ON DELETE SET NULL")
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(f"{table}_{column}_fkey", table, target, [column], ["id"], ondelete="SET NULL")
    op.create_index(f"ix_{table}_{column}", table, [column])


def _drop(table: str, column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)


def upgrade() -> None:
    op.add_column("archived_emails", sa.Column("sender", sa.String(length=640), server_default="", nullable=False))
    op.add_column("archived_emails", sa.Column("incoming", sa.Boolean(), server_default=FALSE, nullable=False))
    op.add_column("archived_emails", sa.Column("visible_to_all", sa.Boolean(), server_default=FALSE, nullable=False))
    _add_reference("archived_emails", "person_id", "persons")
    _add_reference("archived_emails", "company_id", "companies")
    op.add_column("archived_emails", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("archived_emails", sa.Column("filename", sa.String(length=255), nullable=True))
    op.add_column("archived_emails", sa.Column("content_type", sa.String(length=255), nullable=True))
    op.add_column("archived_emails", sa.Column("size", sa.Integer(), server_default="0", nullable=False))
    op.add_column("archived_emails", sa.Column("automatic", sa.Boolean(), server_default=FALSE, nullable=False))
    op.create_index("ix_archived_emails_user_message", "archived_emails", ["user_id", "message_id"])
    op.add_column("users", sa.Column("archive_automatically", sa.Boolean(), server_default=FALSE, nullable=False))
    op.add_column("users", sa.Column("archive_visible_to_all", sa.Boolean(), server_default=sa.text("true"),
                                     nullable=False))
    op.add_column("users", sa.Column("never_archive", sa.Text(), server_default="", nullable=False))
    op.add_column("folders", sa.Column("archived_uid", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    _drop("folders", "archived_uid")
    for column in ("never_archive", "archive_visible_to_all", "archive_automatically"):
        _drop("users", column)
    op.drop_index("ix_archived_emails_user_message", table_name="archived_emails")
    for column in ("company_id", "person_id"):
        op.drop_index(f"ix_archived_emails_{column}", table_name="archived_emails")
        if op.get_bind().dialect.name != "sqlite":
            op.drop_constraint(f"archived_emails_{column}_fkey", "archived_emails", type_="foreignkey")
    for column in ("automatic", "size", "content_type", "filename", "archived_at", "company_id", "person_id",
                   "visible_to_all", "incoming", "sender"):
        _drop("archived_emails", column)
