"""What the hub builds from the journals: payments, batches, kiosk health."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contract import entries as e
from contract import payloads
from contract.chain import entry_hash
from hub import accounts, demo, projections
from tests.hub.harness import Creds, HubHarness, KioskSide
from tests.store.builders import Step, card_payment, cash_payment, reversal


def _close_batch(kiosk: KioskSide, reason: str) -> None:
    """A ``batch.closed`` as a collection writes it (the totals are the kiosk's report; the
    projections count for themselves)."""
    closed = payloads.BatchClosed(
        batch_id=kiosk.journal.open_batch_id(),
        reason=reason,
        by="tech-ana",
        first_seq=1,
        bills={},
        cash_cents=0,
        card_cents=0,
        card_count=0,
        reversals=0,
        terminal_ok=True,
        terminal_card_cents=0,
        card_matches=True,
    )
    kiosk.journal.record(closed)


def _paid_at(steps: list[Step], paid_at: str) -> list[Step]:
    for step in steps:
        if step.type == e.PAYMENT_COMPLETED:
            step.payload["paid_at"] = paid_at
    return steps


def test_effective_date_is_when_the_resident_paid(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    """Paid at 23:30 local on 28 February, during an outage; reaches the hub 4 days later."""
    kiosk.write(_paid_at(cash_payment("s1", "100200302", [2000]), "2025-03-01T05:30:00+00:00"))
    kiosk.write(card_payment("s2", "100200419", 12950, 324))
    hub.clock.now = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)
    assert hub.push(creds, kiosk.wire()).status_code == 200
    cash, card = hub.admin("/v1/payments")
    assert cash["paid_at"] == "2025-03-01T05:30:00+00:00"
    assert cash["effective_date"] == "2025-02-28"  # America/Chicago
    assert cash["received_at"].startswith("2025-03-05T09:00:00")
    assert (cash["method"], cash["amount_cents"], cash["cash_cents"]) == ("cash", 2000, 2000)
    assert card["effective_date"] == "2025-03-01"
    assert (card["amount_cents"], card["fee_cents"]) == (12950, 324)
    assert (card["card_brand"], card["card_last4"], card["card_auth_code"]) == (
        "VISA",
        "4242",
        "A1B2C3",
    )
    assert card["confirmation"] == "C-P-s2" and card["account_number"] == "100200419"
    assert card["review"] is False and card["batch_id"] == "B000001"


def test_review_flag_and_posting_status_are_shown(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    steps = cash_payment("s1", "999999999", [500])
    for step in steps:
        if step.type == e.PAYMENT_COMPLETED:
            step.payload["review"] = True
    kiosk.write(steps)
    hub.push(creds, kiosk.wire())
    (payment,) = hub.admin("/v1/payments")
    assert payment["review"] is True
    assert payment["posting_status"] == "suspense"  # the ledger has no such account


def test_batches_match_the_kiosks_own(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> None:
    kiosk.write(cash_payment("s1", "100200302", [2000, 2000, 500]))
    kiosk.write(card_payment("s2", "100200419", 5000, 125))
    _close_batch(kiosk, "collection")
    kiosk.write(cash_payment("s3", "100200526", [100, 100]))
    kiosk.write(card_payment("s4", "100200302", 3000, 100))
    kiosk.write(reversal("s4", "R-s4"))
    kiosk.write(cash_payment("s1", "100200302", [2000]))  # bill ids seen before: counted once
    hub.push(creds, kiosk.wire())
    ours = hub.admin("/v1/batches")
    theirs = kiosk.journal.batches()
    assert [b["batch_id"] for b in ours] == [b.batch_id for b in theirs]
    assert len(ours) == 2 and ours[0]["batch_id"] == "B000001" and ours[1]["closed_seq"] is None
    for mine, kiosks in zip(ours, theirs, strict=True):
        for name in (
            "opened_seq",
            "closed_seq",
            "cash_cents",
            "bill_count",
            "card_cents",
            "card_count",
            "payment_count",
        ):
            assert mine[name] == getattr(kiosks, name), name
    assert ours[0]["close_reason"] == "collection"
    assert ours[0]["bills_by_denomination"] == {"2000": 2, "500": 1}
    assert ours[0]["payment_cents"] == 2000 + 2000 + 500 + 5000


def test_batches_are_the_same_however_the_journal_is_split(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    kiosk.write(cash_payment("s1", "100200302", [2000, 500]))
    _close_batch(kiosk, "x")
    kiosk.write(card_payment("s2", "100200419", 5000, 125))
    for entry in kiosk.wire():
        assert hub.push(creds, [entry]).status_code == 200
    assert [
        (b["batch_id"], b["cash_cents"], b["card_cents"]) for b in hub.admin("/v1/batches")
    ] == [(b.batch_id, b.cash_cents, b.card_cents) for b in kiosk.journal.batches()]


def test_a_push_of_new_and_known_payment_ids_counts_each_once(
    hub: HubHarness, creds: Creds, kiosk: KioskSide, tmp_path: Path
) -> None:
    """New payments are stored together; an id stored by an earlier push, one journaled
    twice in the same push and one another kiosk already has are each decided on their
    own, as one by one."""
    accounts.import_accounts(hub.ctx.db, demo.demo_csv(), hub.clock(), hub.clock().date())
    other = KioskSide(tmp_path / "other.sqlite")
    other.write(cash_payment("x1", "100200419", [500]))
    assert hub.push(hub.enroll("k2"), other.wire()).status_code == 200
    other.close()
    kiosk.write(cash_payment("s1", "100200302", [2000]))
    assert hub.push(creds, kiosk.wire()).status_code == 200
    kiosk.write(cash_payment("s2", "100200302", [100]))
    kiosk.write(cash_payment("x1", "100200526", [200]))  # P-x1: the other kiosk's id
    kiosk.write(cash_payment("s1", "100200302", [2000]))  # P-s1 again, a push later
    kiosk.write(cash_payment("s3", "100200526", [500]))
    kiosk.write(cash_payment("s2", "100200302", [100]))  # P-s2 again, in the same push
    assert hub.push(creds, kiosk.wire()).status_code == 200
    payments = {p["payment_id"]: p for p in hub.admin("/v1/payments") if p["kiosk_id"] == "k1"}
    (dup,) = [pid for pid in payments if pid.startswith("dup-")]
    assert sorted(payments) == sorted(["P-s1", "P-s2", "P-s3", dup])
    assert payments[dup]["amount_cents"] == 200
    assert payments[dup]["posting_status"] == "suspense"
    assert {payments[pid]["posting_status"] for pid in ("P-s1", "P-s2", "P-s3")} == {"posted"}
    assert [a["kind"] for a in hub.admin("/v1/alerts")] == ["duplicate_payment"]
    (batch,) = [b for b in hub.admin("/v1/batches") if b["kiosk_id"] == "k1"]
    assert (batch["payment_count"], batch["payment_cents"]) == (4, 2000 + 100 + 200 + 500)
    assert (batch["bill_count"], batch["cash_cents"]) == (4, 2000 + 100 + 200 + 500)


def test_kiosk_health_from_its_journal(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> None:
    kiosk.write(
        [
            Step(e.KIOSK_STARTED, {"version": "0.1.0"}),
            Step(e.DEVICE_FAULT, {"device": "receipt_printer", "reason": "paper out"}),
            Step(
                e.DEVICE_NOTICE,
                {"device": "bill_acceptor", "kind": "cassette_removed", "detail": ""},
            ),
            Step(e.OUT_OF_SERVICE, {"reason": "no payment device works"}),
        ]
    )
    hub.push(creds, kiosk.wire())
    (view,) = hub.admin("/v1/kiosks")
    assert view["kiosk_id"] == "k1" and view["enrolled"] is True
    assert view["acked_seq"] == 4 and view["software_version"] == "0.1.0"
    assert view["reported_out_of_service"] is True
    assert view["reported_reason"] == "no payment device works"
    assert view["last_push_at"].startswith("2025-03-04T12:00:00")
    assert view["last_contact_at"].startswith("2025-03-04T12:00:00")
    assert view["last_entry_at"] == kiosk.wire()[-1].at
    devices = {d["device"]: d for d in view["devices"]}
    assert devices["receipt_printer"]["fault_reason"] == "paper out"
    assert devices["bill_acceptor"]["notice_kind"] == "cassette_removed"
    kiosk.write([Step(e.IN_SERVICE, {})])
    hub.push(creds, kiosk.wire(after=4))
    assert hub.admin("/v1/kiosks")[0]["reported_out_of_service"] is False
    assert "secret" not in str(hub.admin("/v1/kiosks"))


def test_a_payload_that_breaks_the_contract_is_refused_naming_seq_and_field(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    """A paid_at without a time zone: the kiosk's journal refuses to write it, and a hub
    that is sent one anyway (an edited or foreign journal) refuses the push with a 422 that
    names the entry's seq and the field, storing nothing of it."""
    kiosk.write(cash_payment("s1", "100200302", [500]))
    entries = [w.model_dump() for w in kiosk.wire()]
    bad = next(w for w in entries if w["type"] == e.PAYMENT_COMPLETED)
    bad["payload"]["paid_at"] = "2025-03-01T14:05:00"
    bad["hash"] = entry_hash(
        bad["prev_hash"], bad["seq"], bad["id"], bad["at"], bad["type"], bad["payload"]
    )
    response = hub.push_raw(creds, {"entries": entries[: bad["seq"]]})
    assert response.status_code == 422, response.text
    message = response.text
    assert f"entry seq {bad['seq']}" in message and "paid_at" in message
    assert "zone" in message
    assert hub.stored() == []


