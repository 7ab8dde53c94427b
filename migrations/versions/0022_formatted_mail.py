"""formatted mail: a formatted signature and its logo, and templates with their attachments

Revision ID: 0022
Revises: 0021

SQLite adds and drops the users column in place (ALTER TABLE), never by copying the table (see 0015).
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("signature_html", sa.Text(), server_default="", nullable=False))
    op.create_table(
        "signature_logos",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
    )
    op.create_table(
        "mail_templates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=998), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_mail_templates_user_id", "mail_templates", ["user_id"])
    op.create_index("ix_mail_templates_shared", "mail_templates", ["shared"])
    op.create_table(
        "mail_template_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("template_id", sa.Integer(), sa.ForeignKey("mail_templates.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_mail_template_files_template_id", "mail_template_files", ["template_id"])


def downgrade() -> None:
    op.drop_table("mail_template_files")
    op.drop_table("mail_templates")
    op.drop_table("signature_logos")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users DROP COLUMN signature_html")
    else:
        op.drop_column("users", "signature_html")
