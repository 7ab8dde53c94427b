"""CRM persons and companies; a user's contact card becomes a person

Revision ID: 0013
Revises: 0012

Companies (with their mail domains) and persons are new. Every user gets a person as their own
contact card, named after users.name ("Anna Maria Berg": first name "Anna Maria", last name "Berg"),
and the card's addresses move to it with their ids, positions and verification kept, so archived
emails stay linked. contact_emails now holds the addresses of every person, each with its
normalised form (NFKC, trimmed, case-folded) indexed for lookups.
"""

import unicodedata
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

users = sa.table("users", sa.column("id", sa.Integer), sa.column("name", sa.String),
                 sa.column("person_id", sa.Integer))
persons = sa.table("persons", sa.column("id", sa.Integer), sa.column("first_name", sa.String),
                   sa.column("last_name", sa.String), sa.column("name_key", sa.String),
                   sa.column("created_at", sa.DateTime(timezone=True)),
                   sa.column("updated_at", sa.DateTime(timezone=True)))
contact_emails = sa.table("contact_emails", sa.column("id", sa.Integer), sa.column("user_id", sa.Integer),
                          sa.column("person_id", sa.Integer), sa.column("position", sa.Integer),
                          sa.column("address", sa.String), sa.column("normalised", sa.String),
                          sa.column("verified_at", sa.DateTime(timezone=True)))
links = sa.table("archived_email_links", sa.column("id", sa.Integer), sa.column("archived_email_id", sa.Integer),
                 sa.column("contact_email_id", sa.Integer))


def normalise(text: str) -> str:
    """As mailcore.addresses.normalise_address (a migration keeps its own copy: the app's may change)."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def split_name(name: str) -> tuple[str, str]:
    words = name.split()
    return (" ".join(words[:-1]), words[-1]) if len(words) > 1 else (name.strip(), "")


def upgrade() -> None:
    op.create_table("companies",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(length=200), nullable=False),
    sa.Column("name_key", sa.String(length=200), nullable=False),
    sa.Column("phone", sa.String(length=64), server_default="", nullable=False),
    sa.Column("web", sa.String(length=500), server_default="", nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_companies_name_key", "companies", ["name_key"])
    op.create_table("company_domains",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("company_id", sa.Integer(), nullable=False),
    sa.Column("domain", sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("company_id", "domain")
    )
    op.create_index("ix_company_domains_domain", "company_domains", ["domain"])
    op.create_table("persons",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("first_name", sa.String(length=100), server_default="", nullable=False),
    sa.Column("last_name", sa.String(length=100), server_default="", nullable=False),
    sa.Column("name_key", sa.String(length=201), server_default="", nullable=False),
    sa.Column("title", sa.String(length=200), server_default="", nullable=False),
    sa.Column("phone", sa.String(length=64), server_default="", nullable=False),
    sa.Column("company_id", sa.Integer(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="SET NULL"),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_persons_name_key", "persons", ["name_key"])
    op.create_index("ix_persons_company_id", "persons", ["company_id"])

    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:  # a column added in place: rebuilding users would empty every table that refers to it
        op.execute("ALTER TABLE users ADD COLUMN person_id INTEGER REFERENCES persons (id) ON DELETE SET NULL")
    else:
        op.add_column("users", sa.Column("person_id", sa.Integer(), nullable=True))
        op.create_foreign_key("users_person_id_fkey", "users", "persons", ["person_id"], ["id"], ondelete="SET NULL")
    op.create_index("ix_users_person_id", "users", ["person_id"], unique=True)
    with op.batch_alter_table("contact_emails") as batch:
        batch.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("normalised", sa.String(length=320), nullable=True))

    now = datetime.now(timezone.utc)
    for user_id, name in bind.execute(sa.select(users.c.id, users.c.name).order_by(users.c.id)).all():
        first, last = split_name(name or "")
        person_id = bind.execute(persons.insert().values(
            first_name=first, last_name=last, name_key=" ".join(normalise(f"{first} {last}").split()),
            created_at=now, updated_at=now).returning(persons.c.id)).scalar_one()
        bind.execute(users.update().where(users.c.id == user_id).values(person_id=person_id))
        kept: dict[str, int] = {}
        rows = bind.execute(sa.select(contact_emails.c.id, contact_emails.c.address)
                            .where(contact_emails.c.user_id == user_id)
                            .order_by(contact_emails.c.position, contact_emails.c.id)).all()
        for email_id, address in rows:
            key = normalise(address)
            if key in kept:  # "Anna@x" and "anna@x" on one card are one address now: keep the first
                _drop_duplicate(bind, email_id, kept[key])
                continue
            kept[key] = email_id
            bind.execute(contact_emails.update().where(contact_emails.c.id == email_id)
                         .values(person_id=person_id, normalised=key, position=len(kept) - 1))

    # SQLite rebuilds contact_emails below, and dropping the old table deletes the links that refer to it
    # (foreign keys are on): they are set aside and put back, with their ids
    saved = bind.execute(sa.select(links)).mappings().all() if sqlite else []
    if saved:
        op.execute(links.delete())
    with op.batch_alter_table("contact_emails") as batch:
        batch.drop_index("ix_contact_emails_user_id")
        batch.drop_column("user_id")  # with the (user_id, address) uniqueness and the key to users
        batch.alter_column("person_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("normalised", existing_type=sa.String(length=320), nullable=False)
        batch.create_foreign_key("contact_emails_person_id_fkey", "persons", ["person_id"], ["id"],
                                 ondelete="CASCADE")
        batch.create_unique_constraint("uq_contact_emails_person_normalised", ["person_id", "normalised"])
        batch.create_index("ix_contact_emails_person_id", ["person_id"])
        batch.create_index("ix_contact_emails_normalised", ["normalised"])
    if saved:
        op.bulk_insert(links, [dict(row) for row in saved])


def _drop_duplicate(bind, duplicate: int, kept: int) -> None:
    """Move a duplicate address's archive links to the address kept, then delete it."""
    already = sa.select(links.c.archived_email_id).where(links.c.contact_email_id == kept)
    bind.execute(links.update().where(links.c.contact_email_id == duplicate,
                                      links.c.archived_email_id.not_in(already)).values(contact_email_id=kept))
    bind.execute(links.delete().where(links.c.contact_email_id == duplicate))
    bind.execute(contact_emails.delete().where(contact_emails.c.id == duplicate))


