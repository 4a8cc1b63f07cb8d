"""The hub's database: SQLite by default (a file, no server), PostgreSQL for a fleet.

Several hub processes may share one PostgreSQL database, so every write that must not
interleave takes a lock in the database, never in the process: ingest locks the kiosk's row
(``SELECT … FOR NO KEY UPDATE``), account imports and ledger postings lock the catalog row.
On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` (as the kiosk's journal
does), which serializes writers up front instead of failing half way with "database is
locked".

Migrations ship inside the package and run on the hub's own connection (no ini file); on
PostgreSQL a transaction-scoped advisory lock keeps two processes starting at once from
running them twice.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.sql.dml import Insert

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: the longest a schema change waits for a table's lock on PostgreSQL (pushes queue behind it)
MIGRATION_LOCK_TIMEOUT_S = 5.0
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for lock_timeout
_SCHEMA_LOCK = "hashtext('kiosk-hub:' || current_schema())"  # one migration at a time
BUSY_TIMEOUT_S = 30.0
_BEGIN_OPTION = "hub_begin"

Dialect = Literal["sqlite", "postgresql"]


class DatabaseError(Exception):
    """The database named in the settings can not be used; the message says why."""


def database_url(value: str) -> str:
    """A SQLAlchemy URL from a file path or a URL (``postgresql://`` means psycopg 3)."""
    if "://" not in value:
        return f"sqlite+pysqlite:///{Path(value).expanduser().resolve()}"
    for plain in ("postgresql://", "postgres://"):
        if value.startswith(plain):
            return "postgresql+psycopg://" + value[len(plain) :]
    return value


class Database:
    """One engine on the hub's database, and the two kinds of transaction the hub uses."""

    def __init__(self, url_or_path: str) -> None:
        url = database_url(url_or_path)
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise DatabaseError(f"not a database URL or file path: {url_or_path!r}") from exc
        backend = parsed.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise DatabaseError(f"the hub runs on SQLite or PostgreSQL, not {backend!r}")
        self.dialect: Dialect = "sqlite" if backend == "sqlite" else "postgresql"
        self.url = url
        self.engine: Engine = (
            _sqlite_engine(url, parsed.database) if self.dialect == "sqlite" else _pg_engine(url)
        )
        self._writer = (
            self.engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
            if self.dialect == "sqlite"
            else self.engine
        )

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that will write: committed on success, rolled back on any error."""
        with self._writer.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A transaction that only reads: one consistent snapshot on SQLite."""
        with self.engine.begin() as conn:
            yield conn

    def insert_ignore(self, table: Table, values: Mapping[str, Any]) -> Insert:
        """``INSERT … ON CONFLICT DO NOTHING``: the unique constraints decide, atomically.

        The result's ``rowcount`` says whether the row went in (1) or was already there (0);
        SQLAlchemy keeps it for INSERTs only when asked to (``preserve_rowcount``).
        """
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        statement: Insert = dialect.insert(table).values(dict(values)).on_conflict_do_nothing()
        statement = statement.execution_options(preserve_rowcount=True)
        return statement

    def insert_ignore_many(self, table: Table) -> Insert:
        """``INSERT … ON CONFLICT DO NOTHING`` for many rows at once (pass them to
        ``execute``); add ``RETURNING`` to learn which went in."""
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        statement: Insert = dialect.insert(table).on_conflict_do_nothing()
        return statement

    def upgrade_to_head(self, lock_timeout_s: float = MIGRATION_LOCK_TIMEOUT_S) -> None:
        """Create or upgrade the schema, in one transaction; safe to run from many processes.

        On PostgreSQL a schema change takes its table's strongest lock, and while it waits for
        that lock (behind a long transaction, say) every push queued behind it waits too. So
        a change waits at most ``lock_timeout_s`` for its locks, then gives up with nothing
        changed (one transaction) and says so: pushes are held up for seconds, never for as
        long as the longest transaction. Run it again once the database is quieter.
        """
        try:
            with self.write() as conn:
                if self.dialect == "postgresql":
                    conn.execute(text(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})"))
                    # after the advisory lock: processes starting together queue for that
                    conn.execute(text(f"SET LOCAL lock_timeout = {int(lock_timeout_s * 1000)}"))
                command.upgrade(alembic_config(conn), "head")
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            raise DatabaseError(
                f"the schema change waited more than {lock_timeout_s:g} s for a table in use "
                "(a long transaction?) and was given up, so as not to hold the kiosks' pushes "
                "behind it; nothing was changed: run it again"
            ) from exc

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # any failure means "unreachable" to a health check
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's config without an ini file: the migrations ship inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (below); the PRAGMAs need autocommit anyway.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            _switch_to_wal(cursor)
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")

    return engine


def _switch_to_wal(cursor: Any) -> None:
    """Turning a new file to WAL needs a lock that SQLite's busy timeout does not wait for,
    so hub processes starting together on a new database take turns here instead of one of
    them failing with "database is locked"."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _pg_engine(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
