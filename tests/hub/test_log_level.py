"""One log level for every hub process, changed while they run: `kiosk-hub log-level`
stores it (audited), and each process takes it at its next look."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from hub.api.app import follow_log_level
from hub.cli import main
from hub.models import AuditEntry
from tests.hub.harness import HubHarness


@pytest.fixture(autouse=True)
def root_level() -> Iterator[None]:
    root = logging.getLogger()
    before = root.level
    yield
    root.setLevel(before)


def test_set_once_followed_by_the_process_and_audited(
    hub: HubHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    assert follow_log_level(hub.ctx) is None  # not set: the process keeps its own
    assert main(["--db", hub.db_url, "log-level"]) == 0
    assert "not set" in capsys.readouterr().out
    logging.getLogger().setLevel(logging.INFO)

    assert main(["--db", hub.db_url, "log-level", "debug"]) == 0
    assert "every running hub process takes it within 10 s" in capsys.readouterr().out
    assert follow_log_level(hub.ctx) == "debug"
    assert logging.getLogger().level == logging.DEBUG
    assert main(["--db", hub.db_url, "log-level", "warning"]) == 0
    assert follow_log_level(hub.ctx) == "warning"
    assert logging.getLogger().level == logging.WARNING

    with hub.ctx.db.read() as conn:
        rows = conn.execute(
            select(AuditEntry.action, AuditEntry.target, AuditEntry.after).order_by(AuditEntry.id)
        ).all()
    assert [(r.action, r.target) for r in rows] == [("option.changed", "log_level")] * 2
    assert "warning" in str(rows[-1].after)


def test_a_level_that_is_not_one_is_refused(hub: HubHarness) -> None:
    with pytest.raises(SystemExit):
        main(["--db", hub.db_url, "log-level", "loud"])
