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

#: how long a step may wait for the screen it expects before a played script fails
STEP_TIMEOUT_S = 20.0


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
class Emulate:
    """Someone does something to an emulated device by hand: ``control`` is the emulator's
    own control (``paper-out`` on the ``printer``, ``cassette-remove`` on the
    ``bill-acceptor``), as the demo panel's buttons use them."""

    device: str
    control: str


@dataclass(frozen=True)
class ReprintListed:
    """On the paper page, the technician selects every receipt it lists and prints them
    (their confirmation numbers are only known once the payments are made)."""


@dataclass(frozen=True)
class WaitFor:
    state: State
    inserted: Money | None = None
    receipt_settled: bool = False
    service_message: str | None = None
    test_done: str = ""  # a test on the tests page has passed or failed
    collection_step: str = ""
    printing_settled: bool = False  # the reprints, or the collection slip, are out or failed
    held_out: bool | None = None  # the kiosk is (True) or is not (False) held out of service


@dataclass(frozen=True)
class Key:
    """The resident presses a key of the tactile keypad (its name in
    ``screens.keypad.KEYS``: a digit, ``enter``, ``down``, ``repeat``...), once what the
    kiosk was saying has been said, as a resident who listens does."""

    name: str


@dataclass(frozen=True)
class Headphones:
    """Headphones go into the kiosk's jack (``plugged``) or come out."""

    plugged: bool


@dataclass(frozen=True)
class Listen:
    """The resident listens until the kiosk has said what it has to say."""


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


Step = (
    Do
    | Service
    | InsertBill
    | PresentCard
    | ScanStub
    | WaitFor
    | Network
    | WaitForHub
    | Emulate
    | ReprintListed
    | Key
    | Headphones
    | Listen
)


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
    if step.receipt_settled and snapshot.receipt in (None, "printing"):
        return False
    return _service_reached(snapshot, step)


def _service_reached(snapshot: Snapshot, step: WaitFor) -> bool:
    if step.service_message is not None and snapshot.service_message != step.service_message:
        return False
    if step.test_done and not any(
        t.test == step.test_done and t.status in ("passed", "failed") for t in snapshot.tests
    ):
        return False
    collection = snapshot.collection
    if step.collection_step and (collection is None or collection.step != step.collection_step):
        return False
    if step.printing_settled and not _printing_settled(snapshot):
        return False
    return step.held_out is None or bool(snapshot.out_of_service_reason) == step.held_out


def _printing_settled(snapshot: Snapshot) -> bool:
    if snapshot.collection is not None:
        return snapshot.collection.slip in ("printed", "failed")
    states = [r.print_state for r in snapshot.unprinted]
    return bool(states) and all(s in ("", "printed", "failed") for s in states) and any(states)


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


DEMO_PIN = "2468"
"""The demo technician's PIN (``kiosk demo`` lets in "Demo Technician" with it)."""
WRONG_PIN = "1357"
SEAL = "40417"


def _service_visit() -> list[Step]:
    """A technician's round, by touches: in by the hidden corner, a wrong PIN then the right
    one, every page, a receipt printed again, the cash box collected, the kiosk taken out of
    service and put back, and out."""
    menu = WaitFor(State.SERVICE_MENU)
    return [
        Do(ui.EnterService()),
        WaitFor(State.SERVICE_PIN),
        Do(ui.EnterPin(WRONG_PIN)),
        WaitFor(State.SERVICE_PIN, service_message="wrong_pin"),
        Do(ui.EnterPin(DEMO_PIN)),
        menu,
        Do(ui.ShowDeviceStatus()),
        WaitFor(State.SERVICE_STATUS),
        Do(ui.Back()),
        menu,
        Do(ui.ShowTests()),
        WaitFor(State.SERVICE_TESTS),
        Do(ui.RunTest("print")),
        WaitFor(State.SERVICE_TESTS, test_done="print"),
        Do(ui.Back()),
        menu,
        Do(ui.ShowPaper()),
        WaitFor(State.SERVICE_PAPER),
        ReprintListed(),
        WaitFor(State.SERVICE_PAPER, printing_settled=True),
        Do(ui.Back()),
        menu,
        Do(ui.StartCollection()),
        WaitFor(State.COLLECTION, collection_step="box_out"),
        Emulate("bill-acceptor", "cassette-remove"),
        WaitFor(State.COLLECTION, collection_step="seal"),
        Do(ui.EnterSeal(SEAL)),
        WaitFor(State.COLLECTION, collection_step="box_in"),
        Emulate("bill-acceptor", "cassette-replace"),
        WaitFor(State.COLLECTION, collection_step="done", printing_settled=True),
        Do(ui.Back()),
        menu,
        Do(ui.SetOutOfService("Maintenance")),
        WaitFor(State.SERVICE_MENU, held_out=True),
        Do(ui.SetInService()),
        WaitFor(State.SERVICE_MENU, held_out=False),
        Do(ui.LeaveService()),
        WaitFor(State.IDLE),
    ]


