"""Card settlement: every approval the terminal gives is a payment or reversed (rule 5).

A sale the terminal answers "in doubt", or one that outlives its time-out, is settled with
the terminal: a status query, then a reversal when even the terminal can not say. Both are
slow device calls (up to 20 s each on a ZVT link), so they are commands whose answers come
back as events; meanwhile the session is in ``card_checking``, the resident is told the kiosk
is checking with the card reader, touches are answered and time-outs run, and nothing can
end the session until the sale is settled. Only settled results reach the table from there.
The terminal's own answers for that sale while it is being checked are held and handled
after it is settled, exactly as if they had come late.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from contract import payloads
from kiosk import crashpoints
from kiosk.completion import approval_payload
from kiosk.device_calls import CallDone
from kiosk.engine import inputs as ui
from kiosk.engine.base import EngineBase
from kiosk.engine.session import CardApproval, Session
from kiosk.fees import card_fee
from kiosk.ports import CardOutcome, CardProgress, CardResult
from kiosk.reversal import Reversal, record_reversal, request_reversal, reverse_on

log = logging.getLogger(__name__)

TERMINAL = "card_terminal"
CHECKING = "checking"  # the card screen's prompt while the kiosk asks the terminal


@dataclass(frozen=True, eq=False)
class StatusQuery:
    session: Session
    reference: str


@dataclass(frozen=True, eq=False)
class ReversalSent:
    """A reversal under way; ``settles`` is the session whose sale it settles, if any."""

    reversal: Reversal
    settles: Session | None


@dataclass(frozen=True, eq=False)
class AbortSent:
    reference: str


class CardSettlement(EngineBase):
    _held_card_results: list[CardResult]

    # ------------------------------------------------------------------ observing the terminal
    def _observe_card_result(self, result: CardResult) -> object | None:
        s = self.session
        if s is None or result.reference != s.card_reference or s.card_settled:
            self._late_card_result(result)
            return None
        if s.card_checking:
            self._held_card_results.append(result)  # the status query decides; this follows
            return None
        if result.outcome is CardOutcome.IN_DOUBT:
            self._record(
                payloads.CardSaleInDoubt(
                    session_id=s.session_id,
                    intent_seq=s.card_intent_seq,
                    reference=result.reference,
                )
            )
        else:
            self._journal_card_result(s, result)
        return result

    def _journal_card_result(self, s: Session, result: CardResult, recovered: bool = False) -> None:
        s.card_settled = True
        session_id, intent_seq, reference = s.session_id, s.card_intent_seq, result.reference
        if result.outcome is CardOutcome.APPROVED:
            self._record(approval_payload(result, session_id, intent_seq, recovered=recovered))
            crashpoints.hit("card.after_approved_journaled")
            s.card_approval = CardApproval.from_result(result)
        elif result.outcome is CardOutcome.DECLINED:
            self._record(
                payloads.CardSaleDeclined(
                    session_id=session_id,
                    intent_seq=intent_seq,
                    reference=reference,
                    reason=result.reason,
                )
            )
            s.card_decline_reason = result.reason or "declined"
        else:
            self._record(
                payloads.CardSaleCancelled(
                    session_id=session_id,
                    intent_seq=intent_seq,
                    reference=reference,
                    by=result.reason or "cardholder",
                )
            )
            s.card_decline_reason = "cancelled"

    def _late_card_result(self, result: CardResult) -> None:
        """A result for a sale we already settled or gave up on: never keep money silently."""
        s = self.session
        if result.outcome is CardOutcome.APPROVED:
            if (
                s is not None
                and s.card_approval is not None
                and s.card_approval.reference == result.reference
            ):
                return  # the same approval reported twice
            approved = approval_payload(result, self._sid(), intent_seq=None, recovered=False)
            self._record(approved.model_copy(update={"late": True}))
            self._reverse(self._sid(), result.reference, "late_approval", None, settles=None)
        else:
            log.info(
                "ignoring settled card result %s for %s", result.outcome.value, result.reference
            )

    # ------------------------------------------------------------------ checking with the terminal
    def _check_with_terminal(self, _event: object) -> None:
        """The sale's outcome is unknown: ask the terminal (the answer is an event)."""
        s = self.session
        assert s is not None and s.card_reference is not None
        s.card_checking, s.card_prompt = True, CHECKING
        reference = s.card_reference
        self._ask(
            TERMINAL,
            "status",
            lambda: self.ports.terminal.status(reference),
            StatusQuery(s, reference),
        )

    def _give_up_on_sale(self, event: object) -> None:
        """The sale outlived its time-out: abort it, and find out what became of it."""
        s = self.session
        assert s is not None and s.card_reference is not None
        self._record(
            payloads.CardSaleInDoubt(
                session_id=s.session_id,
                intent_seq=s.card_intent_seq,
                reference=s.card_reference,
                reason="timeout",
            )
        )
        self._abort_terminal(s.card_reference)
        self._check_with_terminal(event)

    def _card_answer(self, done: CallDone) -> object | None:
        purpose = done.call.purpose
        if isinstance(purpose, StatusQuery):
            return self._status_answered(purpose, done)
        if isinstance(purpose, ReversalSent):
            return self._reversal_answered(purpose, done.error is None and done.value is True)
        return None  # an abort: the sale's own result (or the status query) tells the rest

    def _status_answered(self, p: StatusQuery, done: CallDone) -> object | None:
        s = p.session
        if s is not self.session or s.card_settled or s.card_reference != p.reference:
            return None
        status = done.value
        if done.error is not None or not isinstance(status, CardResult):
            status = CardResult(reference=p.reference, outcome=CardOutcome.IN_DOUBT)
        if status.outcome is not CardOutcome.IN_DOUBT:
            self._journal_card_result(s, status, recovered=True)
            return self._checked(s, status)
        self._reverse(s.session_id, p.reference, "in_doubt", s.card_intent_seq, settles=s)
        return None

    def _reverse(
        self,
        session_id: str | None,
        reference: str,
        reason: str,
        sale_intent_seq: int | None,
        settles: Session | None,
    ) -> None:
        reversal = request_reversal(self._record, session_id, reference, reason, sale_intent_seq)
        terminal = self.ports.terminal
        self._ask(
            TERMINAL,
            "reverse",
            lambda: reverse_on(terminal, reference),
            ReversalSent(reversal, settles),
        )

    def _reversal_answered(self, p: ReversalSent, ok: bool) -> object | None:
        # the engine reverses only sales it has not settled: their intent is still open
        record_reversal(self._record, p.reversal, ok, sale_open=True)
        s = p.settles
        if s is None:
            return None
        s.card_settled = True
        # the resident is told the truth: a reversal that failed may have left a charge, which
        # recovery reverses once the terminal can see it (kiosk/recovery.py)
        reason = "in_doubt_reversed" if ok else "in_doubt_unreversed"
        s.card_decline_reason = reason
        result = CardResult(
            reference=p.reversal.reference, outcome=CardOutcome.DECLINED, reason=reason
        )
        return self._checked(s, result) if s is self.session else None

    def _checked(self, s: Session, result: CardResult) -> CardResult:
        """The sale is settled: the table takes ``result``; what the terminal said meanwhile
        is handled next, as a late answer."""
        s.card_checking, s.card_prompt = False, ""
        held, self._held_card_results = self._held_card_results, []
        for answer in held:
            self.submit(answer)
        return result

    def _abort_terminal(self, reference: str) -> None:
        self._ask(TERMINAL, "abort", self.ports.terminal.abort, AbortSent(reference))

    # ------------------------------------------------------------------ guards
    def _card_possible(self, _event: object = None) -> bool:
        return self.ports.terminal.health().usable

    def _card_chosen_and_possible(self, event: ui.ChooseMethod) -> bool:
        return event.method == "card" and self._card_possible()

    def _card_is_current(self, event: CardProgress | CardResult) -> bool:
        return self.session is not None and event.reference == self.session.card_reference

    def _cancelled_by_resident(self, event: CardResult) -> bool:
        s = self.session
        return self._card_is_current(event) and s is not None and s.cancel_requested

    def _card_approved(self, event: CardResult) -> bool:
        return self._card_is_current(event) and event.outcome is CardOutcome.APPROVED

    def _card_in_doubt(self, event: CardResult) -> bool:
        return self._card_is_current(event) and event.outcome is CardOutcome.IN_DOUBT

    def _card_unsettled(self, _event: object) -> bool:
        """A sale the kiosk is still checking with the terminal: the session can not end."""
        s = self.session
        return s is not None and s.card_intent_seq is not None and not s.card_settled

    # ------------------------------------------------------------------ actions
    def _start_card_sale(self, _event: object) -> None:
        s = self.session
        assert s is not None and s.amount is not None
        fee = card_fee(s.amount, self.config.card_fee)
        s.method, s.fee, s.message = "card", fee, ""
        self._record(
            payloads.MethodChosen(session_id=s.session_id, method="card", fee_cents=fee.cents)
        )
        s.card_attempts += 1
        s.card_reference = f"{s.session_id[:8].upper()}-{s.card_attempts}"
        s.card_prompt = ""
        s.card_decline_reason = ""
        total_charged = s.amount + fee
        intent = self._record(
            payloads.CardSaleRequested(
                session_id=s.session_id,
                reference=s.card_reference,
                amount_cents=s.amount.cents,
                fee_cents=fee.cents,
                total_cents=total_charged.cents,
            )
        )
        s.card_intent_seq = intent.seq
        s.card_settled = False
        self._card_sale_began = self.clock.monotonic()
        crashpoints.hit("card.after_sale_intent")
        try:
            self.ports.terminal.start_sale(total_charged, s.card_reference)
        except Exception as exc:  # did the request reach the terminal? only its status can say
            log.warning("starting the card sale failed: %s", exc)
            self.submit(CardResult(reference=s.card_reference, outcome=CardOutcome.IN_DOUBT))
        crashpoints.hit("card.after_sale_sent")

    def _show_card_progress(self, event: CardProgress) -> None:
        assert self.session is not None
        self.session.card_prompt = event.message

    def _show_card_declined(self, event: CardResult) -> None:
        assert self.session is not None
        self.session.message = "card_declined"

    def _abort_card_sale(self, _event: object) -> None:
        assert self.session is not None
        self.session.cancel_requested = True
        self._abort_terminal(self.session.card_reference or "")
