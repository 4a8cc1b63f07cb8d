"""Cash-box collection: the batch closes once, the terminal's end of day is set beside the
kiosk's card total, the slip prints, and a power cut at any step is finished by recovery."""

from __future__ import annotations

import pytest

from contract import entries as E
from kiosk import crashpoints
from kiosk.engine import inputs as ui
from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.ports import CollectionSlip
from tests.engine.conftest import Harness, MakeHarness
from tests.fakes import WITH_TECHNICIANS


@pytest.fixture
def h(make_harness: MakeHarness) -> Harness:
    return make_harness(WITH_TECHNICIANS)


def _pay_cash_and_card(h: Harness) -> None:
    h.to_cash("20.00")
    h.acceptor.insert(20)
    h.pump()
    h.send(ui.Finish())
    h.to_card("43.17", answer=True)
    h.send(ui.Finish())
    assert len(h.payments()) == 2


def _slips(h: Harness) -> list[CollectionSlip]:
    return [p for p in h.printer.printed if isinstance(p, CollectionSlip)]


def test_a_collection_closes_the_batch_settles_the_terminal_and_prints_the_slip(
    h: Harness,
) -> None:
    _pay_cash_and_card(h)
    h.to_service()
    h.collect("bag-0042")
    [started] = h.of_type(E.COLLECTION_STARTED)
    assert started["technician"] == "Dana Lopez"
    assert started["seal_number"] == "BAG-0042" and started["slip_number"] == 1
    [closed] = h.of_type(E.BATCH_CLOSED)
    assert closed["by"] == "Dana Lopez" and closed["cash_cents"] == 2000
    [done] = h.of_type(E.COLLECTION_COMPLETED)
    card_total = int(closed["card_cents"])
    assert card_total > 0
    assert (done["cash_cents"], done["card_cents"], done["terminal_cents"]) == (
        2000,
        card_total,
        card_total,
    )
    assert done["agreed"] is True and done["card_count"] == 1 and done["terminal_count"] == 1
    assert h.terminal.settlements == [Money(card_total)]
    [slip] = _slips(h)
    assert slip.card_agreed and slip.seal_number == "BAG-0042" and slip.technician == "Dana Lopez"
    assert slip.bills == ((Money(2000), 1),) and slip.payments == 2
    assert slip.previous_collected_at_local is None and not slip.copy
    assert h.of_type(E.SLIP_PRINTED) == [{"intent_seq": h.of_type_seq(E.SLIP_PRINT_REQUESTED)[0],
                                          "confirmation": slip.confirmation}]  # fmt: skip
    assert h.journal.open_intents() == []
    view = h.engine.snapshot.collection
    assert view is not None and view.agreed and view.slip == "printed"
    assert view.cash_total == Money(2000)
    assert h.journal.verify().ok


def test_the_next_collection_counts_only_what_came_after(h: Harness) -> None:
    _pay_cash_and_card(h)
    h.to_service()
    h.collect()
    h.send(ui.Back(), ui.LeaveService())
    h.to_cash("10.00")
    h.acceptor.insert(10)
    h.pump()
    h.send(ui.Finish())
    h.to_service()
    h.collect("BAG-0043")
    first, second = h.of_type(E.COLLECTION_COMPLETED)
    assert (second["slip_number"], second["cash_cents"], second["card_cents"]) == (2, 1000, 0)
    assert second["agreed"] is True
    slip = _slips(h)[-1]
    assert slip.previous_collected_at_local is not None
    assert int(str(second["first_seq"])) > int(str(first["last_seq"]))


def test_a_terminal_total_that_differs_is_not_agreed(h: Harness) -> None:
    _pay_cash_and_card(h)
    h.terminal.approved["SOMEONE-ELSES"] = Money(4425)  # a sale the kiosk never recorded
    h.to_service()
    h.collect()
    [done] = h.of_type(E.COLLECTION_COMPLETED)
    assert done["agreed"] is False
    assert not _slips(h)[0].card_agreed


