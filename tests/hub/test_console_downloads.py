"""Downloads from the console: the same file twice for a day, audited, only for the roles
that export, and no expected cash in a report before a counter has counted the batch."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from hub import finance
from hub.models import AuditEntry
from tests.hub.console_client import add_user, sign_in
from tests.hub.console_day import reconciliation_day
from tests.hub.harness import HubHarness

pytestmark = pytest.mark.postgresql_in_slow_suite


@pytest.fixture
def day(hub: HubHarness, tmp_path: Path) -> str:
    return reconciliation_day(hub, tmp_path)


def _as(hub: HubHarness, role: str) -> None:
    name = f"{role}-dl"
    secret = add_user(hub, name, role)
    hub.client.cookies.clear()
    hub.clock.advance(seconds=31)  # a fresh TOTP step for every sign-in
    assert sign_in(hub, name, secret).status_code == 303


def _exports(hub: HubHarness) -> list[tuple[str, str]]:
    with hub.ctx.db.read() as conn:
        rows = conn.execute(
            select(AuditEntry.actor, AuditEntry.target).where(AuditEntry.action == "export")
        ).all()
    return [(r.actor, r.target) for r in rows]


def test_a_clerk_downloads_a_days_payments_twice_the_same(hub: HubHarness, day: str) -> None:
    _as(hub, "clerk")
    today = finance.search_payments(hub.ctx.db)[0].effective_date.isoformat()
    page = hub.client.get(f"/console/payments?day={today}")
    assert f"/console/exports/payments.csv?day={today}" in page.text
    first = hub.client.get(f"/console/exports/payments.csv?day={today}")
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("text/csv")
    assert f'filename="payments-{today}.csv"' in first.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(first.content.decode("utf-8"))))
    assert len(rows) == 5
    again = hub.client.get(f"/console/exports/payments.csv?day={today}")
    assert again.content == first.content
    assert _exports(hub) == [("clerk-dl", f"payments-{today}.csv")] * 2


def test_a_counter_gets_no_report_of_a_batch_not_yet_counted(hub: HubHarness, day: str) -> None:
    _as(hub, "clerk")
    page = hub.client.get(f"/console/batches/k1/{day}")
    assert "Reconciliation report (PDF)" not in page.text
    refused = hub.client.get(f"/console/exports/batch-report/k1/{day}.pdf")
    assert refused.status_code == 403
    assert _exports(hub) == []
    _as(hub, "supervisor")
    report = hub.client.get(f"/console/exports/batch-report/k1/{day}.pdf")
    assert report.status_code == 200 and report.content.startswith(b"%PDF")


@pytest.mark.parametrize("role", ["technician", "admin"])
def test_roles_that_do_not_export_are_refused(hub: HubHarness, day: str, role: str) -> None:
    _as(hub, role)
    today = hub.clock().date().isoformat()
    response = hub.client.get(f"/console/exports/deposit-slip.pdf?day={today}")
    assert response.status_code == 403
    assert _exports(hub) == []


def test_a_bad_day_is_refused(hub: HubHarness, day: str) -> None:
    _as(hub, "clerk")
    response = hub.client.get("/console/exports/payments.csv?day=yesterday")
    assert response.status_code in (400, 422)
    assert "is not a day" in response.text
    assert _exports(hub) == []


def test_every_action_has_a_name_for_its_refusal() -> None:
    from hub.console.guard import ACTION_NAMES
    from hub.staff.roles import ACTIONS

    assert set(ACTION_NAMES) == set(ACTIONS)


def test_the_audit_log_is_downloaded_by_those_who_read_it(hub: HubHarness, day: str) -> None:
    _as(hub, "auditor")
    page = hub.client.get("/console/audit")
    assert "/console/exports/audit.csv" in page.text
    response = hub.client.get("/console/exports/audit.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert ("auditor-dl", "signin.ok") in {(r["actor"], r["action"]) for r in rows}
    assert [int(r["id"]) for r in rows] == sorted(int(r["id"]) for r in rows)
    _as(hub, "clerk")
    assert hub.client.get("/console/exports/audit.csv").status_code == 403
