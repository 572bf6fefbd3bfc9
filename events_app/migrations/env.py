"""Alembic environment: uses the app's engine settings (SQLite pragmas, PG pool)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import events_app.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from events_app.db import make_engine

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set"
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE on SQLite
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
