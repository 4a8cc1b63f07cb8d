"""What observers see: immutable snapshots, in order; and the engine on its own thread."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

import pytest

from contract import entries as E
from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from kiosk.engine.states import State
from kiosk.money import Money
from tests.engine.conftest import Harness

WAIT = 5.0  # upper bound only: each wait returns as soon as the engine gets there


def test_snapshots_are_frozen(harness: Harness) -> None:
    harness.to_amount()
    snap = harness.engine.snapshot
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.state = State.IDLE  # type: ignore[misc]
    assert snap.account is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.account.balance = Money(0)  # type: ignore[misc]
    assert isinstance(snap.bills, tuple)


def test_snapshots_arrive_in_order_with_increasing_versions(harness: Harness) -> None:
    harness.to_cash("45.00")
    for dollars in (20, 20, 5):
        harness.acceptor.insert(dollars)
        harness.pump()
    harness.send(ui.Finish())
    versions = [s.version for s in harness.seen]
    assert versions == list(range(len(versions)))
    states = [s.state for s in harness.seen]
    expected = [
        State.IDLE,
        State.FIND_ACCOUNT,
        State.CONFIRM_ACCOUNT,
        State.AMOUNT,
        State.METHOD,
        State.CASH,
        State.RECEIPT,
        State.IDLE,
    ]
    assert [s for i, s in enumerate(states) if i == 0 or s is not states[i - 1]] == expected
    inserted = [s.inserted.cents for s in harness.seen if s.state is State.CASH]
    assert inserted == sorted(inserted) and inserted[-1] == 4000
    for before, after in zip(harness.seen, harness.seen[1:], strict=False):
        assert dataclasses.replace(before, version=0) != dataclasses.replace(after, version=0)


def test_snapshot_says_nothing_it_should_not(harness: Harness) -> None:
    harness.to_amount()
    account = harness.engine.snapshot.account
    assert account is not None
    assert "100200300" not in repr(harness.engine.snapshot)
    assert account.number_masked.endswith("0300")
    assert account.name_masked == "Maria G."
    assert account.address_masked == "12•• Oak St"


def test_a_failing_observer_does_not_stop_the_engine(harness: Harness) -> None:
    calls: list[State] = []

    def broken(snapshot: Snapshot) -> None:
        calls.append(snapshot.state)
        if snapshot.state is not State.IDLE:
            raise RuntimeError("screen crashed")

    harness.engine.subscribe(broken)
    good: list[Snapshot] = []
    harness.engine.subscribe(good.append)
    harness.to_cash("20.00")
    harness.acceptor.insert(20)
    harness.pump()
    assert harness.state is State.RECEIPT
    assert len(harness.payments()) == 1
    assert State.CASH in calls and State.RECEIPT in calls
    assert good[-1].state is State.RECEIPT  # observers after the broken one still hear


# ----------------------------------------------------------------------------- thread mode


class Waiter:
    """Subscribes to the engine and wakes a waiting test when a condition on a snapshot holds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: Snapshot | None = None
        self._changed = threading.Condition(self._lock)

    def __call__(self, snapshot: Snapshot) -> None:
        with self._changed:
            self._latest = snapshot
            self._changed.notify_all()

    def until(self, condition: Callable[[Snapshot], bool]) -> Snapshot:
        with self._changed:
            ok = self._changed.wait_for(
                lambda: self._latest is not None and condition(self._latest), WAIT
            )
            assert ok, f"engine never got there; last snapshot {self._latest}"
            assert self._latest is not None
            return self._latest


def test_engine_thread_takes_events_from_other_threads(harness: Harness) -> None:
    engine = harness.engine
    in_receipt = threading.Event()
    engine.subscribe(lambda s: in_receipt.set() if s.state is State.RECEIPT else None)
    waiter = Waiter()
    engine.subscribe(waiter)
    engine.start()
    try:
        done: list[bool] = []

        def resident() -> None:
            """The screens' thread: it acts on what the snapshots show, like a real UI."""
            for screen, event in (
                (State.IDLE, ui.Start("en")),
                (State.FIND_ACCOUNT, ui.EnterAccount("100200300")),
                (State.CONFIRM_ACCOUNT, ui.ConfirmAccount()),
                (State.AMOUNT, ui.ChooseAmount(Money(2000))),
                (State.METHOD, ui.ChooseMethod("cash")),
            ):
                waiter.until(lambda s, screen=screen: s.state is screen)  # type: ignore[misc]
                engine.submit(event)
            done.append(True)

        ui_thread = threading.Thread(target=resident)
        ui_thread.start()
        ui_thread.join(WAIT)
        assert done == [True]
        waiter.until(lambda s: s.state is State.CASH)
        # a "driver thread" pushes a bill in
        threading.Thread(target=harness.acceptor.insert, args=(20,)).start()
        assert in_receipt.wait(WAIT)
        snap = waiter.until(lambda s: s.receipt == "printed")
        assert snap.confirmation is not None
        assert len(harness.payments()) == 1
    finally:
        engine.stop()
    assert engine._thread is not None and not engine._thread.is_alive()


