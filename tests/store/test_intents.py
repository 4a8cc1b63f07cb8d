"""open_intents(): what recovery must resolve after a crash."""

from __future__ import annotations

from contract import entries as e
from kiosk.store.journal import Journal
from tests.store.builders import card_sale, cash_payment, write


def _stack_intent(journal: Journal, bill_id: str) -> int:
    payload = {
        "session_id": "s",
        "bill_id": bill_id,
        "denomination_cents": 2000,
        "cashbox_before": 3,
    }
    return journal.append(e.BILL_STACK_REQUESTED, payload).seq


def test_a_finished_payment_leaves_nothing_open(fast_journal: Journal) -> None:
    write(
        fast_journal,
        cash_payment("s", "1", [2000, 500]) + card_sale("t", "R-1", 100, 0, "declined"),
    )
    assert fast_journal.open_intents() == []


def test_an_intent_without_outcome_is_open(fast_journal: Journal) -> None:
    write(fast_journal, cash_payment("s", "1", [2000]))
    seq = _stack_intent(fast_journal, "b-open")
    fast_journal.append(e.KIOSK_STARTED, {"version": "1"})
    [intent] = fast_journal.open_intents()
    assert (intent.seq, intent.type, intent.payload["bill_id"]) == (
        seq,
        e.BILL_STACK_REQUESTED,
        "b-open",
    )


def test_each_listed_outcome_settles_its_intent(fast_journal: Journal) -> None:
    n = 0
    for intent_type, outcomes in e.INTENT_OUTCOMES.items():
        for outcome in outcomes:
            n += 1
            fields = {
                "session_id": "s",
                "reference": f"r{n}",
                "bill_id": f"b{n}",
                "denomination_cents": 100,
                "total_cents": 100,
                "fee_cents": 0,
                "confirmation": "C",
            }
            seq = fast_journal.append(intent_type, fields).seq
            fast_journal.append(outcome, fields | {"intent_seq": seq})
    assert fast_journal.open_intents() == []


def test_recovery_resolved_settles_any_intent(fast_journal: Journal) -> None:
    seq = _stack_intent(fast_journal, "b1")
    fast_journal.append(e.RECOVERY_STARTED, {"open_intents": 1})
    fast_journal.append(
        e.RECOVERY_RESOLVED,
        {"intent_seq": seq, "intent_type": e.BILL_STACK_REQUESTED, "resolution": "stacked"},
    )
    assert fast_journal.open_intents() == []


def test_an_outcome_of_the_wrong_type_or_seq_settles_nothing(fast_journal: Journal) -> None:
    stack = _stack_intent(fast_journal, "b1")
    receipt = fast_journal.append(
        e.RECEIPT_PRINT_REQUESTED, {"session_id": "s", "confirmation": "C"}
    ).seq
    # a receipt outcome can not settle a bill intent, nor a text seq, nor a seq in the future
    fast_journal.append(
        e.RECEIPT_PRINTED, {"session_id": "s", "confirmation": "C", "intent_seq": stack}
    )
    fast_journal.append(
        e.RECEIPT_FAILED, {"session_id": "s", "confirmation": "C", "intent_seq": str(receipt)}
    )
    future = fast_journal.last_seq() + 2
    fast_journal.append(
        e.RECEIPT_PRINTED, {"session_id": "s", "confirmation": "C", "intent_seq": future}
    )
    later = fast_journal.append(
        e.RECEIPT_PRINT_REQUESTED, {"session_id": "s", "confirmation": "D"}
    ).seq
    assert later == future
    assert [x.seq for x in fast_journal.open_intents()] == [stack, receipt, later]


def test_an_in_doubt_card_sale_stays_open_until_resolved(fast_journal: Journal) -> None:
    [request, _] = write(fast_journal, card_sale("s", "R-9", 1000, 100, "in_doubt"))
    assert [x.seq for x in fast_journal.open_intents()] == [request.seq]
    fast_journal.append(
        e.CARD_SALE_DECLINED,
        {"session_id": "s", "reference": "R-9", "reason": "recovered", "intent_seq": request.seq},
    )
    assert fast_journal.open_intents() == []