def downgrade() -> None:
    """Back to cards of users only: the addresses of other persons, and persons and companies, are lost."""
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    cards = sa.select(users.c.person_id).where(users.c.person_id.is_not(None))
    others = sa.select(contact_emails.c.id).where(contact_emails.c.person_id.not_in(cards))
    op.execute(links.delete().where(links.c.contact_email_id.in_(others)))
    op.execute(contact_emails.delete().where(contact_emails.c.person_id.not_in(cards)))
    with op.batch_alter_table("contact_emails") as batch:
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
    owner = sa.select(users.c.id).where(users.c.person_id == contact_emails.c.person_id).scalar_subquery()
    op.execute(contact_emails.update().values(user_id=owner))
    saved = bind.execute(sa.select(links)).mappings().all() if sqlite else []
    if saved:
        op.execute(links.delete())
    with op.batch_alter_table("contact_emails") as batch:
        batch.drop_index("ix_contact_emails_normalised")
        batch.drop_index("ix_contact_emails_person_id")
        batch.drop_constraint("uq_contact_emails_person_normalised", type_="unique")
        batch.drop_constraint("contact_emails_person_id_fkey", type_="foreignkey")
        batch.drop_column("normalised")
        batch.drop_column("person_id")
        batch.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key("contact_emails_user_id_fkey", "users", ["user_id"], ["id"], ondelete="CASCADE")
        batch.create_unique_constraint("contact_emails_user_id_address_key", ["user_id", "address"])
        batch.create_index("ix_contact_emails_user_id", ["user_id"])
    if saved:
        op.bulk_insert(links, [dict(row) for row in saved])
    op.drop_index("ix_users_person_id", table_name="users")
    if sqlite:
        op.execute("ALTER TABLE users DROP COLUMN person_id")
    else:
        op.drop_constraint("users_person_id_fkey", "users", type_="foreignkey")
        op.drop_column("users", "person_id")
    op.drop_index("ix_persons_company_id", table_name="persons")
    op.drop_index("ix_persons_name_key", table_name="persons")
    op.drop_table("persons")
    op.drop_index("ix_company_domains_domain", table_name="company_domains")
    op.drop_table("company_domains")
    op.drop_index("ix_companies_name_key", table_name="companies")
    op.drop_table("companies")
