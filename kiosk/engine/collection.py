"""Cash-box collection: the technician swaps the box, the kiosk closes the books and prints
the slip.

The technician's part is physical (box out, bag or seal number, empty box in); the acceptor
normally reports the box going and coming, and a button stands in where it can not. Once the
empty box is in, the kiosk does the rest by itself, each step journaled before the next as
on the payment path: ``collection.started`` (the intent), ``batch.closed``,
``card.end_of_day.requested``, the terminal's ``card.end_of_day`` (a slow call, answered on
the queue), ``collection.completed`` (the kiosk's counts beside the terminal's), then the
slip's print intent and outcome. A restart anywhere in between is finished by recovery
(:mod:`kiosk.recovery`) from those entries; the slip can always be printed again from them.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace

from contract import payloads
from kiosk import __version__, crashpoints
from kiosk.batches import close_batch
from kiosk.collection import (
    CollectionRecord,
    collections,
    completion,
    end_of_day_payload,
    last_slip_number,
    next_slip_number,
    slip_for,
)
from kiosk.device_calls import CallDone
from kiosk.engine import inputs as ui
from kiosk.engine.base import EngineBase
from kiosk.engine.service_events import EndOfDayAnswered
from kiosk.engine.snapshot import CollectionView
from kiosk.money import Money
from kiosk.ports import AcceptorFault, CardSettlement, DeviceNotice, ReceiptDone

SEAL = re.compile(r"^[A-Za-z0-9-]{1,32}$")
BOX_OUT = "cassette_removed"
BOX_IN = "cassette_replaced"


@dataclass(frozen=True, eq=False)
class EndOfDayCall:
    """Purpose of the terminal's end-of-day call during a collection."""

    collection_id: str


@dataclass
class CollectionRun:
    """The collection under way on the screen (the journal holds what has happened)."""

    step: str = "box_out"  # box_out | seal | box_in | closing | done
    box_reported_out: bool = False
    seal_number: str = ""
    started: payloads.CollectionStarted | None = None
    started_seq: int = 0
    end_of_day_seq: int = 0
    completed: payloads.CollectionCompleted | None = None


