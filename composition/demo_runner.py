"""Plays a scripted session against a running engine and says what happened.

The engine runs on its own thread exactly as in the kiosk; the runner is just another
thread putting the resident's touches and the devices' actions on its queue, and waiting
for the snapshots it publishes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from composition.hardware import NoControl
from composition.wiring import Kiosk
from contract import entries as E
from kiosk.bill_stub import make_stub_code
from kiosk.demo_scripts import (
    Do,
    Emulate,
    Expect,
    Headphones,
    InsertBill,
    Key,
    Listen,
    Network,
    PresentCard,
    ReprintListed,
    ScanStub,
    Service,
    Step,
    WaitFor,
    WaitForHub,
    hub_problem,
    hub_reached,
    reached,
)
from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from kiosk.money import Money


class ScriptFailed(RuntimeError):
    pass


def describe(s: Snapshot) -> str:
    parts = [s.state.value]
    if s.account is not None and s.state.value == "confirm_account":
        a = s.account
        parts.append(f"{a.number_masked} {a.name_masked}, {a.address_masked}, balance {a.balance}")
    if s.amount is not None and s.state.value in {"method", "card"}:
        parts.append(f"amount {s.amount}, card fee {s.card_fee}")
    if s.state.value == "cash":
        parts.append(f"inserted {s.inserted}")
    if s.card_prompt and s.state.value == "card":
        parts.append(f"terminal: {s.card_prompt}")
    if s.confirmation:
        parts.append(f"confirmation {s.confirmation}, receipt {s.receipt or '-'}")
    if s.message:
        parts.append(f"({s.message})")
    return "  ".join(parts)


class ScriptRunner:
    def __init__(
        self, kiosk: Kiosk, out: Callable[[str], None], step_timeout: float = 10.0
    ) -> None:
        self.kiosk = kiosk
        self.out = out
        self.step_timeout = step_timeout
        self._latest: Snapshot | None = None
        self._changed = threading.Condition()
        self._last_line = ""

    def _observe(self, snapshot: Snapshot) -> None:
        line = describe(snapshot)
        if line != self._last_line:
            self._last_line = line
            self.out(f"  -> {line}")
        with self._changed:
            self._latest = snapshot
            self._changed.notify_all()

    def _wait(self, step: WaitFor) -> None:
        with self._changed:
            if not self._changed.wait_for(
                lambda: reached(self._latest, step), timeout=self.step_timeout
            ):
                now = self._latest.state.value if self._latest else "nothing"
                raise ScriptFailed(f"expected {step.state.value}, engine is in {now}")

    def _perform(self, step: Step) -> None:
        controls = self.kiosk.hardware.controls
        if isinstance(step, Do | Service):
            self.kiosk.engine.submit(step.event)
        elif isinstance(step, InsertBill):
            self.out(f"  (resident inserts ${step.dollars})")
            controls.insert_bill(step.dollars)
        elif isinstance(step, PresentCard):
            try:
                controls.present_card(step.card)
                self.out(f"  (resident presents a test card: {step.card})")
            except NoControl:  # a real or separately run terminal: the card is chosen there
                self.out(f"  (present a {step.card} card at the terminal)")
        elif isinstance(step, ScanStub):
            code = make_stub_code(step.account, step.amount)
            self.out(f"  (resident scans the bill stub: {code})")
            controls.scan(code)
        elif isinstance(step, Network):
            self.out(f"  (the network cable is {'plugged in' if step.online else 'pulled'})")
            try:
                controls.network(step.online)
            except NoControl as exc:
                raise ScriptFailed(f"{exc}: this script needs the demo hub") from None
        elif isinstance(step, Emulate):
            self.out(f"  ({step.device}: {step.control})")
            try:
                controls.emulate(step.device, step.control)
            except NoControl as exc:
                raise ScriptFailed(str(exc)) from None
        elif isinstance(step, ReprintListed):
            listed = self._latest.unprinted if self._latest is not None else ()
            self.kiosk.engine.submit(ui.Reprint(tuple(r.confirmation for r in listed)))
        elif isinstance(step, WaitForHub):
            self._wait_for_hub(step)
        elif isinstance(step, Key | Headphones | Listen):
            raise ScriptFailed("this script is played by keys and ears: it needs the screens")
        else:
            self._wait(step)

    def _wait_for_hub(self, step: WaitForHub) -> None:
        deadline = time.monotonic() + self.step_timeout
        while not hub_reached(unsent := self.kiosk.unsent(), step):
            if unsent is None:
                raise ScriptFailed("this script needs a hub to sync with")
            if time.monotonic() > deadline:
                raise ScriptFailed(hub_problem(unsent, step))
            time.sleep(0.05)

    def run(self, steps: list[Step], expect: Expect) -> dict[str, object]:
        first_seq = self.kiosk.journal.last_seq()
        self.kiosk.engine.subscribe(self._observe)
        self.kiosk.engine.start()
        for step in steps:
            self._perform(step)
        return journaled_payment(self.kiosk, first_seq, expect)


def journaled_payment(kiosk: Kiosk, first_seq: int, expect: Expect) -> dict[str, object]:
    """The one payment a script made after ``first_seq``, checked against its expectation
    (``{}`` for a script that must make none)."""
    payments = [
        dict(e.payload)
        for e in kiosk.journal.entries(after_seq=first_seq)
        if e.type == E.PAYMENT_COMPLETED
    ]
    if not expect.method:
        if payments:
            raise ScriptFailed(f"expected no payment, the journal has {len(payments)}")
        return {}
    if len(payments) != 1:
        raise ScriptFailed(f"expected one payment, the journal has {len(payments)}")
    payment = payments[0]
    got = (
        payment["method"],
        Money(int(str(payment["amount_cents"]))),
        Money(int(str(payment["fee_cents"]))),
    )
    if got != (expect.method, expect.amount, expect.fee):
        raise ScriptFailed(f"expected {expect}, journaled {got}")
    return payment
