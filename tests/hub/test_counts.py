"""Blind counts: what finance counted against what the kiosk took, the variance approved by a
supervisor who did not count it, refusals that change nothing, and the over/short ledger."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from contract import payloads
from hub import counts, options
from hub.errors import AlreadyExists, Invalid, NotFound
from hub.models import AuditEntry
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


def _reconciled(saved: counts.Reconciliation | counts.FirstCounted) -> counts.Reconciliation:
    assert isinstance(saved, counts.Reconciliation), saved
    return saved


def test_with_the_second_count_off_one_count_shows_the_reconciliation(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    batch = _collected(hub, creds, kiosk)
    assert options.current(hub.ctx.db).second_count is False
    saved = _reconciled(
        counts.record_count(hub.ctx.db, "k1", batch, {500: 1, 2000: 3}, "clerk-ana", hub.clock())
    )
    assert (saved.status, saved.first, saved.counts_differ) == ("counted", None, False)
    assert counts.first_count(hub.ctx.db, "k1", batch) is None


def test_with_the_second_count_on_two_clerks_count_before_anything_is_shown(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    batch = _collected(hub, creds, kiosk)
    options.set_second_count(hub.ctx.db, True, "admin-al", hub.clock())
    with pytest.raises(counts.StaleBatch, match="no first count to follow"):
        counts.record_count(
            hub.ctx.db, "k1", batch, {2000: 3}, "clerk-ana", hub.clock(), counts_seen=1
        )
    first = counts.record_count(
        hub.ctx.db, "k1", batch, {500: 1, 2000: 3}, "clerk-ana", hub.clock()
    )
    assert isinstance(first, counts.FirstCounted) and first.status == "counted once"
    assert counts.reconciliation(hub.ctx.db, "k1", batch) is None  # nothing to compare yet
    assert counts.statuses(hub.ctx.db) == {("k1", batch): "counted once"}
    with pytest.raises(Invalid, match="its second count is another clerk's"):
        counts.record_count(hub.ctx.db, "k1", batch, {500: 1, 2000: 3}, "clerk-ana", hub.clock())
    with pytest.raises(counts.StaleBatch, match="counted once by clerk-ana since the page"):
        counts.record_count(
            hub.ctx.db, "k1", batch, {2000: 3}, "clerk-cy", hub.clock(), counts_seen=0
        )
    second = _reconciled(
        counts.record_count(
            hub.ctx.db, "k1", batch, {500: 1, 2000: 3}, "clerk-cy", hub.clock(), counts_seen=1
        )
    )
    assert (second.status, second.counted_by, second.counts_differ) == (
        "counted",
        "clerk-cy",
        False,
    )
    assert second.first is not None and second.first.counted_by == "clerk-ana"
    for counter in ("clerk-ana", "clerk-cy"):  # neither counter signs it off
        with pytest.raises(Invalid, match="can not also sign it off"):
            counts.mark_reconciled(hub.ctx.db, "k1", batch, counter, 1, hub.clock())
    done = counts.mark_reconciled(hub.ctx.db, "k1", batch, "sup-bo", 1, hub.clock())
    assert done.status == "reconciled"


def test_two_counts_that_differ_are_flagged_as_a_variance(
    hub: HubHarness, creds: Creds, kiosk: KioskSide
) -> None:
    batch = _collected(hub, creds, kiosk)
    options.set_second_count(hub.ctx.db, True, "admin-al", hub.clock())
    counts.record_count(hub.ctx.db, "k1", batch, {500: 1, 2000: 2}, "clerk-ana", hub.clock())
    # the option turned off meanwhile: the batch counted once still gets its second count
    options.set_second_count(hub.ctx.db, False, "admin-al", hub.clock())
    second = _reconciled(
        counts.record_count(hub.ctx.db, "k1", batch, {500: 1, 2000: 3}, "clerk-cy", hub.clock())
    )
    # the second count matches the kiosk, but the first did not: a supervisor looks at it
    assert (second.status, second.variance_cents, second.counts_differ) == ("variance", 0, True)
    with pytest.raises(Invalid, match="is variance, not counted"):
        counts.mark_reconciled(hub.ctx.db, "k1", batch, "sup-bo", 1, hub.clock())


def test_the_second_count_option_is_audited_and_a_no_change_refused(hub: HubHarness) -> None:
    options.set_second_count(hub.ctx.db, True, "admin-al", hub.clock())
    with pytest.raises(Invalid, match="already on"):
        options.set_second_count(hub.ctx.db, True, "admin-al", hub.clock())
    now = options.current(hub.ctx.db)
    assert (now.second_count, now.changed_by) == (True, "admin-al")
    with hub.ctx.db.read() as conn:
        rows = conn.execute(
            select(AuditEntry.actor, AuditEntry.target, AuditEntry.before, AuditEntry.after).where(
                AuditEntry.action == "option.changed"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("admin-al", "second_count", '{"second_count": false}', '{"second_count": true}')
    ]
