"""Crash safety of a cash-box collection: SIGKILL at each step, restart, and the collection
is finished once: one batch close, one end of day on the terminal, one set of counts, a slip
(or a failed one that service mode prints again). Same child processes as tests/test_crash.py."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from contract import entries as E
from kiosk.store.journal import Journal
from tests.test_crash import check_rule_five, hardware, kiosk, without_count

pytestmark = pytest.mark.timeout(300)

# (crash point during the collection, crash point during the first recovery or None)
SLOW = pytest.mark.slow
CASES = [
    pytest.param("collection.after_started:1", None, marks=SLOW),
    pytest.param("collection.after_batch_closed:1", None, marks=SLOW),
    pytest.param("collection.after_end_of_day_requested:1", None, marks=SLOW),
    pytest.param("device.terminal.after_end_of_day_persisted:1", None),
    pytest.param("collection.after_end_of_day_journaled:1", None, marks=SLOW),
    pytest.param("collection.after_completed:1", None, marks=SLOW),
    pytest.param("collection.after_slip_intent:1", None, marks=SLOW),
    # a recovery killed in turn: tests/test_crash.py's quick set has one for a payment
    pytest.param(
        "collection.after_started:1", "recovery.after_collection_batch_closed:1", marks=SLOW
    ),
    pytest.param(
        "collection.after_end_of_day_requested:1",
        "recovery.after_collection_completed:1",
        marks=SLOW,
    ),
]
#: the same on an acceptor that keeps no cash box count (the collection never asks for it)
NO_COUNT_CASES = [
    pytest.param("collection.after_started:1", None, marks=SLOW),
    pytest.param(
        "collection.after_started:1", "recovery.after_collection_batch_closed:1", marks=SLOW
    ),
]


def _of(data_dir: Path, type_: str) -> list[dict[str, object]]:
    with Journal.open(data_dir / "journal.sqlite") as journal:
        return [dict(e.payload) for e in journal.entries() if e.type == type_]


@pytest.mark.parametrize(
    ("crash_at", "recovery_crash", "counts"),
    [pytest.param(*c.values, True, marks=c.marks) for c in CASES]
    + [pytest.param(*c.values, False, marks=c.marks) for c in NO_COUNT_CASES],
)
def test_sigkill_during_a_collection_then_recover(
    tmp_path: Path, crash_at: str, recovery_crash: str | None, counts: bool
) -> None:
    if not counts:
        without_count(tmp_path)
    paid = kiosk(["demo", "--no-screens", "--script", "cash", "--script", "card"], tmp_path)
    assert paid.returncode == 0, paid.stdout + paid.stderr
    run = kiosk(["demo", "--no-screens", "--script", "collect"], tmp_path, crash_at)
    assert run.returncode == -signal.SIGKILL, f"not reached:\n{run.stdout}\n{run.stderr}"
    if recovery_crash:
        again = kiosk(["recover"], tmp_path, recovery_crash)
        assert again.returncode == -signal.SIGKILL, f"not reached:\n{again.stdout}"
    recovered = kiosk(["recover"], tmp_path)
    assert recovered.returncode == 0, recovered.stderr
    check_rule_five(tmp_path)

    cashbox, ledger = hardware(tmp_path)
    assert len(_of(tmp_path, E.BATCH_CLOSED)) == 1, "the batch closed once"
    [done] = _of(tmp_path, E.COLLECTION_COMPLETED)
    assert done["cash_cents"] == sum(cashbox)
    approved = sum(int(r["amount"]) for r in ledger.values() if r["status"] == "approved")
    assert done["card_cents"] == approved
    assert all(r.get("settled") for r in ledger.values() if r["status"] == "approved")
    assert len(_of(tmp_path, E.CARD_END_OF_DAY)) == 1, "one end of day journaled"
    if crash_at.startswith("device.terminal.after_end_of_day_persisted"):
        # the terminal settled, the kiosk never heard: asked again it has an empty batch
        assert done["agreed"] is False
        [eod] = _of(tmp_path, E.CARD_END_OF_DAY)
        assert "already settled" in str(eod["reason"])
    else:
        assert done["agreed"] is True
    assert _of(tmp_path, E.SLIP_PRINTED) or _of(tmp_path, E.SLIP_FAILED)

    # the kiosk takes payments and collects again, counting only what came after
    again = kiosk(["demo", "--no-screens", "--script", "cash", "--script", "collect"], tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    check_rule_five(tmp_path)
    _first, second = _of(tmp_path, E.COLLECTION_COMPLETED)
    assert (second["slip_number"], second["cash_cents"], second["card_cents"]) == (2, 4500, 0)
    assert second["agreed"] is True
