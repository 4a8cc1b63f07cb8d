"""The console's posting files: each import file the hub wrote, listed with its totals and
taken again byte for byte by the roles that export, audited; a file not yet written is
shown waiting, with no link."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.models import AuditEntry
from tests.hub.console_client import sign_in_as
from tests.hub.harness import HubHarness, KioskSide
from tests.store.builders import card_payment, cash_payment

pytestmark = pytest.mark.postgresql_in_slow_suite


@pytest.fixture
def filed(db_url: str, tmp_path: Path) -> Iterator[HubHarness]:
    """A hub posting lockbox files, with one written (two payments, $154.50) and one waiting
    for the billing system's directory."""
    hub = HubHarness(db_url, tmp_path, adapter="file", file_dir=tmp_path / "cis", layout="lockbox")
    side = KioskSide(tmp_path / "kiosk.sqlite")
    try:
        side.write(cash_payment("s1", "100200302", [2000, 500]))
        side.write(card_payment("s2", "100200419", 12950, 324))
        hub.push(hub.enroll("k1"), side.wire())
        assert sorted(hub.ctx.poster.run().posted) == ["P-s1", "P-s2"]
        (tmp_path / "cis").rename(tmp_path / "cis-away")  # the billing system's share is gone
        (tmp_path / "cis").write_text("not a directory")
        creds = hub.enroll("k2")
        other = KioskSide(tmp_path / "k2.sqlite")
        other.write(cash_payment("t1", "100200526", [1000]))
        hub.push(creds, other.wire())
        other.close()
        assert set(hub.ctx.poster.run().failed) == {"P-t1"}
        yield hub
    finally:
        side.close()
        hub.close()


def _exports(hub: HubHarness) -> list[tuple[str, str, str]]:
    with hub.ctx.db.read() as conn:
        rows = conn.execute(
            select(AuditEntry.actor, AuditEntry.target, AuditEntry.detail).where(
                AuditEntry.action == "export"
            )
        ).all()
    return [(r.actor, r.target, r.detail or "") for r in rows]


def test_a_clerk_takes_a_written_file_again_byte_for_byte(filed: HubHarness) -> None:
    [written] = sorted((filed.tmp_path / "cis-away").iterdir())
    sign_in_as(filed, "clerk")
    page = filed.client.get("/console/posting-files")
    assert page.status_code == 200, page.text
    assert written.name in page.text and "$154.50" in page.text  # 25.00 + 129.50
    assert "lockbox" in page.text
    assert "not yet: waiting for the billing system" in page.text
    assert page.text.count('href="/console/posting-files/') == 1, "no link to an unwritten file"

    again = filed.client.get("/console/posting-files/1")
    assert again.status_code == 200, again.text
    assert again.content == written.read_bytes()
    assert f'filename="{written.name}"' in again.headers["content-disposition"]
    assert _exports(filed) == [
        ("clerk-1", written.name, f"transmission 1, {len(again.content)} bytes")
    ]

    assert filed.client.get("/console/posting-files/2").status_code == 404  # not written yet
    assert filed.client.get("/console/posting-files/99").status_code == 404


def test_only_the_roles_that_see_money_see_the_files(filed: HubHarness) -> None:
    for role in ("technician", "admin"):
        sign_in_as(filed, role)
        assert filed.client.get("/console/posting-files").status_code == 403
        assert filed.client.get("/console/posting-files/1").status_code == 403
    sign_in_as(filed, "auditor")
    assert filed.client.get("/console/posting-files").status_code == 200
    assert filed.client.get("/console/posting-files/1").status_code == 200