class _Unreadable(projections._Handler):
    """A projection that can not read what it is given (a stored entry from before the
    contract was checked at ingest, or a projection bug)."""

    def parse(self, payload: Any, p: projections.Projector) -> Any:
        raise projections.ProjectionError("payload field 'reason' could not be read")


def test_a_fact_the_hub_can_not_project_is_kept_and_alerted(
    hub: HubHarness, creds: Creds, kiosk: KioskSide, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fact with a sound hash is never lost because the hub can not project it: the entry
    is stored, an alert names it, and the entries around it are projected."""
    monkeypatch.setitem(projections._HANDLERS, e.DEVICE_FAULT, _Unreadable())
    kiosk.write([Step(e.DEVICE_FAULT, {"device": "printer", "reason": "cutter jam"})])
    kiosk.write(cash_payment("s1", "100200302", [500]))
    response = hub.push(creds, kiosk.wire())
    assert response.status_code == 200
    assert response.json()["acked_seq"] == kiosk.journal.last_seq()
    (alert,) = hub.admin("/v1/alerts")
    assert alert["kind"] == "projection" and alert["seq"] == 1
    assert "could not be projected" in alert["reason"] and "reason" in alert["reason"]
    assert [p["payment_id"] for p in hub.admin("/v1/payments")] == ["P-s1"]
    assert len(hub.stored()) == kiosk.journal.last_seq()