def test_a_silent_terminal_still_closes_the_batch_and_prints_the_slip(h: Harness) -> None:
    _pay_cash_and_card(h)

    def broken() -> object:
        raise OSError("no answer")

    h.terminal.end_of_day = broken  # type: ignore[method-assign]
    h.to_service()
    h.collect()
    [done] = h.of_type(E.COLLECTION_COMPLETED)
    assert done["terminal_ok"] is False and done["agreed"] is False
    [eod] = h.of_type(E.CARD_END_OF_DAY)
    assert eod["ok"] is False and "no answer" in str(eod["reason"])
    assert len(_slips(h)) == 1


def test_a_slip_that_could_not_print_can_be_printed_again(h: Harness) -> None:
    h.printer.works = False
    h.to_service()
    h.collect()
    assert h.engine.snapshot.collection is not None
    assert h.engine.snapshot.collection.slip == "failed"
    h.printer.works = True
    h.send(ui.ReprintSlip())
    [slip] = _slips(h)
    assert slip.copy
    assert h.engine.snapshot.collection.slip == "printed"
    assert h.journal.open_intents() == []


def test_an_invalid_seal_number_is_refused(h: Harness) -> None:
    h.to_service()
    h.send(ui.StartCollection(), ui.BoxRemoved())
    snap = h.send(ui.EnterSeal("bag 42!"))
    assert snap.service_message == "seal_invalid"
    assert snap.collection is not None and snap.collection.step == "seal"


def test_leaving_before_the_box_is_in_closes_nothing(h: Harness) -> None:
    _pay_cash_and_card(h)
    h.to_service()
    h.send(ui.StartCollection(), ui.BoxRemoved(), ui.Back())
    assert h.state is State.SERVICE_MENU
    assert h.of_type(E.BATCH_CLOSED) == [] and h.of_type(E.COLLECTION_STARTED) == []


# ------------------------------------------------------------------------ a power cut anywhere


class PowerCut(BaseException):
    """Raised at a crash point: what was journaled stays, nothing after it happens."""


CRASH_POINTS = [
    "collection.after_started",
    "collection.after_batch_closed",
    "collection.after_end_of_day_requested",
    "collection.after_end_of_day_journaled",
    "collection.after_completed",
    "collection.after_slip_intent",
]


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_power_cut_during_a_collection_is_finished_by_recovery(
    h: Harness, point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pay_cash_and_card(h)
    card_total = h.terminal.approved
    h.to_service()

    def hit(name: str) -> None:
        if name == point:
            raise PowerCut(name)

    monkeypatch.setattr(crashpoints, "hit", hit)
    with pytest.raises(PowerCut):
        h.collect()
    monkeypatch.setattr(crashpoints, "hit", lambda name: None)
    report = h.recover()
    assert h.journal.open_intents() == [], report.lines()
    assert len(h.of_type(E.BATCH_CLOSED)) == 1, "the batch closed once"
    [done] = h.of_type(E.COLLECTION_COMPLETED)
    assert done["cash_cents"] == 2000
    assert done["card_cents"] == sum(m.cents for m in card_total.values())
    assert done["agreed"] is True
    assert len(h.terminal.settlements) == 1, "the end of day ran once"
    assert len(h.of_type(E.CARD_END_OF_DAY)) == 1
    assert h.journal.verify().ok
    # a slip came out, or can be printed again from service mode
    slips = _slips(h)
    assert slips or h.of_type(E.SLIP_FAILED)
    h.new_engine()
    h.to_service()
    assert h.engine.snapshot.last_slip == 1
    h.send(ui.ReprintSlip())
    assert _slips(h)[-1].slip_number == 1 and _slips(h)[-1].copy


def test_an_end_of_day_the_terminal_ran_before_a_power_cut_is_found_done(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The terminal settled, the kiosk died before journaling its answer: asked again, the
    terminal has an empty batch, and the slip says where the totals are."""
    _pay_cash_and_card(h)
    h.to_service()
    h.calls.hold.add("end_of_day")
    h.send(ui.StartCollection(), ui.BoxRemoved(), ui.EnterSeal("B-1"), ui.BoxInserted())
    h.terminal.end_of_day()  # it ran on the terminal; its answer never reached the journal
    h.recover()
    assert h.journal.open_intents() == []
    [eod] = h.of_type(E.CARD_END_OF_DAY)
    assert eod["recovered"] is True and "already settled" in str(eod["reason"])
    [done] = h.of_type(E.COLLECTION_COMPLETED)
    assert done["agreed"] is False and done["recovered"] is True