def _collect_by_buttons() -> list[Step]:
    """A cash-box collection where the technician's buttons stand in for the acceptor's
    reports (devices that can not tell the box went out and came back)."""
    return [
        Service(ui.EnterService()),
        WaitFor(State.SERVICE_PIN),
        Service(ui.EnterPin(DEMO_PIN)),
        WaitFor(State.SERVICE_MENU),
        Service(ui.StartCollection()),
        Service(ui.BoxRemoved()),
        WaitFor(State.COLLECTION, collection_step="seal"),
        Service(ui.EnterSeal(SEAL)),
        Service(ui.BoxInserted()),
        WaitFor(State.COLLECTION, collection_step="done", printing_settled=True),
        Service(ui.Back()),
        WaitFor(State.SERVICE_MENU),
        Service(ui.LeaveService()),
        WaitFor(State.IDLE),
    ]


KEYS_CARD_ACCOUNT = "100200526"  # a demo account with a 28.75 balance
"""The card run's: the cash run before it leaves a credit on :data:`ACCOUNT`."""


def _keys_to_method(start: list[Step], account: str = ACCOUNT) -> list[Step]:
    """By keys alone from the attract screen to the cash-or-card choice: ``start`` picks the
    language; Enter on the empty number field moves on and 8 comes back to it; the account
    number is typed on the keypad; Enter takes the first choice (this is my account, the
    amount due)."""
    return [
        *start,
        WaitFor(State.FIND_ACCOUNT),
        Key("enter"),
        Key("8"),
        *(Key(digit) for digit in account),
        Key("enter"),
        WaitFor(State.CONFIRM_ACCOUNT),
        Key("enter"),
        WaitFor(State.AMOUNT),
        Key("enter"),
        WaitFor(State.METHOD),
    ]


def _keys_cash() -> list[Step]:
    """Headphones in: English, every screen by keys, cash. On the way the resident asks for
    help, types a wrong last digit and deletes it, looks at the next choice and comes back to
    the first, goes back from cash-or-card to the amount, and hears the receipt again
    slowly."""
    return [
        Headphones(True),
        Key("enter"),
        WaitFor(State.FIND_ACCOUNT),
        Key("help"),
        *(Key(digit) for digit in ACCOUNT),
        Key("9"),
        Key("back"),  # minus: the 9 goes
        Key("enter"),
        WaitFor(State.CONFIRM_ACCOUNT),
        Key("enter"),
        WaitFor(State.AMOUNT),
        Key("down"),
        Key("up"),
        Key("5"),  # where am I?
        Key("enter"),
        WaitFor(State.METHOD),
        Key("back"),
        WaitFor(State.AMOUNT),
        Key("enter"),
        WaitFor(State.METHOD),
        Key("enter"),
        WaitFor(State.CASH),
        Listen(),
        InsertBill(20),
        WaitFor(State.CASH, inserted=Money(2000)),
        Listen(),
        InsertBill(20),
        WaitFor(State.CASH, inserted=Money(4000)),
        Listen(),
        InsertBill(5),
        WaitFor(State.RECEIPT, receipt_settled=True),
        Key("slower"),
        Key("enter"),
        WaitFor(State.IDLE),
        Listen(),
        Headphones(False),
    ]


def _keys_card() -> list[Step]:
    """No headphones: a key starts the audio mode; Spanish, chosen by keys; card."""
    return [
        Key("5"),
        *_keys_to_method([Key("down"), Key("enter")], KEYS_CARD_ACCOUNT),
        PresentCard("approve"),
        Key("down"),
        Key("enter"),
        WaitFor(State.RECEIPT, receipt_settled=True),
        Key("repeat"),
        Key("enter"),
        WaitFor(State.IDLE),
        Listen(),
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
    # a cash payment while the printer is out of paper (its receipt fails), a new roll, then
    # a cash-box collection on its own (the crash test's)
    "collect": (_collect_by_buttons(), NO_PAYMENT),
    # the technician's round (see _service_visit)
    "service": (
        [
            Emulate("printer", "paper-out"),
            *_find_and_confirm(scan=True),
            *_cash(),
            Emulate("printer", "paper-in"),
            *_service_visit(),
        ],
        Expect("cash", Money(4500), Money(0)),
    ),
    # a blind resident pays alone, by the tactile keypad and speech (screens/audio.py)
    "keys_cash": (_keys_cash(), Expect("cash", Money(4500), Money(0))),
    "keys_card": (_keys_card(), Expect("card", Money(2875), Money(100))),
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
    at every start. The kiosk returns to its default language between residents; a
    technician switches to it on the PIN pad."""
    spoken: list[Step] = [Service(ui.SetLanguage(language))]
    for step in steps:
        if isinstance(step, Do) and isinstance(step.event, ui.Start):
            step = Do(ui.Start(language))
        spoken.append(step)
        if step == WaitFor(State.SERVICE_PIN) and language != "en":
            # a technician who reads it presses the language button on the PIN pad
            spoken.append(Do(ui.SetLanguage(language)))
    return spoken
