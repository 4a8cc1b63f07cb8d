"""A kiosk whose wall clock is stepped (NTP setting it right, a technician fixing the time
zone) keeps its time-outs and its journal's order: deadlines are monotonic, entries are
ordered by seq, and a chain with times going backwards still verifies and is taken by a
hub."""

from __future__ import annotations

from pathlib import Path

from contract.wire import WireEntry
from kiosk.engine import inputs as ui
from kiosk.engine.states import State
from tests.engine.conftest import Harness
from tests.hub.harness import HubHarness

HOUR = 3600.0


def test_a_step_of_the_wall_clock_neither_fires_nor_delays_a_time_out(harness: Harness) -> None:
    harness.send(ui.Start("en"))
    timeout = harness.config.timeouts.idle_screen
    harness.clock.step(-2 * HOUR)  # set back two hours
    assert harness.wait(timeout - 1).state is State.FIND_ACCOUNT
    harness.clock.step(+5 * HOUR)  # and on, past any deadline a wall clock would set
    assert harness.wait(0.5).state is State.FIND_ACCOUNT, "timed out by a clock step"
    assert harness.wait(0.5).state is State.STILL_THERE, "the time-out came when it was due"


def test_entries_after_a_step_back_keep_their_order_and_verify(
    harness: Harness, tmp_path: Path
) -> None:
    harness.send(ui.Start("en"))
    before = harness.journal.last_seq()
    harness.clock.step(-2 * HOUR)
    harness.send(ui.Cancel())
    entries = list(harness.journal.entries())
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    later = [e for e in entries if e.seq > before]
    assert later and all(e.at < entries[before - 1].at for e in later), "times went back"
    assert harness.journal.verify().ok

    hub = HubHarness(str(tmp_path / "hub.sqlite"), tmp_path)
    try:
        response = hub.push(hub.enroll("k1"), [WireEntry.of(e) for e in entries])
        assert response.status_code == 200, response.text
        assert response.json()["acked_seq"] == len(entries)
    finally:
        hub.close()
