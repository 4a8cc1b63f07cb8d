"""Alembic's entry point for the hub schema.

The hub runs migrations from :meth:`hub.db.Database.upgrade_to_head`, which hands over its
own connection (inside a transaction, under an advisory lock on PostgreSQL) through
``config.attributes``; a URL is only needed when a developer runs ``alembic`` by hand.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from hub.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite copies tables to alter them
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str | None:
    return context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = _url()
    if not url:
        raise RuntimeError(
            "no database: pass a connection in config.attributes['connection'], "
            "or run alembic with -x url=sqlite:////path/to/hub.sqlite"
        )
    engine = create_engine(url)
    with engine.begin() as own:
        _run(own)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
