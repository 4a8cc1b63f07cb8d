"""The console's money pages in-process: a batch's blind count and its sign-off, payments
and a retry, suspense resolved, the over/short ledger; each refusal changes nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from hub import counts, finance, kiosk_config, options
from hub.models import AuditEntry
from tests.hub.console_client import form_token, sign_in_as
from tests.hub.console_day import FAILED, MEANT, SUSPENDED, reconciliation_day
from tests.hub.harness import HubHarness

pytestmark = pytest.mark.postgresql_in_slow_suite

COUNTED = {"notes-500": "1", "notes-1000": "1", "notes-2000": "2"}  # one $20 short


@pytest.fixture
def day(hub: HubHarness, tmp_path: Path) -> str:
    return reconciliation_day(hub, tmp_path)


def _as(hub: HubHarness, role: str) -> None:
    sign_in_as(hub, role)


def _audit(hub: HubHarness, action: str) -> list[tuple[str, str | None, str | None]]:
    with hub.ctx.db.read() as conn:
        rows = conn.execute(
            select(AuditEntry.actor, AuditEntry.before, AuditEntry.after).where(
                AuditEntry.action == action
            )
        ).all()
    return [(r.actor, r.before, r.after) for r in rows]


def test_the_day_is_written_as_finance_will_find_it(hub: HubHarness, day: str) -> None:
    statuses = {p.payment_id: p.posting_status for p in finance.search_payments(hub.ctx.db)}
    assert statuses == {
        "P-s1": "posted",
        FAILED: "failed",
        "P-s3": "posted",
        SUSPENDED: "suspense",
        "P-s5": "posted",
    }


def test_a_blind_count_then_its_variance_signed_off_by_a_supervisor(
    hub: HubHarness, day: str
) -> None:
    url = f"/console/batches/k1/{day}"
    _as(hub, "clerk")
    blind = hub.client.get(url)
    assert blind.status_code == 200
    assert 'name="notes-2000"' in blind.text and 'name="version" value="0"' in blind.text
    assert "$75.00" not in blind.text and "Expected" not in blind.text  # blind
    assert "NOT AGREED" in blind.text and "Dana Lopez" in blind.text

    fields = {"csrf_token": form_token(blind), "version": "0"}
    bad = hub.client.post(url + "/count", data=fields | {"notes-2000": "-1"})
    assert bad.status_code == 422 and "not a whole number of notes" in bad.text
    assert "Expected" not in bad.text and counts.reconciliation(hub.ctx.db, "k1", day) is None

    saved = hub.client.post(url + "/count", data=fields | COUNTED, follow_redirects=False)
    assert saved.status_code == 303
    shown = hub.client.get(url).text
    assert "Expected" in shown and "$75.00" in shown and "short -$20.00" in shown
    again = hub.client.post(url + "/count", data=fields | COUNTED)
    assert again.status_code == 409 and "counted already" in again.text
    approve = {"csrf_token": fields["csrf_token"], "version": "1", "reason": "a note was stuck"}
    refused = hub.client.post(url + "/approve", data=approve)
    assert refused.status_code == 403 and "may not approve a variance" in refused.text
    assert counts.reconciliation(hub.ctx.db, "k1", day).status == "variance"  # type: ignore[union-attr]

    _as(hub, "supervisor")
    page = hub.client.get(url)
    approve["csrf_token"] = form_token(page)
    short = hub.client.post(url + "/approve", data=approve | {"reason": "ok"})
    assert short.status_code == 422 and "at least 10 characters" in short.text
    stale = hub.client.post(url + "/approve", data=approve | {"version": "0"})
    assert stale.status_code == 409 and "changed since the page was loaded" in stale.text
    done = hub.client.post(url + "/approve", data=approve, follow_redirects=False)
    assert done.status_code == 303
    after = counts.reconciliation(hub.ctx.db, "k1", day)
    assert after is not None and (after.status, after.decided_by) == ("approved", "supervisor-1")
    [(actor, before, now)] = _audit(hub, "count.approved")
    assert actor == "supervisor-1"
    assert json.loads(before or "")["status"] == "variance"
    assert json.loads(now or "")["reason"] == "a note was stuck"
    ledger = hub.client.get("/console/over-short").text
    assert "k1" in ledger and "$20.00" in ledger


def test_a_failed_posting_is_retried_and_suspense_resolved(hub: HubHarness, day: str) -> None:
    _as(hub, "auditor")
    looked = hub.client.get("/console/payments", params={"status": "failed"})
    assert "HTTP 503 from the billing system" in looked.text and "Retry" not in looked.text
    assert "Assign and post" not in hub.client.get("/console/suspense").text

    _as(hub, "clerk")
    page = hub.client.get("/console/payments", params={"status": "failed"})
    assert page.text.count(">Retry</button>") == 1
    token = form_token(page)
    retried = hub.client.post(f"/console/payments/{FAILED}/retry", data={"csrf_token": token})
    assert retried.status_code == 200 and f"Payment {FAILED} is posted." in retried.text
    twice = hub.client.post(f"/console/payments/{FAILED}/retry", data={"csrf_token": token})
    assert "Nothing was changed" in twice.text and "is posted, not failed" in twice.text
    [(_, before, after)] = _audit(hub, "posting.retried")
    assert json.loads(before or "")["status"] == "failed"
    assert json.loads(after or "")["status"] == "posted"

    listed = hub.client.get("/console/suspense")
    assert "100200399" in listed.text
    wrong = hub.client.post(
        f"/console/suspense/{SUSPENDED}", data={"csrf_token": token, "account": "999"}
    )
    assert wrong.status_code == 422 and "account 999 is not in the hub" in wrong.text
    resolved = hub.client.post(
        f"/console/suspense/{SUSPENDED}", data={"csrf_token": token, "account": MEANT}
    )
    assert "assigned to account 100200302 and posted" in resolved.text
    assert "Nothing in suspense." in resolved.text
    [line] = [p for p in finance.search_payments(hub.ctx.db) if p.payment_id == SUSPENDED]
    assert (line.posting_status, line.assigned_account) == ("posted", MEANT)
    assert len(_audit(hub, "suspense.resolved")) == 1


def test_with_the_second_count_on_a_second_clerk_counts_before_the_figures_show(
    hub: HubHarness, day: str
) -> None:
    options.set_second_count(hub.ctx.db, True, "admin-1", hub.clock())
    url = f"/console/batches/k1/{day}"
    _as(hub, "clerk")
    blind = hub.client.get(url)
    fields = {"csrf_token": form_token(blind), "version": "0", "counts_seen": "0"}
    saved = hub.client.post(url + "/count", data=fields | COUNTED, follow_redirects=False)
    assert saved.status_code == 303
    mine = hub.client.get(url).text
    assert "Counted once by clerk-1" in mine and "another clerk makes the second" in mine
    assert "Expected" not in mine and "$75.00" not in mine and 'id="count-form"' not in mine
    again = hub.client.post(url + "/count", data=fields | {"counts_seen": "1"} | COUNTED)
    assert again.status_code == 422 and "its second count is another clerk" in again.text
    assert counts.reconciliation(hub.ctx.db, "k1", day) is None

    name = "clerk-2"
    sign_in_as(hub, "clerk", name)
    second = hub.client.get(url)
    assert 'name="counts_seen" value="1"' in second.text and "Expected" not in second.text
    fields["csrf_token"] = form_token(second)
    stale = hub.client.post(url + "/count", data=fields | COUNTED)  # a page from before
    assert stale.status_code == 409 and "counted once by clerk-1 since the page" in stale.text
    matching = {"notes-500": "1", "notes-1000": "1", "notes-2000": "3"}
    done = hub.client.post(url + "/count", data=fields | {"counts_seen": "1"} | matching)
    assert done.status_code == 200 and "THE TWO COUNTS DIFFER" in done.text
    assert "First count" in done.text and "Second count" in done.text and "$75.00" in done.text
    after = counts.reconciliation(hub.ctx.db, "k1", day)
    assert after is not None and (after.status, after.variance_cents) == ("variance", 0)
    [(_, before, now)] = [a for a in _audit(hub, "count.recorded") if a[0] == name]
    assert json.loads(before or "")["counted_by"] == "clerk-1"
    assert json.loads(now or "")["status"] == "variance"


def test_the_count_form_offers_only_the_notes_the_kiosk_takes(hub: HubHarness, day: str) -> None:
    change = kiosk_config.SettingsChange(limits={"accepted_bills_cents": [500, 1000, 2000]})
    kiosk_config.update_settings(hub.ctx.db, "k1", change)
    url = f"/console/batches/k1/{day}"
    _as(hub, "clerk")
    page = hub.client.get(url)
    offered = re.findall(r'name="notes-(\d+)"', page.text)
    assert offered == ["500", "1000", "2000"]
    fields = {"csrf_token": form_token(page), "version": "0"} | COUNTED
    refused = hub.client.post(url + "/count", data=fields | {"notes-10000": "1"})
    assert refused.status_code == 422 and "no such denomination: 10000" in refused.text
    assert counts.reconciliation(hub.ctx.db, "k1", day) is None
