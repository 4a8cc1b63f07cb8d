"""The hub's schema is built by its Alembic migrations and agrees with the models."""

from __future__ import annotations

import threading

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from hub.db import Database, DatabaseError, alembic_config, database_url
from hub.models import Base
from tests.hub.conftest import drop_pg_schema, new_pg_schema


def test_models_and_migrations_agree(db_url: str) -> None:
    db = Database(db_url)
    db.upgrade_to_head()
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert db.current_revision() == head
    db.dispose()


def test_upgrading_twice_and_from_several_processes_at_once_is_harmless(db_url: str) -> None:
    errors: list[BaseException] = []

    def upgrade() -> None:
        db = Database(db_url)
        try:
            db.upgrade_to_head()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db = Database(db_url)
    db.upgrade_to_head()
    assert "journal_entries" in inspect(db.engine).get_table_names()
    db.dispose()


def test_database_urls() -> None:
    assert database_url("/tmp/hub.sqlite") == "sqlite+pysqlite:////tmp/hub.sqlite"
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_a_schema_change_behind_a_long_transaction_gives_up_and_changes_nothing(
    pg_server: tuple[Engine, str],
) -> None:
    """On PostgreSQL an ALTER TABLE waiting for its lock holds every push queued behind it:
    the upgrade waits a bounded time, then gives up whole and says why; once the long
    transaction is over it goes through. (From 0012 the next migration alters ``kiosks``.)"""
    schema, url = new_pg_schema(pg_server)
    db = Database(url)
    try:
        with db.write() as conn:
            command.upgrade(alembic_config(conn), "0012")
        with db.engine.connect() as long_running:  # a push's transaction that will not end
            long_running.execute(text("BEGIN"))
            long_running.execute(text("SELECT count(*) FROM kiosks"))
            with pytest.raises(
                DatabaseError, match=r"waited more than 0\.3 s .* nothing was changed"
            ):
                db.upgrade_to_head(lock_timeout_s=0.3)
            assert db.current_revision() == "0012"
            long_running.execute(text("ROLLBACK"))
        db.upgrade_to_head()
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert db.current_revision() == head
    finally:
        db.dispose()
        drop_pg_schema(pg_server, schema)
