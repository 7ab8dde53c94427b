"""Migration 0013: every user's contact card becomes a person, its addresses keep their ids, order and
verification (so archived emails stay linked), and the way back restores the cards."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from mailcore.db import make_engine, migrate

USERS = ("insert into users (id, email, name, password_hash, show_inline_images, mark_read_in_preview, "
         "save_sent_copy, signature, created_at) values (:id, :email, :name, 'x', 0, 1, 1, '', '2025-06-16')")


@pytest.fixture
def database(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")  # foreign keys on, as the app runs migrations
    migrate(engine, "0012")
    with engine.begin() as connection:
        connection.execute(text(USERS), [{"id": 1, "email": "anna@kund.example", "name": "Anna Maria Berg"},
                                         {"id": 2, "email": "bo@kund.example", "name": "Bo"}])
        connection.execute(text("insert into contact_emails (id, user_id, position, address, verified_at) "
                                "values (:id, :user, :position, :address, :verified)"), [
            {"id": 5, "user": 1, "position": 0, "address": "anna@kund.example", "verified": "2025-06-16"},
            {"id": 6, "user": 1, "position": 1, "address": "Anna.B@Kund.example", "verified": None},
            {"id": 7, "user": 1, "position": 2, "address": "ANNA.B@kund.example", "verified": None},
            {"id": 9, "user": 2, "position": 0, "address": "bo@kund.example", "verified": "2025-06-16"}])
        connection.execute(text("insert into archived_emails (id, user_id, message_id, subject, recipients, "
                                "sent_at, raw) values (1, 2, '<m@x>', 'Offert', 'anna@kund.example', "
                                "'2025-06-16', x'00')"))
        connection.execute(text("insert into archived_email_links (id, archived_email_id, contact_email_id) "
                                "values (3, 1, 5), (4, 1, 7)"))
    yield engine
    engine.dispose()


def rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def test_cards_become_persons_and_keep_their_links(database):
    migrate(database, "head")
    assert rows(database, "select id, first_name, last_name, name_key from persons order by id") == [
        (1, "Anna Maria", "Berg", "anna maria berg"), (2, "Bo", "", "bo")]
    assert rows(database, "select id, person_id from users order by id") == [(1, 1), (2, 2)]
    assert rows(database, "select id, person_id, position, address, normalised, verified_at is not null "
                          "from contact_emails order by id") == [
        (5, 1, 0, "anna@kund.example", "anna@kund.example", 1),
        (6, 1, 1, "Anna.B@Kund.example", "anna.b@kund.example", 0),  # the two spellings are one address now
        (9, 2, 0, "bo@kund.example", "bo@kund.example", 1)]
    assert rows(database, "select id, archived_email_id, contact_email_id from archived_email_links") == [
        (3, 1, 5), (4, 1, 6)]  # the link to the dropped spelling follows the one kept

    migrate(database, "0012", down=True)
    assert rows(database, "select id, user_id, position, address from contact_emails order by id") == [
        (5, 1, 0, "anna@kund.example"), (6, 1, 1, "Anna.B@Kund.example"), (9, 2, 0, "bo@kund.example")]
    assert rows(database, "select id, contact_email_id from archived_email_links") == [(3, 5), (4, 6)]
    migrate(database, "head")
