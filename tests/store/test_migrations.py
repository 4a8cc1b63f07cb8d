"""The schema is built by the Alembic migrations, agrees with the models, and upgrades a
kiosk in the field without losing or re-marking its unsent entries."""

from __future__ import annotations

import fnmatch
import sqlite3
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine

from contract import entries as e
from contract.chain import GENESIS, canonical_json, entry_hash
from kiosk.store.db import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    migrate,
    open_database,
    upgrade_to_head,
    writer,
)
from kiosk.store.journal import Journal, JournalError
from kiosk.store.models import Base
from tests.store.builders import card_payment, cash_payment

ROOT = Path(__file__).resolve().parents[2]


def test_models_and_migrations_agree(db_path: Path) -> None:
    engine = open_database(db_path)
    upgrade_to_head(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def _schema(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master"
            " WHERE sql IS NOT NULL AND name != 'alembic_version'"
        )
        return {name: " ".join(sql.split()) for name, sql in rows}


def test_migrations_build_exactly_the_models_ddl(tmp_path: Path) -> None:
    """compare_metadata skips CHECK constraints and names; the DDL text does not."""
    migrated = open_database(tmp_path / "migrated.sqlite")
    upgrade_to_head(migrated)
    created = create_engine(f"sqlite:///{tmp_path / 'created.sqlite'}")
    Base.metadata.create_all(created)
    assert _schema(migrated) == _schema(created)
    migrated.dispose()
    created.dispose()


def test_head_is_0003_and_upgrading_twice_is_harmless(db_path: Path) -> None:
    engine = open_database(db_path)
    upgrade_to_head(engine)
    upgrade_to_head(engine)
    assert current_revision(engine) == "0003"
    engine.dispose()


def test_downgrade_to_nothing_and_back(db_path: Path) -> None:
    engine = open_database(db_path)
    upgrade_to_head(engine)
    with writer(engine).begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert current_revision(engine) is None
    upgrade_to_head(engine)
    assert current_revision(engine) == "0003"
    engine.dispose()


def test_the_migrations_ship_with_the_package() -> None:
    """Alembic finds the revisions by path, so every file must be in package-data."""
    script = ScriptDirectory.from_config(alembic_config())
    assert [r.revision for r in script.walk_revisions()] == ["0003", "0002", "0001"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["kiosk"]
    package = ROOT / "kiosk"
    for path in MIGRATIONS_DIR.rglob("*.py"):
        relative = path.relative_to(package).as_posix()
        if "__pycache__" not in relative:
            assert any(fnmatch.fnmatch(relative, p) for p in patterns), relative


def _write_as_0001(db_path: Path, steps: list[tuple[str, dict[str, Any]]]) -> list[tuple[Any, ...]]:
    """Entries as the 0001 release stored them: raw rows, hash-chained, no sync cursor."""
    rows = []
    prev = GENESIS
    for seq, (type_, payload) in enumerate(steps, start=1):
        at = f"2024-12-31T23:{seq // 60:02d}:{seq % 60:02d}.000000Z"
        entry_id = str(uuid.uuid4())
        digest = entry_hash(prev, seq, entry_id, at, type_, payload)
        rows.append((seq, entry_id, at, type_, canonical_json(payload), prev, digest))
        prev = digest
    with sqlite3.connect(db_path) as raw:
        raw.executemany("INSERT INTO journal VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return rows


def _plain_steps() -> list[tuple[str, dict[str, Any]]]:
    steps = cash_payment("old-1", "1001", [2000, 1000]) + card_payment("old-2", "1002", 4317, 108)
    out: list[tuple[str, dict[str, Any]]] = []
    last_intent = 0
    for seq, step in enumerate(steps, start=1):
        payload = dict(step.payload)
        if step.settles:
            payload["intent_seq"] = last_intent
        if step.intent:
            last_intent = seq
        out.append((step.type, payload))
    return out


def test_an_upgrade_keeps_unsent_entries_intact_and_unsent(db_path: Path) -> None:
    engine = open_database(db_path)
    migrate(engine, "0001")
    assert current_revision(engine) == "0001"
    engine.dispose()
    rows = _write_as_0001(db_path, _plain_steps())

    with Journal.open(db_path) as journal:
        assert current_revision(journal.engine) == "0003"
        with sqlite3.connect(db_path) as raw:
            assert raw.execute("SELECT * FROM journal ORDER BY seq").fetchall() == rows
        assert [x.hash for x in journal.entries()] == [r[6] for r in rows]
        report = journal.verify()
        assert report.ok and report.checked == len(rows)
        assert journal.acked_seq() == 0  # every old entry still counts as unsent
        # the projections the old release had no watermark for are replayed on open
        assert journal.projected_seq() == len(rows)
        assert [p.payment_id for p in journal.payments()] == ["P-old-1", "P-old-2"]
        assert journal.batches()[0].cash_cents == 3000
        assert journal.append(e.KIOSK_STARTED, {"version": "0.2"}).seq == len(rows) + 1
        assert journal.verify().ok


def test_stale_projections_are_left_alone_until_a_catch_up(db_path: Path) -> None:
    engine = open_database(db_path)
    migrate(engine, "0001")
    engine.dispose()
    rows = _write_as_0001(db_path, _plain_steps())
    with Journal.open(db_path, catch_up=False) as journal:
        assert journal.projected_seq() == 0
        journal.append(e.KIOSK_STARTED, {"version": "0.2"})
        assert journal.payments() == [] and journal.projected_seq() == 0
    with Journal.open(db_path) as journal:
        assert journal.projected_seq() == len(rows) + 1
        assert len(journal.payments()) == 2


def test_a_database_from_a_newer_release_is_refused_clearly(db_path: Path) -> None:
    Journal.open(db_path).close()
    with sqlite3.connect(db_path) as raw:
        raw.execute("UPDATE alembic_version SET version_num = '0099'")
    with pytest.raises(JournalError, match=r"can not migrate the journal at .*0099"):
        Journal.open(db_path)
