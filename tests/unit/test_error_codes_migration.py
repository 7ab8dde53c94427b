"""Migration 0006: an account's last error, stored before as a Python class name, becomes the
error's stable code, so an operator's existing accounts keep their explanation after the upgrade."""

from __future__ import annotations

import importlib.util

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from mailcore import errors
from mailcore.db import MIGRATIONS

spec = importlib.util.spec_from_file_location("error_codes", MIGRATIONS / "versions" / "0006_error_codes.py")
error_codes = importlib.util.module_from_spec(spec)
spec.loader.exec_module(error_codes)


def migrate(engine, action, revision: str) -> None:
    """As mailcore.db.upgrade does it, to a chosen revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        action(config, revision)


@pytest.fixture
def database(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, command.upgrade, "0005")
    yield engine
    engine.dispose()


def _add_account(connection, number: int, kind: str | None) -> None:
    connection.execute(text(
        "insert into users (id, email, name, password_hash, show_inline_images, mark_read_in_preview,"
        " save_sent_copy, signature, created_at) values (:id, :email, 'Anna', 'x', 0, 1, 1, '', '2025-06-16')"),
        {"id": number, "email": f"user{number}@inkorg.test"})
    connection.execute(text(
        "insert into accounts (id, user_id, address, settings_source, imap_host, imap_port, imap_ssl,"
        " imap_username, imap_password, smtp_host, smtp_port, smtp_ssl, smtp_same_login, smtp_username,"
        " smtp_password, created_at, last_error_kind, last_error_side, last_error_detail)"
        " values (:id, :id, :email, 'provider', 'imap.inkorg.test', 993, 1, :email, x'00', 'smtp.inkorg.test',"
        " 465, 1, 1, :email, x'00', '2025-06-16', :kind, 'incoming', 'Invalid credentials')"),
        {"id": number, "email": f"user{number}@inkorg.test", "kind": kind})


def _kinds(engine) -> dict[int, str | None]:
    with engine.connect() as connection:
        return dict(connection.execute(text("select id, last_error_kind from accounts")).all())


def test_a_stored_class_name_becomes_its_code(database):
    with database.begin() as connection:
        _add_account(connection, 1, "AuthenticationFailed")
        _add_account(connection, 2, None)
    migrate(database, command.upgrade, "head")
    assert _kinds(database) == {1: "authentication-failed", 2: None}
    assert errors.kind_of("authentication-failed") is errors.AuthenticationFailed


def test_every_old_name_is_carried_over_and_back(database):
    names = sorted(error_codes.CODES)
    with database.begin() as connection:
        for number, name in enumerate(names, start=1):
            _add_account(connection, number, name)
        _add_account(connection, len(names) + 1, "SomethingRetired")
    migrate(database, command.upgrade, "0006")
    after = _kinds(database)
    for number, name in enumerate(names, start=1):
        assert errors.kind_of(after[number]).__name__ == name
    assert after[len(names) + 1] == "SomethingRetired"  # read back as the generic failure
    migrate(database, command.downgrade, "0005")
    assert [_kinds(database)[n] for n in range(1, len(names) + 1)] == names


def test_the_migration_knows_every_error_that_could_be_stored_before_it():
    """0006 must name each class that 0005's code could store: every error but those added since."""
    added_since = {"SecretUnreadable", "SignInAgain", "SignInServiceFailed", "ServerBusy"}
    stored_before = {cls.__name__ for cls in errors.MailError.__subclasses__()} - added_since
    assert set(error_codes.CODES) == stored_before
    assert all(errors.kind_of(code).__name__ == name for name, code in error_codes.CODES.items())
