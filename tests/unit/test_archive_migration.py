"""Migration 0017: emails archived before stay, visible only to the user who archived them; the
schema is the models'; and the way back keeps them and their links."""

from __future__ import annotations

from sqlalchemy import text

from mailcore.db import make_engine, migrate
from tests.helpers import schema_differences


def test_archived_emails_stay_private_and_linked_both_ways(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0015")
    with engine.begin() as connection:
        connection.execute(text("insert into users (id, email, name, password_hash, show_inline_images, "
                                "mark_read_in_preview, save_sent_copy, signature, created_at) values "
                                "(1, 'bo@kund.example', 'Bo', 'x', 0, 1, 1, '', '2025-06-16')"))
        connection.execute(text("insert into persons (id, first_name, last_name, name_key, title, phone, created_at,"
                                " updated_at) values (4, 'Anna', '', 'anna', '', '', '2025-06-16', '2025-06-16')"))
        connection.execute(text("insert into contact_emails (id, person_id, position, address, normalised) "
                                "values (5, 4, 0, 'anna@kund.example', 'anna@kund.example')"))
        connection.execute(text("insert into archived_emails (id, user_id, message_id, subject, recipients, "
                                "sent_at, raw) values (1, 1, '<m@x>', 'Offert', 'anna@kund.example', "
                                "'2025-06-16', x'00')"))
        connection.execute(text("insert into archived_email_links (id, archived_email_id, contact_email_id) "
                                "values (3, 1, 5)"))
    migrate(engine, "head")
    with engine.connect() as connection:
        assert connection.execute(text("select visible_to_all, incoming, person_id, company_id, filename "
                                       "from archived_emails")).all() == [(0, 0, None, None, None)]
        assert connection.execute(text("select archived_email_id, contact_email_id from archived_email_links"))\
            .all() == [(1, 5)]
        differences = schema_differences(connection)
        # SQLite reflects an inline reference without its ON DELETE (users.person_id too): PostgreSQL
        # compares those (tests/test_crm_postgresql.py)
        assert [d for d in differences if d[0] not in ("add_fk", "remove_fk")] == []
    migrate(engine, "0015", down=True)
    with engine.connect() as connection:
        assert connection.execute(text("select id, subject from archived_emails")).all() == [(1, "Offert")]
        assert connection.execute(text("select id from archived_email_links")).all() == [(3,)]
    migrate(engine, "head")
    engine.dispose()
