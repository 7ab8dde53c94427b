"""Engine, sessions and bringing a database up to date with the migrations."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from mailcore.keyfile import private_file, private_folder
from mailcore.resources import resource_root

MIGRATIONS = resource_root() / "migrations"
MIGRATION_LOCK = 0x1A0C0F6  # any constant: PostgreSQL's advisory lock for "migrating Inkorg"


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        database = engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            private_folder(Path(database).parent)
            private_file(Path(database))  # every user's mail: for the app's own account only
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL syncs the disk at checkpoints instead of at every commit: a crash of the app
    # loses nothing and the database cannot be corrupted; a power cut may take back the last
    # commits. A first sync commits a hundred batches; at FULL each waited 6 ms for the disk.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def upgrade(engine: Engine) -> None:
    """Apply every migration the database lacks (a new database gets them all)."""
    if _applied(engine) == _heads():
        return  # up to date: every process start (a web worker, `flask sync now`) skips loading Alembic
    migrate(engine, "head")


def migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    """Upgrade (or with `down`, downgrade) the database to one revision, in one transaction."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # gunicorn's workers, sync workers and watchers start together: one migrates, the rest wait
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


@cache
def _heads() -> frozenset[str]:
    """The newest revisions of migrations/versions, read from their `revision` and `down_revision`
    (once per process: they are part of the installed code)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name = node.targets[0].id
                if name in ("revision", "down_revision"):
                    value = ast.literal_eval(node.value)
                    values = {value} if isinstance(value, str) else set(value or ())
                    (revisions if name == "revision" else parents).update(values)
    return frozenset(revisions - parents)


def _applied(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return set()
        return set(connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
