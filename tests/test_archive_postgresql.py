"""Archive email on PostgreSQL: migration 0017 up, down and up again with an email archived before, the
schema is the models', and a private archive is listed only to the user who archived it."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from localmail import services
from mailcore.crm import archive, people
from mailcore.db import make_engine, migrate
from mailcore.models import User

from .helpers import schema_differences


@pytest.fixture
def database():
    with services.fresh_database("inkorg_archive") as url:
        yield url


def raw(subject: str, sender: str = "Anna Berg <anna@kund.example>") -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "bo@crm.example", subject
    message["Message-ID"] = f"<{subject.replace(' ', '.')}@kund.example>"
    message.set_content("Hej!")
    return message.as_bytes()


def test_the_migration_and_who_sees_an_archived_email(database):
    engine = make_engine(database)
    migrate(engine, "0015")
    with engine.begin() as connection:
        connection.execute(text("insert into users (id, email, name, password_hash, show_inline_images, "
                                "mark_read_in_preview, save_sent_copy, signature, created_at) values "
                                "(1001, 'bo@crm.example', 'Bo', 'x', false, true, true, '', now())"))
        connection.execute(text("insert into archived_emails (id, user_id, message_id, subject, recipients, "
                                "sent_at, raw) values (1001, 1001, '<m@x>', 'Offert', 'anna@kund.example', "
                                "now(), '\\x00')"))
    migrate(engine, "head")
    migrate(engine, "0015", down=True)
    migrate(engine, "head")
    with engine.connect() as connection:
        assert connection.execute(text("select visible_to_all, subject from archived_emails")).all() == [
            (False, "Offert")]
        assert schema_differences(connection) == []
    with Session(engine) as db:
        bo = db.get(User, 1001)
        eva = User(email="eva@crm.example", name="Eva", password_hash="x")
        db.add(eva)
        kund = people.save_company(db, name="Kund AB", domains=["kund.example"])
        anna = people.save_person(db, people.Card("Anna", "Berg", emails=["anna@kund.example"]), company=kund)
        choice = archive.suggest(db, bo, archive.headers_of(raw("Privat")))
        assert (choice.person.id, choice.company.id) == (anna.id, kund.id)
        archive.archive(db, bo, raw("Privat"), person=anna, company=kund, visible_to_all=False)
        archive.archive(db, bo, raw("Delad"), person=anna, company=None, visible_to_all=True)
        archive.archive(db, bo, raw("Delad"), person=anna, company=None, visible_to_all=True)  # once only
        for who, expected in ((bo, ["Delad", "Privat"]), (eva, ["Delad"])):
            assert sorted(item.subject for item in people.archived_with(db, who, person=anna)) == expected
            assert sorted(item.subject for item in people.archived_with(db, who, company=kund)) == expected
        private = next(item for item in people.archived_with(db, bo, person=anna) if item.subject == "Privat")
        assert archive.find(db, eva, private.id) is None and archive.find(db, bo, private.id) is not None
    engine.dispose()