class Collections(EngineBase):
    _technician: str
    _service_message: str
    _collection: CollectionRun | None
    # open slip.print.requested by confirmation -> seq
    _slip_intents: dict[str, int]
    _slip_state: tuple[str, str] | None  # (printing | printed | failed, reason)

    def _init_collections(self) -> None:
        self._collection = None
        self._slip_intents = {}
        self._slip_state = None
        self._last_slip: int | None = last_slip_number(self.journal)

    # ------------------------------------------------------------------ guards
    def _box_came_out(self, event: AcceptorFault) -> bool:
        return self._step_is("box_out") and event.reason == BOX_OUT

    def _awaiting_box_out(self, _event: object) -> bool:
        return self._step_is("box_out")

    def _seal_accepted(self, event: ui.EnterSeal) -> bool:
        return self._step_is("seal") and SEAL.fullmatch(event.number.strip()) is not None

    def _box_went_in(self, event: DeviceNotice) -> bool:
        return self._step_is("box_in") and event.device == "bill_acceptor" and event.kind == BOX_IN

    def _awaiting_box_in(self, _event: object) -> bool:
        return self._step_is("box_in")

    def _collection_under_way(self, _event: object) -> bool:
        return self._step_is("closing")

    def _collection_not_under_way(self, _event: object) -> bool:
        return not self._step_is("closing")

    def _a_slip_to_reprint(self, _event: object) -> bool:
        return self._last_slip is not None

    def _step_is(self, step: str) -> bool:
        return self._collection is not None and self._collection.step == step

    # ------------------------------------------------------------------ the technician's part
    def _start_collection(self, _event: object) -> None:
        run = CollectionRun()
        if self.ports.acceptor.health().reason == BOX_OUT:
            run.step, run.box_reported_out = "seal", True  # it is out already
        self._collection = run
        self._slip_state = None
        self._action("collection", "begun")

    def _note_box_out(self, event: object) -> None:
        run = self._collection
        assert run is not None
        run.box_reported_out = isinstance(event, AcceptorFault)
        run.step = "seal"
        self._action(
            "cash_box_out",
            "reported by the bill acceptor" if run.box_reported_out else "said by the technician",
        )

    def _note_seal(self, event: ui.EnterSeal) -> None:
        run = self._collection
        assert run is not None
        run.seal_number = event.number.strip().upper()
        run.step = "box_in"
        self._service_message = ""
        self._action("seal_number", run.seal_number)

    def _explain_seal(self, _event: object) -> None:
        if self._step_is("seal"):
            self._service_message = "seal_invalid"

    def _leave_collection(self, _event: object) -> None:
        run = self._collection
        if run is not None and run.step != "done":
            self._action("collection", f"left at step {run.step}")
        self._collection = None

    def _end_collection_view(self) -> None:
        self._collection = None

    # ------------------------------------------------------------------ the kiosk's part
    def _close_collection(self, event: object) -> None:
        """The empty box is in: journal the intent, close the batch, ask for the end of day."""
        run = self._collection
        assert run is not None
        records = self._collections()
        batch_id = self.journal.open_batch_id()
        started = payloads.CollectionStarted(
            collection_id=str(uuid.uuid4()),
            slip_number=next_slip_number(records),
            batch_id=batch_id,
            technician=self._technician,
            cashbox_id=self.config.service.cashbox_id,
            seal_number=run.seal_number,
        )
        run.started, run.started_seq = started, self._record(started).seq
        run.step = "closing"
        crashpoints.hit("collection.after_started")
        self.last_batch = close_batch(self.journal, "cash_box_collection", self._technician)
        crashpoints.hit("collection.after_batch_closed")
        request = payloads.CardEndOfDayRequested(collection_id=started.collection_id)
        run.end_of_day_seq = self._record(request).seq
        crashpoints.hit("collection.after_end_of_day_requested")
        self._ask(
            "card_terminal",
            "end_of_day",
            self.ports.terminal.end_of_day,
            EndOfDayCall(started.collection_id),
        )

    def _collection_answer(self, done: CallDone) -> object | None:
        purpose = done.call.purpose
        assert isinstance(purpose, EndOfDayCall)
        if done.error is not None or not isinstance(done.value, CardSettlement):
            settlement = CardSettlement(ok=False, reason=f"end of day failed: {done.error}")
        else:
            settlement = done.value
        return EndOfDayAnswered(purpose.collection_id, settlement)

    def _finish_collection(self, event: EndOfDayAnswered) -> None:
        run = self._collection
        if run is None or run.started is None or run.started.collection_id != event.collection_id:
            return
        self._record(end_of_day_payload(event.settlement, run.end_of_day_seq))
        crashpoints.hit("collection.after_end_of_day_journaled")
        report = self.last_batch
        assert report is not None
        run.completed = completion(run.started, run.started_seq, report, event.settlement)
        self._record(run.completed)
        self.last_batch = replace(
            report, terminal_total=event.settlement.total if event.settlement.ok else None
        )
        self._last_slip = run.started.slip_number
        crashpoints.hit("collection.after_completed")
        run.step = "done"
        self._print_slip(reprint=False)

    def _reprint_slip(self, _event: object) -> None:
        self._action("reprint_slip")
        self._print_slip(reprint=True)

    def _print_slip(self, reprint: bool) -> None:
        records = [r for r in self._collections() if r.completed is not None]
        if not records:
            return
        record = records[-1]
        slip = slip_for(record, self.config, self.language, __version__, copy=reprint)
        intent = self._record(
            payloads.SlipPrintRequested(
                collection_id=record.started.collection_id,
                confirmation=slip.confirmation,
                reprint=reprint,
            )
        )
        self._slip_intents[slip.confirmation] = intent.seq
        self._slip_state = ("printing", "")
        crashpoints.hit("collection.after_slip_intent")
        health = self.ports.printer.health()
        if not health.usable:
            self.submit(ReceiptDone(slip.confirmation, printed=False, reason=health.reason))
            return
        self.ports.printer.print_receipt(slip)

    def _observe_slip(self, event: ReceiptDone) -> bool:
        """True when ``event`` answers a slip (journaled here, whatever the screen shows)."""
        intent = self._slip_intents.pop(event.confirmation, None)
        if intent is None:
            return False
        if event.printed:
            self._record(payloads.SlipPrinted(intent_seq=intent, confirmation=event.confirmation))
            self._slip_state = ("printed", "")
        else:
            self._record(
                payloads.SlipFailed(
                    intent_seq=intent, confirmation=event.confirmation, reason=event.reason
                )
            )
            self._slip_state = ("failed", event.reason)
        return True

    def _collections(self) -> list[CollectionRecord]:
        return collections(self.journal.entries())

    # ------------------------------------------------------------------ what the page shows
    def _collection_view(self) -> CollectionView | None:
        run = self._collection
        if run is None:
            return None
        view = CollectionView(
            step=run.step,
            box_reported_out=run.box_reported_out,
            seal_number=run.seal_number,
            slip_number=run.started.slip_number if run.started else 0,
            slip=self._slip_state[0] if self._slip_state else None,
            slip_reason=self._slip_state[1] if self._slip_state else "",
        )
        done = run.completed
        if done is None:
            return view
        return replace(
            view,
            cash_total=Money(done.cash_cents),
            bill_count=sum(done.bills.values()),
            card_count=done.card_count,
            card_total=Money(done.card_cents),
            terminal_ok=done.terminal_ok,
            terminal_total=Money(done.terminal_cents) if done.terminal_ok else None,
            agreed=done.agreed,
        )

    def _action(self, action: str, detail: str = "") -> None:
        raise NotImplementedError
