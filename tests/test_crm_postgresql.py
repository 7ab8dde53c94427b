"""The CRM's persons on PostgreSQL (localmail/services.py starts it when it is not running): migration
0013 moves existing contact cards, the schema is the models', and `flask crm import|export` round-trips."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app import create_app
from localmail import services
from mailcore.crm import people, transfer
from mailcore.db import make_engine, migrate

from .helpers import schema_differences, statements

USERS = ("insert into users (id, email, name, password_hash, show_inline_images, mark_read_in_preview, "
         "save_sent_copy, signature, created_at) values (:id, :email, :name, 'x', false, true, true, '', now())")



@pytest.fixture
def database():
    with services.fresh_database("inkorg_crm") as url:
        yield url


def test_cards_move_to_persons_and_the_schema_is_the_models(database):
    engine = make_engine(database)
    migrate(engine, "0012")
    with engine.begin() as connection:
        connection.execute(text(USERS), [{"id": 1, "email": "anna@kund.example", "name": "Anna Maria Berg"},
                                         {"id": 2, "email": "bo@kund.example", "name": "Bo"}])
        connection.execute(text("insert into contact_emails (id, user_id, position, address, verified_at) "
                                "values (5, 1, 0, 'anna@kund.example', now()), (6, 1, 1, 'Anna.B@Kund.example', "
                                "null), (9, 2, 0, 'bo@kund.example', now())"))
        connection.execute(text("insert into archived_emails (id, user_id, message_id, subject, recipients, "
                                "sent_at, raw) values (1, 2, '<m@x>', 'Offert', 'anna@kund.example', now(), '\\x00')"))
        connection.execute(text("insert into archived_email_links (id, archived_email_id, contact_email_id) "
                                "values (3, 1, 5), (4, 1, 6)"))
    migrate(engine, "head")
    with engine.connect() as connection:
        assert connection.execute(text("select id, person_id, position, normalised from contact_emails "
                                       "order by id")).all() == [
            (5, 1, 0, "anna@kund.example"), (6, 1, 1, "anna.b@kund.example"), (9, 2, 0, "bo@kund.example")]
        assert connection.execute(text("select first_name, last_name from persons order by id")).all() == [
            ("Anna Maria", "Berg"), ("Bo", "")]
        assert connection.execute(text("select contact_email_id from archived_email_links order by id")).all() \
            == [(5,), (6,)]
        assert schema_differences(connection) == []
    migrate(engine, "0012", down=True)
    migrate(engine, "head")
    engine.dispose()


def test_import_and_export_on_postgresql(database, tmp_path, monkeypatch):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": database,
                      "SECRET_KEY": "crm-test-secret", "SYNC_MODE": "inline"})
    monkeypatch.setattr(transfer, "LOOKUP_CHUNK", 50)  # several lookups per import
    cards = tmp_path / "people.vcf"
    cards.write_text("".join(f"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Person {n}\r\nN:{n};Person;;;\r\n"
                             f"ORG:Företag {n % 7}\r\nEMAIL:p{n}@f{n % 7}.example\r\nEND:VCARD\r\n"
                             for n in range(120)))
    rows = tmp_path / "more.csv"
    rows.write_text("Förnamn;Efternamn;E-postadress;Mobiltelefon\r\nPerson;0;P0@F0.EXAMPLE;070-1\r\n"
                    "Ny;Person;ny@f1.example;=2+3\r\n;;;\r\nTrasig;;trasig@;\r\n", encoding="cp1252")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["crm", "import", str(cards), str(rows)])
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[-1] == "121 created, 1 updated, 0 unchanged, 1 skipped"
    assert f"skipped {rows}:5: not an email address: 'trasig@'" in first.output
    again = runner.invoke(args=["crm", "import", str(cards), str(rows)])
    assert again.output.splitlines()[-1] == "0 created, 0 updated, 122 unchanged, 1 skipped"

    exported = tmp_path / "all.csv"
    assert runner.invoke(args=["crm", "export", "--format", "csv", "--output", str(exported)]).exit_code == 0
    lines = exported.read_text().splitlines()
    assert len(lines) == 122 and "Ny,Person,,,'=2+3,ny@f1.example" in lines
    vcards = runner.invoke(args=["crm", "export", "--format", "vcf"]).output
    assert vcards.count("BEGIN:VCARD") == 121
    (tmp_path / "all.vcf").write_text(vcards)
    back = runner.invoke(args=["crm", "import", str(exported), str(tmp_path / "all.vcf")])
    assert back.output.splitlines()[-1] == "0 created, 0 updated, 242 unchanged, 0 skipped"

    with app.extensions["mail"].sessions() as db, statements(app) as seen:
        found = people.persons_for(db, [f"P{n}@f{n % 7}.example" for n in range(50)])
        assert {p.company.name for persons in found.values() for p in persons} == {f"Företag {n}" for n in range(7)}
    assert len(found) == 50 and len(seen) == 1
    app.extensions["mail"].engine.dispose()
