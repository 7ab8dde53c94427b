"""Folder roles are one enum whose values are what the database has always stored."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from mailcore.models import ROLE_ORDER, Base, Folder, Role
from mailcore.sync.engine import folder_role


def test_a_role_is_stored_as_its_plain_name_and_read_back_equal_to_the_enum():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        db.add(Folder(account_id=1, name="Skickat", role=Role.SENT))
        db.commit()
        assert db.scalar(text("SELECT role FROM folders")) == "sent"
        db.expunge_all()
        stored = db.query(Folder).one()
        assert stored.role == Role.SENT and Role(stored.role) is Role.SENT


def test_the_sync_names_roles_by_flag_and_by_name():
    assert folder_role("INBOX", [], "/") is Role.INBOX
    assert folder_role("Whatever", [b"\\Trash"], "/") is Role.TRASH
    assert folder_role("INBOX.Skickade objekt", [], ".") is Role.SENT
    assert folder_role("Projects", [], "/") is None


def test_the_picker_order_is_the_enum_order():
    assert sorted(ROLE_ORDER, key=ROLE_ORDER.get) == [Role.INBOX, Role.DRAFTS, Role.SENT, Role.ARCHIVE, Role.JUNK,
                                                      Role.TRASH]
    assert ROLE_ORDER["sent"] == 2  # a role read from the database finds its place
