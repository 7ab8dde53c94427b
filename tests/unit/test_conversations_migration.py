"""Migration 0019 on SQLite: an existing database keeps its messages, which wait for their keys and
conversation (NULL: the next sync fetches and threads them); users list by conversation; the schema is
the models'; and the way back drops it all."""

from __future__ import annotations

from sqlalchemy import inspect, text

from mailcore.db import make_engine, migrate
from tests.helpers import schema_differences

USERS = ("insert into users (id, email, name, password_hash, show_inline_images, mark_read_in_preview, "
         "save_sent_copy, signature, created_at) values (1, 'anna@kund.example', 'Anna', 'x', 0, 1, 1, '', "
         "'2025-06-16')")
ACCOUNT = ("insert into accounts (id, user_id, address, settings_source, imap_host, imap_port, imap_ssl, "
           "imap_username, imap_password, smtp_host, smtp_port, smtp_ssl, smtp_same_login, smtp_username, "
           "smtp_password, created_at) values (1, 1, 'anna@kund.example', 'manual', 'imap.kund.example', 993, 1, "
           "'anna', x'00', 'smtp.kund.example', 465, 1, 1, 'anna', x'00', '2025-06-16')")


def test_existing_messages_wait_for_threading_and_the_schema_is_the_models(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0015")
    with engine.begin() as connection:
        connection.execute(text(USERS))
        connection.execute(text(ACCOUNT))
        connection.execute(text("insert into folders (id, account_id, name, role, subscribed, selectable, total, "
                                "unread, server_total, complete, version) values (1, 1, 'INBOX', 'inbox', 1, 1, 1, "
                                "0, 1, 1, 3)"))
        connection.execute(text("insert into messages (id, folder_id, uid, seen, flagged, answered, date, size, "
                                "sender_name, sender_address, subject, has_attachments, recipients) values (1, 1, "
                                "7, 1, 0, 0, '2025-06-16', 100, 'Bo', 'bo@x', 'Offert', 0, '')"))
    migrate(engine, "head")
    with engine.connect() as connection:
        assert connection.execute(text("select message_key, reference_keys, conversation_id from messages")).all() \
            == [(None, None, None)]
        assert connection.execute(text("select list_conversations from users")).scalar() == 1
        pending = connection.execute(text("select folder_id, uid from messages where conversation_id is null")).all()
        assert pending == [(1, 7)]
        # (SQLite reads users.person_id's inline reference differently from the models: 0013's, not ours)
        ours = ("thread_keys", "conversation", "message_key", "reference_keys", "ix_messages")
        differences = schema_differences(connection)
        assert [d for d in differences if any(name in repr(d) for name in ours)] == []
    migrate(engine, "0015", down=True)
    tables = inspect(engine).get_table_names()
    assert "thread_keys" not in tables and "conversations" not in tables
    assert "conversation_id" not in {c["name"] for c in inspect(engine).get_columns("messages")}
    with engine.connect() as connection:
        assert connection.execute(text("select subject from messages")).scalar() == "Offert"
    migrate(engine, "head")
    engine.dispose()
