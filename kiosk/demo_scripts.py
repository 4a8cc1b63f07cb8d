"""Scripted sessions for the headless demo and the crash test.

A script is a list of steps: what the resident or a device does, then which state the
engine must reach. It is data, so the same scripts drive the headless demo now and the
screens later.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from kiosk.engine.states import State
from kiosk.money import Money


@dataclass(frozen=True)
class Do:
    """Send a resident's input to the engine."""

    event: object


@dataclass(frozen=True)
class Service:
    """A technician's or the hub's input (out of service, say): straight to the engine."""

    event: object


@dataclass(frozen=True)
class InsertBill:
    dollars: int


@dataclass(frozen=True)
class PresentCard:
    """Choose the simulated terminal's next test card: approve, decline, in_doubt, unknown."""

    card: str


@dataclass(frozen=True)
class ScanStub:
    """The resident scans the stub of their paper bill."""

    account: str
    amount: Money


@dataclass(frozen=True)
class WaitFor:
    state: State
    inserted: Money | None = None
    receipt_settled: bool = False


@dataclass(frozen=True)
class Network:
    """The kiosk's network cable is pulled out (``online=False``) or plugged back in."""

    online: bool


@dataclass(frozen=True)
class WaitForHub:
    """Wait until the hub has acknowledged every journal entry (``synced``), or until some
    wait for it (``synced=False``: proof that what follows happened while cut off)."""

    synced: bool = True


@dataclass(frozen=True)
class Expect:
    """What the finished script must have journaled."""

    method: str
    amount: Money
    fee: Money


NO_PAYMENT = Expect("", Money(0), Money(0))
"""A script that must end without any payment."""


Step = Do | Service | InsertBill | PresentCard | ScanStub | WaitFor | Network | WaitForHub


def hub_reached(unsent: int | None, step: WaitForHub) -> bool:
    """Whether a kiosk with ``unsent`` entries not yet acknowledged is where ``step`` waits
    to be (never, for a kiosk without a hub)."""
    if unsent is None:
        return False
    return unsent == 0 if step.synced else unsent > 0


def reached(snapshot: Snapshot | None, step: WaitFor) -> bool:
    """Whether ``snapshot`` is the state a script's :class:`WaitFor` waits for."""
    if snapshot is None or snapshot.state is not step.state:
        return False
    if step.inserted is not None and snapshot.inserted != step.inserted:
        return False
    return not (step.receipt_settled and snapshot.receipt in (None, "printing"))


def hub_problem(unsent: int | None, step: WaitForHub) -> str:
    if unsent is None:
        return "this script needs a hub to sync with"
    if step.synced:
        return f"expected the hub to have every entry, {unsent} still wait to be sent"
    return "expected entries waiting for the hub, the hub already has them all"


ACCOUNT = "100200302"  # a demo account with a 43.17 balance


def _find_and_confirm(language: str = "en", scan: bool = False) -> list[Step]:
    find: list[Step] = (
        [ScanStub(ACCOUNT, Money(4317))]
        if scan
        else [Do(ui.Start(language)), WaitFor(State.FIND_ACCOUNT), Do(ui.EnterAccount(ACCOUNT))]
    )
    return [
        *find,
        WaitFor(State.CONFIRM_ACCOUNT),
        Do(ui.ConfirmAccount()),
        WaitFor(State.AMOUNT),
        Do(ui.ChooseAmount(Money(4317))),
        WaitFor(State.METHOD),
    ]


def _cash() -> list[Step]:
    return [
        Do(ui.ChooseMethod("cash")),
        WaitFor(State.CASH),
        InsertBill(20),
        WaitFor(State.CASH, inserted=Money(2000)),
        InsertBill(20),
        WaitFor(State.CASH, inserted=Money(4000)),
        InsertBill(5),
        WaitFor(State.RECEIPT, receipt_settled=True),
        Do(ui.Finish()),
        WaitFor(State.IDLE),
    ]


def _card(card: str = "approve") -> list[Step]:
    return [
        PresentCard(card),
        Do(ui.ChooseMethod("card")),
        WaitFor(State.RECEIPT, receipt_settled=True),
        Do(ui.Finish()),
        WaitFor(State.IDLE),
    ]


SCRIPTS: dict[str, tuple[list[Step], Expect]] = {
    "cash": ([*_find_and_confirm(scan=True), *_cash()], Expect("cash", Money(4500), Money(0))),
    "card": ([*_find_and_confirm(), *_card()], Expect("card", Money(4317), Money(108))),
    "decline": (
        [
            *_find_and_confirm(),
            PresentCard("decline"),
            Do(ui.ChooseMethod("card")),
            WaitFor(State.CARD_DECLINED),
            *_cash(),
        ],
        Expect("cash", Money(4500), Money(0)),
    ),
    "spanish": (
        [*_find_and_confirm("es"), *_cash()],
        Expect("cash", Money(4500), Money(0)),
    ),
    "spanish_card": (
        [*_find_and_confirm("es"), *_card()],
        Expect("card", Money(4317), Money(108)),
    ),
    # the resident walks away at the account screen, comes back at the prompt, then cancels
    # (a kiosk configured with short time-outs gets there quickly)
    "walk_away": (
        [
            Do(ui.Start("en")),
            WaitFor(State.FIND_ACCOUNT),
            WaitFor(State.STILL_THERE),
            Do(ui.Touch()),
            WaitFor(State.FIND_ACCOUNT),
            Do(ui.Cancel()),
            WaitFor(State.IDLE),
        ],
        NO_PAYMENT,
    ),
    "out_of_service": (
        [
            Service(ui.SetOutOfService("demo: held out of service")),
            WaitFor(State.OUT_OF_SERVICE),
            Service(ui.SetInService()),
            WaitFor(State.IDLE),
        ],
        NO_PAYMENT,
    ),
    # the cable is pulled: the bill is still found (the kiosk keeps the accounts), the cash
    # payment is made and its receipt printed; the cable goes back in and the hub gets it all
    "offline": (
        [
            WaitForHub(),
            Network(online=False),
            *_find_and_confirm(scan=True),
            *_cash(),
            WaitForHub(synced=False),
            Network(online=True),
            WaitForHub(),
        ],
        Expect("cash", Money(4500), Money(0)),
    ),
    "in_doubt": (
        [*_find_and_confirm(), *_card("in_doubt")],
        Expect("card", Money(4317), Money(108)),
    ),
    # the terminal can not say what became of the first sale: it is reversed, then paid again
    "unknown": (
        [
            *_find_and_confirm(),
            PresentCard("unknown"),
            Do(ui.ChooseMethod("card")),
            WaitFor(State.CARD_DECLINED),
            PresentCard("approve"),
            Do(ui.RetryCard()),
            WaitFor(State.RECEIPT, receipt_settled=True),
            Do(ui.Finish()),
            WaitFor(State.IDLE),
        ],
        Expect("card", Money(4317), Money(108)),
    ),
}


def in_language(steps: list[Step], language: str) -> list[Step]:
    """``steps`` for a resident who speaks ``language``: chosen on the attract screen, and
    at every start. The kiosk returns to its default language between residents."""
    spoken: list[Step] = [Service(ui.SetLanguage(language))]
    for step in steps:
        if isinstance(step, Do) and isinstance(step.event, ui.Start):
            step = Do(ui.Start(language))
        spoken.append(step)
    return spoken
