"""Opening the kiosk's SQLite file and bringing its schema up to date.

The journal's promise (DESIGN.md rule 2) is that an entry is on disk before the kiosk
takes the next step, so every connection runs in WAL mode with ``synchronous=FULL``.
Python's ``sqlite3`` (before 3.12's ``autocommit``) does not emit BEGIN for reads or DDL,
so SQLAlchemy takes over: it emits ``BEGIN`` itself, or ``BEGIN IMMEDIATE`` on a writer
engine (:func:`writer`), so two writers queue on the lock up front instead of failing
half way with "database is locked" when a read transaction tries to upgrade.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, event

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BEGIN_OPTION = "kiosk_begin"
BUSY_TIMEOUT_S = 15.0

Synchronous = Literal["FULL", "NORMAL", "OFF"]


def open_database(path: Path, synchronous: Synchronous = "FULL") -> Engine:
    """An engine on the SQLite file at ``path``, creating its directory if need be.

    ``synchronous`` other than ``"FULL"`` exists only for the benchmark's baseline: the
    kiosk itself never runs without an fsync per commit.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        f"sqlite+pysqlite:///{path}",
        connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Leave BEGIN to us (see the module docstring); the PRAGMAs need autocommit anyway.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(BEGIN_OPTION, "")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")

    return engine


def writer(engine: Engine) -> Engine:
    """The same pool, but every transaction starts with ``BEGIN IMMEDIATE``."""
    return engine.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's config without an ini file: the migrations ship inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str) -> None:
    """Upgrade to ``revision`` in one transaction: a failed migration leaves the old schema."""
    with writer(engine).begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def upgrade_to_head(engine: Engine) -> None:
    """Bring a kiosk's database, new or from an older release, to the current schema."""
    migrate(engine, "head")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