def test_engine_thread_runs_time_outs_on_its_own(harness: Harness) -> None:
    engine = harness.engine
    waiter = Waiter()
    engine.subscribe(waiter)
    engine.start()
    try:
        engine.submit(ui.Start("en"))
        waiter.until(lambda s: s.state is State.FIND_ACCOUNT)
        harness.clock.advance(harness.config.timeouts.idle_screen)  # no real waiting
        snap = waiter.until(lambda s: s.state is State.STILL_THERE)
        assert snap.interrupted is State.FIND_ACCOUNT
        harness.clock.advance(harness.config.timeouts.still_there)
        waiter.until(lambda s: s.state is State.IDLE)
    finally:
        engine.stop()
    assert harness.session_outcomes() == ["timed_out"]


def test_engine_thread_survives_an_event_that_fails(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = harness.engine
    waiter = Waiter()
    engine.subscribe(waiter)

    def broken_start_sale(amount: Money, reference: str) -> None:
        raise OSError("terminal unplugged mid-command")

    monkeypatch.setattr(harness.terminal, "start_sale", broken_start_sale)
    engine.start()
    try:
        for screen, event in (
            (State.IDLE, ui.Start("en")),
            (State.FIND_ACCOUNT, ui.EnterAccount("100200300")),
            (State.CONFIRM_ACCOUNT, ui.ConfirmAccount()),
            (State.AMOUNT, ui.ChooseAmount(Money(2000))),
        ):
            waiter.until(lambda s, screen=screen: s.state is screen)  # type: ignore[misc]
            engine.submit(event)
        waiter.until(lambda s: s.state is State.METHOD)
        engine.submit(ui.ChooseMethod("card"))  # blows up inside the engine thread
        engine.submit(ui.Cancel())  # and the next event is still handled
        waiter.until(lambda s: s.state is State.IDLE and s.session_id is None)
        assert engine._thread is not None and engine._thread.is_alive()
    finally:
        engine.stop()
    assert E.CARD_SALE_REQUESTED in harness.types()
    assert harness.session_outcomes() == ["cancelled"]


def test_stop_handles_what_was_queued_before_it(harness: Harness) -> None:
    engine = harness.engine
    engine.start()
    engine.submit(ui.Start("en"))
    engine.submit(ui.SetLanguage("es"))
    engine.stop()
    assert engine._thread is not None and not engine._thread.is_alive()
    assert engine.state is State.FIND_ACCOUNT
    assert engine.snapshot.language == "es"


def test_an_engine_stuck_in_an_event_is_not_responsive(harness: Harness) -> None:
    """What the service manager's watchdog asks: has the engine's thread come round its
    loop lately? A subscriber that never returns holds the thread in one event."""
    engine = harness.engine
    assert not engine.responsive(within=60.0), "not started: not responsive"
    release = threading.Event()
    stuck = threading.Event()

    def hang(snapshot: Snapshot) -> None:
        if snapshot.state is State.FIND_ACCOUNT:
            stuck.set()
            release.wait(30)

    engine.subscribe(hang)
    engine.start()
    try:
        assert engine.responsive(within=5.0)
        engine.submit(ui.Start("en"))
        assert stuck.wait(10)
        time.sleep(0.3)  # the loop's last turn is now at least this old
        assert not engine.responsive(within=0.2)
        assert engine.responsive(within=30.0)
        release.set()
        deadline = time.monotonic() + 10
        while not engine.responsive(within=0.2):
            assert time.monotonic() < deadline, "the engine did not turn again"
            time.sleep(0.01)
    finally:
        release.set()
        engine.stop()
