"""The kiosk's copy of the hub's accounts, for lookups while the hub is out of reach.

A SQLite file of its own in the data directory (not the journal's database: the cache is
not a fact about money, can be thrown away and rebuilt, and must never contend with the
journal's writer). It is filled by ``GET /v1/accounts/snapshot`` once, then kept current by
``GET /v1/accounts/delta?since=VERSION``; each update is one transaction, so a lookup sees
one catalog version or the next, never half of a delta.

The schema has a version of its own; a file from another version is simply emptied and
filled again from a snapshot (no migrations for a cache).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    String,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from contract.wire import Account, AccountDelta, AccountSnapshot
from sync.client import HubClient

CACHE_FILE = "account-cache.sqlite"
SCHEMA_VERSION = "1"


class CacheError(Exception):
    """The cache file can not be used; lookups fall through to manual entry."""


class _Base(DeclarativeBase):
    pass


class CachedAccount(_Base):
    __tablename__ = "accounts"

    number: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)  # the wire Account as JSON


class CacheMeta(_Base):
    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AccountCache:
    """Lookups by number, and the updates that keep the copy current; thread-safe."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._engine: Engine = create_engine(
            f"sqlite+pysqlite:///{path}",
            connect_args={"timeout": 10.0, "check_same_thread": False},
        )

        @event.listens_for(self._engine, "connect")
        def _wal(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # a cache: losing the tail is fine
            cursor.close()

        try:
            self._prepare()
        except SQLAlchemyError as exc:
            raise CacheError(f"can not open the account cache at {path}: {exc}") from exc

    @classmethod
    def in_dir(cls, data_dir: Path) -> AccountCache:
        return cls(data_dir / CACHE_FILE)

    def close(self) -> None:
        self._engine.dispose()

    def _prepare(self) -> None:
        _Base.metadata.create_all(self._engine)
        with self._engine.begin() as conn:
            found = conn.execute(select(CacheMeta.value).where(CacheMeta.key == "schema")).scalar()
            if found != SCHEMA_VERSION:
                conn.execute(delete(CachedAccount))
                conn.execute(delete(CacheMeta))
                conn.execute(insert(CacheMeta).values(key="schema", value=SCHEMA_VERSION))

    # -------------------------------------------------------------------- reading

    def lookup(self, number: str) -> Account | None:
        try:
            with self._engine.connect() as conn:
                document = conn.execute(
                    select(CachedAccount.document).where(CachedAccount.number == number)
                ).scalar()
        except SQLAlchemyError as exc:
            raise CacheError(f"can not read the account cache: {exc}") from exc
        return None if document is None else Account.model_validate_json(document)

    def version(self) -> int | None:
        """The catalog version the cache holds; None before the first snapshot."""
        try:
            with self._engine.connect() as conn:
                value = conn.execute(
                    select(CacheMeta.value).where(CacheMeta.key == "version")
                ).scalar()
        except SQLAlchemyError as exc:
            raise CacheError(f"can not read the account cache: {exc}") from exc
        return None if value is None else int(value)

    def count(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(CachedAccount)).scalar_one())

    # ------------------------------------------------------------------- updating

    def replace(self, snapshot: AccountSnapshot) -> None:
        """Hold exactly the snapshot's accounts, at its version."""
        with self._engine.begin() as conn:
            conn.execute(delete(CachedAccount))
            self._put(conn, snapshot.accounts)
            self._set_version(conn, snapshot.version)

    def apply(self, delta: AccountDelta) -> None:
        """Apply a delta taken since the version held (else it is refused: take a snapshot)."""
        with self._engine.begin() as conn:
            held = conn.execute(select(CacheMeta.value).where(CacheMeta.key == "version")).scalar()
            if held is None or int(held) != delta.since:
                raise CacheError(f"a delta since {delta.since} does not apply to version {held}")
            numbers = [a.number for a in delta.accounts] + list(delta.removed)
            if numbers:
                conn.execute(delete(CachedAccount).where(CachedAccount.number.in_(numbers)))
            self._put(conn, delta.accounts)
            self._set_version(conn, delta.version)

    def refresh(self, client: HubClient) -> int:
        """Bring the cache up to the hub's catalog (a snapshot first, then deltas); returns
        the version now held. Raises :class:`sync.client.HubError` when the hub fails."""
        held = self.version()
        if held is None:
            snapshot = client.snapshot()
            self.replace(snapshot)
            return snapshot.version
        delta = client.delta(held)
        if delta.since != held or delta.version < held:
            # the hub's catalog went back (restored): start over from a snapshot
            snapshot = client.snapshot()
            self.replace(snapshot)
            return snapshot.version
        if delta.version != held or delta.accounts or delta.removed:
            self.apply(delta)
        return delta.version

    @staticmethod
    def _put(conn: Connection, accounts: list[Account]) -> None:
        rows = [{"number": a.number, "document": a.model_dump_json()} for a in accounts]
        if rows:
            conn.execute(insert(CachedAccount), rows)

    @staticmethod
    def _set_version(conn: Connection, version: int) -> None:
        conn.execute(delete(CacheMeta).where(CacheMeta.key == "version"))
        conn.execute(insert(CacheMeta).values(key="version", value=str(version)))
