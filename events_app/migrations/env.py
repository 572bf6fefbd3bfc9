"""Alembic environment: uses the app's engine settings (SQLite pragmas, PG pool)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import events_app.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from events_app.db import make_engine

target_metadata = SQLModel.metadata
# SQLite's full-text index of events (migration 0007) and its shadow tables: a virtual table
# the models cannot describe, kept in step by triggers.
UNMODELLED_TABLES = ("event_search",)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    return not (type_ == "table" and name is not None and name.startswith(UNMODELLED_TABLES))


def include_object_for(dialect: str):
    """Compare an index the models create on one dialect only (Index.ddl_if, e.g. the span
    index of migration 0007, written differently per database) only on that dialect:
    autogenerate does not read ddl_if itself."""
    def include_object(obj: object, name: str | None, type_: str, reflected: bool,
                       compare_to: object) -> bool:
        only = getattr(obj, "_ddl_if", None)
        return reflected or type_ != "index" or only is None or only.dialect in (None, dialect)
    return include_object


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
            include_name=include_name,
            include_object=include_object_for(connection.dialect.name),
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
