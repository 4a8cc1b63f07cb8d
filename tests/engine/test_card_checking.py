"""The engine never waits on a device: slow calls are commands, their answers events.

While the kiosk asks the terminal what became of a sale (``card_checking``), touches are
answered, time-outs run, and nothing ends the session before the sale is settled. The same
holds for the cash box count a bill waits for in escrow. The harness's device-call runner
holds a call by name until the test releases it; the last test holds a real status query
for 10 s on the real engine thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from contract import entries as E
from kiosk.config import KioskConfig
from kiosk.engine import inputs as ui
from kiosk.engine.machine import PaymentEngine
from kiosk.engine.snapshot import Snapshot
from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.ports import CardOutcome, CardResult
from kiosk.store.journal import Journal
from tests.engine.conftest import Harness
from tests.fakes import FakeClock, FakePorts

HOLD_S = 10.0  # the status query held this long (issue 12)


# ----------------------------------------------------------------------------- card


def test_checking_is_shown_and_a_touch_is_answered(harness: Harness) -> None:
    harness.to_card_checking()
    snap = harness.engine.snapshot
    assert snap.card_prompt == "checking"
    assert snap.seconds_left == harness.config.timeouts.idle_screen
    harness.clock.advance(10)
    harness.send(ui.Touch())
    assert harness.seconds_to_deadline() == harness.config.timeouts.idle_screen  # a fresh one
    assert harness.state is State.CARD_CHECKING
    assert harness.calls.held, "the status query is still under way"


def test_time_outs_while_checking_keep_the_sale_and_approval_pays(harness: Harness) -> None:
    harness.to_card_checking(CardOutcome.APPROVED)
    harness.expire()
    assert harness.state is State.STILL_THERE
    assert harness.engine.snapshot.interrupted is State.CARD_CHECKING
    harness.expire()  # walked away: the session waits for the terminal's answer
    harness.expire()
    assert harness.state is State.STILL_THERE
    assert harness.session_outcomes() == []
    assert harness.payments() == []
    harness.calls.release()
    harness.pump()
    assert harness.state is State.RECEIPT
    [payment] = harness.payments()
    assert payment["method"] == "card"
    assert harness.journal.open_intents() == []
    harness.assert_card_invariants()


def test_walked_away_and_the_sale_was_not_taken_ends_the_session(harness: Harness) -> None:
    harness.to_card_checking(CardOutcome.DECLINED)
    harness.expire()
    harness.expire()
    harness.calls.release()
    harness.pump()
    assert harness.state is State.IDLE
    assert harness.session_outcomes() == ["cancelled"]
    assert harness.payments() == []
    assert harness.journal.open_intents() == []


def test_cancel_while_checking_waits_for_the_terminal(harness: Harness) -> None:
    harness.to_card_checking(CardOutcome.APPROVED)
    harness.send(ui.Cancel())
    assert harness.state is State.CARD_CHECKING
    assert harness.session_outcomes() == []
    harness.calls.release()
    harness.pump()
    assert harness.state is State.RECEIPT  # the money was taken: it is a payment
    harness.assert_card_invariants()


def test_unknown_status_reverses_through_a_second_command(harness: Harness) -> None:
    harness.terminal.approve_in_doubt = True
    harness.terminal.status_blind = True
    harness.calls.hold.add("reverse")
    harness.to_card_checking()
    harness.calls.release()  # the status query: it can not tell
    harness.pump()
    assert harness.state is State.CARD_CHECKING
    assert harness.types()[-1] == E.CARD_REVERSAL_REQUESTED  # journaled before it is sent
    assert harness.terminal.reversal_requests == []
    harness.calls.release()
    harness.pump()
    assert harness.state is State.CARD_DECLINED
    assert harness.engine.snapshot.card_decline_reason == "in_doubt_reversed"
    assert harness.journal.open_intents() == []
    harness.assert_card_invariants()


def test_the_terminals_answer_while_checking_is_handled_after(harness: Harness) -> None:
    """The terminal approves while the kiosk asks it (blind) what happened: the sale is
    reversed as unknown, then the approval is a late one and reversed as such."""
    harness.terminal.status_blind = True
    harness.to_card_checking()
    reference = harness.reference
    harness.terminal.approved[reference] = Money(4425)
    harness.send(harness.terminal.approval(reference))
    assert harness.state is State.CARD_CHECKING
    assert E.CARD_SALE_APPROVED not in harness.types()
    harness.calls.release()
    harness.pump()
    assert harness.state is State.CARD_DECLINED
    [late] = harness.of_type(E.CARD_SALE_APPROVED)
    assert late["late"] is True
    assert reference not in harness.terminal.approved
    assert harness.payments() == []
    harness.assert_card_invariants()


# ----------------------------------------------------------------------------- cash


def test_a_bill_waits_in_escrow_for_the_count_and_cancel_waits_for_the_bill(
    harness: Harness,
) -> None:
    harness.to_cash()
    harness.calls.hold.add("cashbox_count")
    harness.acceptor.insert(20)
    harness.pump()
    assert harness.types()[-1] == E.BILL_ESCROWED
    assert harness.engine.snapshot.bill_in_escrow
    harness.send(ui.Cancel())
    assert harness.state is State.CASH, "the bill in escrow is still the resident's"
    harness.calls.hold.clear()
    harness.calls.release()
    harness.pump()
    [intent] = harness.of_type(E.BILL_STACK_REQUESTED)
    assert intent["cashbox_before"] == 0
    assert harness.state is State.RECEIPT
    [payment] = harness.payments()
    assert payment["cash_cents"] == 2000
    assert harness.credited_cents() == sum(b.cents for b in harness.acceptor.cashbox)


def test_a_fault_mid_stack_reaches_the_table_once_the_count_settled_it(
    harness: Harness,
) -> None:
    harness.acceptor.auto = False
    harness.to_cash()
    harness.acceptor.insert(20)
    harness.pump()
    harness.acceptor.finish_stack(report=False)  # in the box, but the acceptor never said
    harness.calls.hold.add("cashbox_count")
    harness.acceptor.fault("jam")
    harness.pump()
    assert harness.state is State.CASH
    assert E.BILL_STACKED not in harness.types()
    harness.calls.release()
    harness.pump()
    [stacked] = harness.of_type(E.BILL_STACKED)
    assert stacked["recovered"] is True
    assert harness.state is State.RECEIPT
    assert harness.journal.open_intents() == []


# ----------------------------------------------------------------------------- real thread


class _Snapshots:
    """Snapshots the engine thread publishes, and a way to wait for one."""

    def __init__(self) -> None:
        self.seen: list[Snapshot] = []
        self._changed = threading.Condition()

    def __call__(self, snapshot: Snapshot) -> None:
        with self._changed:
            self.seen.append(snapshot)
            self._changed.notify_all()

    def wait_for(self, test: Callable[[Snapshot], bool], timeout: float = 5.0) -> Snapshot:
        with self._changed:
            assert self._changed.wait_for(lambda: test(self.seen[-1]), timeout), (
                f"gave up waiting; last snapshot {self.seen[-1]}"
            )
            return self.seen[-1]


def test_a_status_query_held_10_s_does_not_stop_touches_or_time_outs(tmp_path: Path) -> None:
    config = KioskConfig()
    clock = FakeClock()
    devices = FakePorts()
    terminal = devices.terminal
    terminal.next_outcome = None
    terminal.status_answer = CardOutcome.APPROVED  # the host took the money
    asked, answered = threading.Event(), threading.Event()
    plain_status = terminal.status

    def slow_status(reference: str) -> CardResult:
        asked.set()
        time.sleep(HOLD_S)  # a terminal busy for the whole of the hold
        answered.set()
        return plain_status(reference)

    terminal.status = slow_status  # type: ignore[method-assign]
    journal = Journal.open(tmp_path / "journal.sqlite", now=clock.now)
    engine = PaymentEngine(config, journal, devices.port_set(), clock)
    snapshots = _Snapshots()
    engine.subscribe(snapshots)
    engine.start()
    try:
        for event, state in (
            (ui.Start("en"), State.FIND_ACCOUNT),
            (ui.EnterAccount("100200300"), State.CONFIRM_ACCOUNT),
            (ui.ConfirmAccount(), State.AMOUNT),
            (ui.ChooseAmount(Money(4317)), State.METHOD),
            (ui.ChooseMethod("card"), State.CARD),
        ):
            engine.submit(event)
            snapshots.wait_for(lambda s, state=state: s.state is state)  # type: ignore[misc]
        terminal.answer(CardOutcome.IN_DOUBT)
        held_from = time.monotonic()
        snapshots.wait_for(lambda s: s.state is State.CARD_CHECKING)
        assert asked.wait(5.0)

        engine.submit(ui.SetLanguage("es"))  # the resident's input is answered at once
        snap = snapshots.wait_for(lambda s: s.language == "es")
        assert snap.state is State.CARD_CHECKING

        clock.advance(config.timeouts.idle_screen + 1)
        snap = snapshots.wait_for(lambda s: s.state is State.STILL_THERE)
        assert snap.interrupted is State.CARD_CHECKING
        engine.submit(ui.Touch())
        snapshots.wait_for(lambda s: s.state is State.CARD_CHECKING)
        assert not answered.is_set(), "all of that happened while the status query was held"
        assert time.monotonic() - held_from < HOLD_S

        snap = snapshots.wait_for(lambda s: s.state is State.RECEIPT, timeout=HOLD_S + 10)
        assert answered.is_set()
        assert snap.confirmation is not None
    finally:
        engine.stop()
        journal.close()
    assert [p["method"] for p in _payments(tmp_path)] == ["card"]


def _payments(tmp_path: Path) -> list[dict[str, object]]:
    with Journal.open(tmp_path / "journal.sqlite") as journal:
        return [dict(e.payload) for e in journal.entries() if e.type == E.PAYMENT_COMPLETED]
