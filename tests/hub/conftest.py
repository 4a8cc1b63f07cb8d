"""Fixtures for the hub's tests: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is the server on 127.0.0.1:5432, database ``test`` (override with
``KIOSK_HUB_TEST_PG``). Each test gets a schema of its own, named after this run, dropped
when the test ends (and any leftovers of this run at the end of the session), so parallel
runs and the other services using that database are not disturbed. The PostgreSQL variants
are skipped only when the server can not be reached, with the reason.

Modules whose tests do not depend on the engine (pages, forms, downloads, command lines: the
queries under them are tested on both by the modules that store and count) are marked
``postgresql_in_slow_suite``: their PostgreSQL variants run in `make test-slow`.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

with warnings.catch_warnings():
    # Starlette now prefers another client for its TestClient; FastAPI's is still httpx.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    import fastapi.testclient  # noqa: F401

from hub.db import Database
from tests.hub.harness import Creds, HubHarness, KioskSide

PG_URLS = (
    [os.environ["KIOSK_HUB_TEST_PG"]]
    if os.environ.get("KIOSK_HUB_TEST_PG")
    else [
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        "postgresql+psycopg://root@127.0.0.1:5432/test",
    ]
)
RUN = uuid.uuid4().hex[:8]
_numbers = itertools.count(1)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The PostgreSQL variant of a test in a ``postgresql_in_slow_suite`` module is slow."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if (
            callspec is not None
            and callspec.params.get("db_url") == "postgresql"
            and item.get_closest_marker("postgresql_in_slow_suite")
        ):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[tuple[Engine, str]]:
    """An engine on the test database and its base URL; skips if the server is not there."""
    reasons = []
    for url in PG_URLS:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            reasons.append(f"{url}: {str(exc.orig).strip().splitlines()[0]}")
            engine.dispose()
            continue
        try:
            yield engine, url
        finally:
            with engine.connect() as conn:
                leftovers = conn.execute(
                    text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"),
                    {"p": f"hub_test_{RUN}_%"},
                ).scalars()
                for schema in list(leftovers):
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()
        return
    pytest.skip("PostgreSQL is not reachable: " + "; ".join(reasons))


def new_pg_schema(server: tuple[Engine, str]) -> tuple[str, str]:
    """A fresh schema; returns (its name, a hub URL whose search_path is that schema)."""
    engine, base = server
    schema = f"hub_test_{RUN}_{next(_numbers)}"
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    return schema, f"{base}?options=-csearch_path%3D{schema}"


def drop_pg_schema(server: tuple[Engine, str], schema: str) -> None:
    with server[0].connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The hub database for one test: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield str(tmp_path / "hub.sqlite")
        return
    server = request.getfixturevalue("pg_server")
    schema, url = new_pg_schema(server)
    try:
        yield url
    finally:
        drop_pg_schema(server, schema)


@pytest.fixture(scope="session")
def migrated_sqlite_hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite hub database upgraded to the head once per test process: a hub test on SQLite
    starts from a copy of it rather than running every migration again (the migrations
    themselves run from an empty database in test_migrations.py and for every PostgreSQL
    schema)."""
    path = tmp_path_factory.mktemp("hub-template") / "hub.sqlite"
    database = Database(str(path))
    try:
        database.upgrade_to_head()
    finally:
        database.dispose()
    assert not path.with_name("hub.sqlite-wal").exists(), "the template is not one file"
    return path


@pytest.fixture
def hub(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[HubHarness]:
    """A hub on the test's database, posting to its own ledger, with a movable clock."""
    if not db_url.startswith("postgresql") and not Path(db_url).exists():
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_hub"), db_url)
    harness = HubHarness(db_url, tmp_path)
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture
def creds(hub: HubHarness) -> Creds:
    """Kiosk ``k1``, enrolled."""
    return hub.enroll("k1")


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[KioskSide]:
    """A kiosk's journal with nothing in it yet."""
    side = KioskSide(tmp_path / "kiosk.sqlite")
    yield side
    side.close()
