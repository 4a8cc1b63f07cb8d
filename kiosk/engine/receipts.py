"""Receipts: the payment is journaled as completed, then its receipt printed (or not).

The print is an intent like any device command, and the printer's answer may come after the
resident pressed Done and the session ended, so open print intents are kept by confirmation
number past the end of their session.
"""

from __future__ import annotations

from contract import payloads
from kiosk import crashpoints
from kiosk.completion import completion_payload, receipt_content
from kiosk.engine.base import EngineBase
from kiosk.engine.session import Session
from kiosk.ports import ReceiptDone


class Receipts(EngineBase):
    # open receipt.print.requested by confirmation -> (seq, session)
    _receipt_intents: dict[str, tuple[int, str]]

    def _complete_payment(self, _event: object) -> None:
        s = self.session
        assert s is not None
        if s.method == "cash":
            self.ports.acceptor.disable()
        if s.completed:
            return
        s.paid_at = self.clock.now()
        payment = completion_payload(s, s.paid_at, recovered=False)
        self._record(payment)
        s.payment_id, s.confirmation = payment.payment_id, payment.confirmation
        crashpoints.hit("payment.after_completed_journaled")
        s.offline = not self.ports.directory.online()
        self._print_receipt(s, payment)

    def _print_receipt(self, s: Session, payment: payloads.PaymentCompleted) -> None:
        content = receipt_content(s, payment, self.config, offline=s.offline)
        intent = self._record(
            payloads.ReceiptPrintRequested(
                session_id=s.session_id, confirmation=payment.confirmation
            )
        )
        s.receipt_intent_seq = intent.seq
        self._receipt_intents[content.confirmation] = (intent.seq, s.session_id)
        s.receipt_state = "printing"
        crashpoints.hit("receipt.after_print_intent")
        if not self.ports.printer.health().usable:
            self.submit(
                ReceiptDone(
                    content.confirmation, printed=False, reason=self.ports.printer.health().reason
                )
            )
            return
        self.ports.printer.print_receipt(content)
        crashpoints.hit("receipt.after_print_sent")

    def _observe_receipt(self, event: ReceiptDone) -> None:
        s = self.session
        intent, session_id = self._receipt_intents.pop(event.confirmation, (None, self._sid()))
        if event.printed:
            self._record(
                payloads.ReceiptPrinted(
                    session_id=session_id, intent_seq=intent, confirmation=event.confirmation
                )
            )
        else:
            self._record(
                payloads.ReceiptFailed(
                    session_id=session_id,
                    intent_seq=intent,
                    confirmation=event.confirmation,
                    reason=event.reason,
                )
            )
        if s is not None and s.confirmation == event.confirmation:
            s.receipt_state = "printed" if event.printed else "failed"
            s.receipt_reason = event.reason
