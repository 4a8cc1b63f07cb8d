"""Blind counts: what finance counted against what the kiosk took, the variance approved by a
supervisor who did not count it, refusals that change nothing, and the over/short ledger."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from contract import payloads
from hub import counts
from hub.errors import AlreadyExists, Invalid, NotFound
from tests.hub.harness import Creds, HubHarness, KioskSide
from tests.store.builders import cash_payment

DENOMINATIONS = [100, 500, 1000, 2000, 5000, 10000]


def _collected(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> str:
    """Two cash payments ($20 + $5, $20 + $20), the batch closed, all at the hub."""
    kiosk.write(cash_payment("s1", "100200302", [2000, 500]))
    kiosk.write(cash_payment("s2", "100200419", [2000, 2000]))
    batch_id = kiosk.journal.open_batch_id()
    kiosk.journal.record(
        payloads.BatchClosed(
            batch_id=batch_id,
            reason="cash_box_collection",
            by="Dana Lopez",
            first_seq=1,
            bills={"500": 1, "2000": 3},
            cash_cents=6500,
            card_cents=0,
            card_count=0,
            reversals=0,
        )
    )
    assert hub.push(creds, kiosk.wire()).status_code == 200
    return batch_id


def test_a_count_that_matches_is_counted_then_reconciled_by_someone_else(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    batch = _collected(hub, creds, kiosk)
    saved = counts.record_count(
        hub.ctx.db, "k1", batch, {500: 1, 2000: 3}, "clerk-ana", hub.clock()
    )
    assert (saved.status, saved.counted_cents, saved.expected_cents) == ("counted", 6500, 6500)
    assert saved.differences() == {}
    with pytest.raises(Invalid, match="counted a batch can not also sign it off"):
        counts.mark_reconciled(hub.ctx.db, "k1", batch, "clerk-ana", saved.version, hub.clock())
    done = counts.mark_reconciled(hub.ctx.db, "k1", batch, "sup-bo", saved.version, hub.clock())
    assert (done.status, done.decided_by, done.version) == ("reconciled", "sup-bo", 2)


def test_a_short_count_is_a_variance_approved_only_with_a_reason_by_another_person(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    batch = _collected(hub, creds, kiosk)
    saved = counts.record_count(
        hub.ctx.db, "k1", batch, {500: 1, 2000: 2}, "clerk-ana", hub.clock()
    )
    assert saved.status == "variance" and saved.variance_cents == -2000
    assert saved.differences() == {2000: -1}
    reason = "one $20 note found stuck in the acceptor's path"
    with pytest.raises(Invalid, match="counted a batch"):
        counts.approve_variance(hub.ctx.db, "k1", batch, "clerk-ana", reason, 1, hub.clock())
    with pytest.raises(Invalid, match="say why"):
        counts.approve_variance(hub.ctx.db, "k1", batch, "sup-bo", "ok", 1, hub.clock())
    with pytest.raises(Invalid, match="is variance, not counted"):
        counts.mark_reconciled(hub.ctx.db, "k1", batch, "sup-bo", 1, hub.clock())
    unchanged = counts.reconciliation(hub.ctx.db, "k1", batch)
    assert unchanged == saved, "refusals change nothing"
    approved = counts.approve_variance(hub.ctx.db, "k1", batch, "sup-bo", reason, 1, hub.clock())
    assert (approved.status, approved.reason) == ("approved", reason)


def test_a_page_loaded_before_someone_elses_change_is_refused_with_what_changed(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    batch = _collected(hub, creds, kiosk)
    counts.record_count(hub.ctx.db, "k1", batch, {2000: 3}, "clerk-ana", hub.clock())
    reason = "a $5 note was handed back to the resident by hand"
    counts.approve_variance(hub.ctx.db, "k1", batch, "sup-bo", reason, 1, hub.clock())
    with pytest.raises(counts.StaleBatch, match="it is now approved \\(by sup-bo\\)"):
        counts.approve_variance(hub.ctx.db, "k1", batch, "sup-cy", reason, 1, hub.clock())


def test_counts_refused_for_what_can_not_be_counted(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    kiosk.write(cash_payment("s1", "100200302", [2000]))
    hub.push(creds, kiosk.wire())
    open_batch = kiosk.journal.open_batch_id()
    with pytest.raises(Invalid, match="still open"):
        counts.record_count(hub.ctx.db, "k1", open_batch, {2000: 1}, "clerk-ana", hub.clock())
    with pytest.raises(NotFound):
        counts.record_count(hub.ctx.db, "k1", "B999999", {2000: 1}, "clerk-ana", hub.clock())
    with pytest.raises(Invalid):
        counts.record_count(hub.ctx.db, "k1", open_batch, {2000: -1}, "clerk-ana", hub.clock())


def test_a_batch_is_counted_once(hub: HubHarness, creds: Creds, kiosk: KioskSide) -> None:
    batch = _collected(hub, creds, kiosk)
    counts.record_count(hub.ctx.db, "k1", batch, {2000: 3}, "clerk-ana", hub.clock())
    with pytest.raises(AlreadyExists):  # the form submitted twice
        counts.record_count(hub.ctx.db, "k1", batch, {2000: 4}, "clerk-ana", hub.clock())
    saved = counts.reconciliation(hub.ctx.db, "k1", batch)
    assert saved is not None and saved.counted == {2000: 3}


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ({"2000": "-1"}, "not a whole number"),
        ({"2000": "2.5"}, "not a whole number"),
        ({"2000": "1e3"}, "not a whole number"),
        ({"2000": "99999"}, "more than a bag holds"),
        ({"700": "1"}, "no such denomination: 700"),
    ],
)
def test_what_a_clerk_types_is_checked(typed: dict[str, str], problem: str) -> None:
    with pytest.raises(Invalid, match=problem):
        counts.parse_counts(typed, DENOMINATIONS)


def test_blank_fields_are_no_notes() -> None:
    parsed = counts.parse_counts({"2000": " 3 ", "500": ""}, DENOMINATIONS)
    assert parsed[2000] == 3 and parsed[500] == 0 and set(parsed) == set(DENOMINATIONS)


def test_the_over_short_ledger_per_kiosk_and_day(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    batch = _collected(hub, creds, kiosk)
    counts.record_count(hub.ctx.db, "k1", batch, {500: 2, 2000: 3}, "clerk-ana", hub.clock())
    [day] = counts.over_short(hub.ctx.db, ZoneInfo("America/Chicago"))
    assert (day.kiosk_id, day.batches, day.over_cents, day.short_cents) == ("k1", 1, 500, 0)
    assert day.net_cents == 500
