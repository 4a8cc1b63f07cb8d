"""open_intents(): what recovery must resolve after a crash."""

from __future__ import annotations

import re
from typing import Any

import pytest

from contract import entries as e
from contract import payloads as p
from kiosk.engine.session import replay_sessions
from kiosk.store.journal import Journal, JournalError
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


def _fitted(type_: str, fields: dict[str, Any]) -> p.Payload:
    """The payload of ``type_`` made of those of ``fields`` its model has."""
    model = p.model_for(type_)
    return p.parse(type_, {k: v for k, v in fields.items() if k in model.model_fields})


def test_each_listed_outcome_settles_its_intent(fast_journal: Journal) -> None:
    n = 0
    for intent_type, outcomes in e.INTENT_OUTCOMES.items():
        for outcome in outcomes:
            n += 1
            fields: dict[str, Any] = {
                "session_id": "s",
                "reference": f"r{n}",
                "bill_id": f"b{n}",
                "denomination_cents": 100,
                "cashbox_before": 0,
                "amount_cents": 100,
                "total_cents": 100,
                "fee_cents": 0,
                "confirmation": "C",
                "reason": "test",
                "by": "resident",
                "auth_code": "A1",
                "brand": "VISA",
                "last4": "4242",
                "terminal_ref": "T-1",
                "receipt_lines": [],
                # cash-box collection
                "collection_id": f"c{n}",
                "slip_number": n,
                "batch_id": "B1",
                "technician": "Dana Lopez",
                "cashbox_id": "1",
                "seal_number": "BAG-1",
                "bills": {},
                "cash_cents": 0,
                "rejected_bills": 0,
                "payments": 0,
                "first_seq": 0,
                "last_seq": 0,
                "card_count": 0,
                "card_cents": 0,
                "terminal_ok": True,
                "terminal_count": 0,
                "terminal_cents": 0,
                "agreed": True,
                "ok": True,
                "count": 0,
                "by_brand": [],
                "trace": None,
            }
            seq = fast_journal.record(_fitted(intent_type, fields)).seq
            fast_journal.record(_fitted(outcome, fields | {"intent_seq": seq}))
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
    """A receipt outcome can not settle a bill intent, nor a seq in the future.

    An outcome naming its intent by a text seq used to be journaled and settle nothing; the
    contract now refuses it when it is written, so open_intents() never meets one.
    """
    stack = _stack_intent(fast_journal, "b1")
    receipt = fast_journal.append(
        e.RECEIPT_PRINT_REQUESTED, {"session_id": "s", "confirmation": "C"}
    ).seq
    fast_journal.append(
        e.RECEIPT_PRINTED, {"session_id": "s", "confirmation": "C", "intent_seq": stack}
    )
    text_seq = {"session_id": "s", "confirmation": "C", "reason": "jam", "intent_seq": str(receipt)}
    refused = "receipt.failed entry refused, nothing was written: receipt.failed payload: "
    with pytest.raises(JournalError, match=re.escape(refused + "intent_seq: Input should be")):
        fast_journal.append(e.RECEIPT_FAILED, text_seq)
    assert fast_journal.last_seq() == 3  # nothing written
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


def _open_by_full_scan(journal: Journal) -> list[int]:
    """What open_intents() answers, worked out the slow way: every entry, in order."""
    intents: dict[int, str] = {}
    for entry in journal.entries():
        settles = entry.payload.get("intent_seq")
        kind = intents.get(settles) if type(settles) is int else None
        if kind is not None and (
            entry.type == e.RECOVERY_RESOLVED or entry.type in e.INTENT_OUTCOMES[kind]
        ):
            del intents[settles]
        if entry.type in e.INTENT_OUTCOMES:
            intents[entry.seq] = entry.type
    return sorted(intents)


def test_an_old_intent_under_many_settled_ones_is_found_and_a_rebuild_agrees(
    fast_journal: Journal,
) -> None:
    old = _stack_intent(fast_journal, "b-old")
    for n in range(60):
        write(fast_journal, cash_payment(f"s{n}", str(n), [2000, 500, 100]))
    newer = fast_journal.append(
        e.RECEIPT_PRINT_REQUESTED, {"session_id": None, "confirmation": "Z"}
    ).seq
    assert [x.seq for x in fast_journal.open_intents()] == [old, newer]
    assert _open_by_full_scan(fast_journal) == [old, newer]
    fast_journal.rebuild_projections()
    assert [x.seq for x in fast_journal.open_intents()] == [old, newer]
    fast_journal.append(
        e.RECOVERY_RESOLVED,
        {"intent_seq": old, "intent_type": e.BILL_STACK_REQUESTED, "resolution": "gone"},
    )
    assert [x.seq for x in fast_journal.open_intents()] == [newer]


def test_open_session_entries_are_the_entries_of_sessions_not_ended(
    fast_journal: Journal,
) -> None:
    write(fast_journal, cash_payment("done-1", "1", [2000]))
    fast_journal.append(e.SESSION_STARTED, {"session_id": "open-1", "language": "es"})
    write(fast_journal, cash_payment("done-2", "2", [500]))
    fast_journal.append(e.AMOUNT_CHOSEN, {"session_id": "open-1", "amount_cents": 700})
    fast_journal.append(e.AMOUNT_CHOSEN, {"session_id": "never-started", "amount_cents": 1})
    fast_journal.append(e.SESSION_STARTED, {"session_id": "ends", "language": "en"})
    fast_journal.append(e.SESSION_ENDED, {"session_id": "ends", "outcome": "cancelled"})

    found = fast_journal.open_session_entries()
    assert [(x.type, x.payload["session_id"]) for x in found] == [
        (e.SESSION_STARTED, "open-1"),
        (e.AMOUNT_CHOSEN, "open-1"),
    ]
    whole = replay_sessions(fast_journal.entries())
    assert replay_sessions(found) == whole and list(whole) == ["open-1"]
    fast_journal.rebuild_projections()
    assert fast_journal.open_session_entries() == found
