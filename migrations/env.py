"""Alembic environment: runs on the connection the app hands over, or on DATABASE_URL."""

import os

from alembic import context
from sqlalchemy import create_engine

from mailcore.models import Base
from mailcore.search.index import schema_filter

target_metadata = Base.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///instance/inkorg.db"))
    with engine.begin() as own:
        _run(own)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, include_object=schema_filter,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
