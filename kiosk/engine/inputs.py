"""What the resident (through the screens) and the engine's own timer can say.

Device events live in :mod:`kiosk.ports`; these are the rest of the engine's inputs. All are
immutable values put on the engine's one queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.config import KioskConfig
from kiosk.money import Money


@dataclass(frozen=True, slots=True)
class Start:
    language: str | None = None


@dataclass(frozen=True, slots=True)
class SetLanguage:
    language: str


@dataclass(frozen=True, slots=True)
class EnterAccount:
    number: str


@dataclass(frozen=True, slots=True)
class ConfirmAccount:
    pass


@dataclass(frozen=True, slots=True)
class Back:
    pass


@dataclass(frozen=True, slots=True)
class ChooseAmount:
    amount: Money


@dataclass(frozen=True, slots=True)
class ChooseMethod:
    method: str  # "cash" | "card"


@dataclass(frozen=True, slots=True)
class FinishCash:
    """The resident pressed Done on the cash screen."""


@dataclass(frozen=True, slots=True)
class RetryCard:
    pass


@dataclass(frozen=True, slots=True)
class Cancel:
    pass


@dataclass(frozen=True, slots=True)
class Touch:
    """Any touch: resets the inactivity timer and answers "Are you still there?"."""


@dataclass(frozen=True, slots=True)
class Finish:
    """The resident is done with the receipt screen."""


@dataclass(frozen=True, slots=True)
class TimedOut:
    """Produced by the engine itself when the current screen's deadline passes."""


@dataclass(frozen=True, slots=True)
class SetOutOfService:
    reason: str


@dataclass(frozen=True, slots=True)
class SetInService:
    pass


@dataclass(frozen=True, slots=True)
class UpdateConfig:
    """New settings from the hub (fees, limits): taken between residents, never mid-payment."""

    config: KioskConfig


@dataclass(frozen=True, slots=True)
class CloseBatch:
    """A technician collected the cash box: close the batch (only between residents)."""

    by: str


# ---------------------------------------------------------------- service mode (technicians)


@dataclass(frozen=True, slots=True)
class EnterService:
    """The hidden gesture on the idle or out-of-service screen: the PIN pad opens."""


@dataclass(frozen=True, slots=True)
class EnterPin:
    pin: str


@dataclass(frozen=True, slots=True)
class LeaveService:
    pass


@dataclass(frozen=True, slots=True)
class ShowDeviceStatus:
    pass


@dataclass(frozen=True, slots=True)
class ShowTests:
    pass


@dataclass(frozen=True, slots=True)
class ShowPaper:
    """Paper replaced: the receipts that could not be printed are listed for reprinting."""


@dataclass(frozen=True, slots=True)
class RunTest:
    test: str  # "print" | "bill" | "scanner" | "terminal"


@dataclass(frozen=True, slots=True)
class PushNow:
    pass


@dataclass(frozen=True, slots=True)
class Reprint:
    confirmations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Refresh:
    """A service screen asks for fresh device figures (not a touch: no time-out is reset)."""


@dataclass(frozen=True, slots=True)
class StartCollection:
    pass


@dataclass(frozen=True, slots=True)
class BoxRemoved:
    """The technician says the full cash box is out (the acceptor normally says so first)."""


@dataclass(frozen=True, slots=True)
class EnterSeal:
    number: str


@dataclass(frozen=True, slots=True)
class BoxInserted:
    """The technician says the empty cash box is in (the acceptor normally says so first)."""


@dataclass(frozen=True, slots=True)
class ReprintSlip:
    pass


@dataclass(frozen=True, slots=True)
class Stop:
    """Ends the engine thread after the events before it are handled."""
