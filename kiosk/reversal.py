"""Reversing a card sale: the one way the engine and start-up recovery both do it.

A reversal is an irreversible terminal command, so it is journaled before it is sent
(``card.reversal.requested``, naming the sale intent it undoes) and its outcome after
(``card.reversed`` or ``card.reversal.failed``, naming the reversal intent). When it worked
and the sale's own intent is still open, a second ``card.reversed`` settles that intent too,
so neither intent is left for the next recovery to reverse again. The engine sends the
command through its device-call worker and recovery sends it directly; the entries, their
order and their payloads are the same either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from contract import entries as E
from contract import payloads
from kiosk import crashpoints
from kiosk.ports import CardTerminal

log = logging.getLogger(__name__)

Record = Callable[[payloads.Payload], E.EntryLike]
"""``record(payload)``: the caller's journal append (the engine's or recovery's)."""

FAILED_REASON = "terminal did not confirm the reversal"


@dataclass(frozen=True, slots=True)
class Reversal:
    """A journaled reversal intent, waiting for the terminal's answer."""

    seq: int
    session_id: str | None
    reference: str
    sale_intent_seq: int | None


def request_reversal(
    record: Record,
    session_id: str | None,
    reference: str,
    reason: str,
    sale_intent_seq: int | None,
) -> Reversal:
    """Journal the intent; the caller then asks the terminal (:func:`reverse_on`)."""
    intent = record(
        payloads.CardReversalRequested(
            session_id=session_id,
            reference=reference,
            reason=reason,
            sale_intent_seq=sale_intent_seq,
        )
    )
    crashpoints.hit("card.after_reversal_intent")
    return Reversal(intent.seq, session_id, reference, sale_intent_seq)


def reverse_on(terminal: CardTerminal, reference: str) -> bool:
    """The terminal's answer; a terminal that fails to answer did not confirm it."""
    try:
        return bool(terminal.reverse(reference))
    except Exception as exc:
        log.warning("reversal of %s failed: %s", reference, exc)
        return False


def record_reversal(record: Record, reversal: Reversal, ok: bool, sale_open: bool) -> None:
    """Journal the outcome; ``sale_open``: the sale intent has no outcome yet."""
    session_id, reference = reversal.session_id, reversal.reference
    if not ok:
        record(
            payloads.CardReversalFailed(
                session_id=session_id,
                intent_seq=reversal.seq,
                reference=reference,
                reason=FAILED_REASON,
            )
        )
        return
    record(
        payloads.CardReversed(session_id=session_id, intent_seq=reversal.seq, reference=reference)
    )
    if reversal.sale_intent_seq is not None and sale_open:
        # the reversal also settles the sale intent it undid
        record(
            payloads.CardReversed(
                session_id=session_id, intent_seq=reversal.sale_intent_seq, reference=reference
            )
        )
