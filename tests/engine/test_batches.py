"""Batch reports and closing at cash-box collection, against the devices' own counts."""

from __future__ import annotations

import pytest

from contract import entries as E
from kiosk.batches import close_batch, open_batch_report
from kiosk.engine import inputs as ui
from kiosk.money import Money
from kiosk.ports import CardOutcome
from kiosk.store.journal import JournalError
from tests.engine.conftest import Harness
from tests.store.builders import batch_closed


def _pay_cash(h: Harness, *dollars: int) -> None:
    h.to_cash("43.17")
    for d in dollars:
        h.acceptor.insert(d)
        h.pump()
    if h.engine.snapshot.state.value == "cash":
        h.send(ui.FinishCash())
    h.send(ui.Finish())


def test_report_matches_the_cash_box_and_the_terminal(harness: Harness) -> None:
    _pay_cash(harness, 20, 20, 5)
    _pay_cash(harness, 10)
    harness.to_card("43.17", answer=True)
    harness.send(ui.Finish())
    # an in-doubt sale nobody can settle: reversed, not counted
    harness.terminal.next_outcome = CardOutcome.IN_DOUBT
    harness.to_card("20.00", answer=True)
    harness.send(ui.Cancel())

    report = open_batch_report(harness.journal)
    cashbox = harness.acceptor.cashbox
    assert report.cash_total == Money(sum(b.cents for b in cashbox))
    assert report.bills == {2000: 2, 500: 1, 1000: 1}
    assert report.card_approvals == len(harness.terminal.approved) == 1
    assert report.card_total == Money(4317 + 108)
    assert report.card_fees == Money(108)
    assert report.reversals == 1
    assert report.payments == 3

    closed = close_batch(harness.journal, "cash_box_collection", "tech-7")
    assert closed.last_seq == harness.journal.last_seq()
    [batch] = [b for b in harness.journal.batches() if not b.is_open]
    assert batch.batch_id == closed.batch_id
    assert batch.cash_cents == closed.cash_total.cents
    assert batch.bill_count == closed.bill_count
    after = open_batch_report(harness.journal)
    assert after.bill_count == 0 and after.payments == 0
    assert "no entries yet" in after.lines()[0]


def test_closing_names_the_open_batch_or_is_refused(harness: Harness) -> None:
    _pay_cash(harness, 20)
    with pytest.raises(JournalError, match="but the open batch is"):
        harness.journal.record(batch_closed("B999999"))
    report = close_batch(harness.journal, "cash_box_collection", "tech-7")
    assert report.cash_total == Money(2000)
    assert harness.journal.verify().ok


def test_closing_from_the_engine_runs_the_terminals_end_of_day(harness: Harness) -> None:
    harness.to_card("43.17", answer=True)
    harness.send(ui.Finish())
    _pay_cash(harness, 20)
    harness.send(ui.CloseBatch("tech-7"))
    report = harness.engine.last_batch
    assert report is not None
    assert report.terminal_total == report.card_total == Money(4317 + 108)
    [eod] = harness.of_type(E.CARD_END_OF_DAY)
    assert eod["ok"] is True and eod["total_cents"] == 4425
    [closed] = harness.of_type(E.BATCH_CLOSED)
    assert closed["card_matches"] is True and closed["terminal_card_cents"] == 4425
    assert "matches the kiosk" in "\n".join(report.lines())
    # the next day starts empty on both sides
    harness.send(ui.CloseBatch("tech-7"))
    assert harness.terminal.settlements[-1] == Money(0)


def test_a_terminal_whose_end_of_day_fails_does_not_stop_the_close(harness: Harness) -> None:
    def broken() -> object:
        raise OSError("terminal offline")

    harness.terminal.end_of_day = broken  # type: ignore[method-assign,assignment]
    _pay_cash(harness, 20)
    harness.send(ui.CloseBatch("tech-7"))
    [eod] = harness.of_type(E.CARD_END_OF_DAY)
    assert eod["ok"] is False and "terminal offline" in eod["reason"]
    [closed] = harness.of_type(E.BATCH_CLOSED)
    assert closed["card_matches"] is False
    assert harness.journal.verify().ok
    report = harness.engine.last_batch
    assert report is not None and not report.card_agreed
    assert "card terminal end of day: NO ANSWER (end of day failed: terminal offline)" in (
        report.lines()
    )
