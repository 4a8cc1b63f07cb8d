"""The hub's schema is built by its Alembic migrations and agrees with the models."""

from __future__ import annotations

import threading

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from hub.db import Database, alembic_config, database_url
from hub.models import Base


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
