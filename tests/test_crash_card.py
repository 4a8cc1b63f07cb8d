"""Crash test for card sales: SIGKILL at each step of a sale on the ZVT terminal, restart.

The terminal outlives the killed kiosk, as real hardware does: ``kiosk emulate card_terminal``
runs in its own process, behind a port link that the kiosk's config names, so the kiosk's
real ZVT driver talks to it, dies mid-sale, and ``kiosk recover`` rebuilds the driver on the
same link and asks the same terminal what became of the sale. The other devices are the
file-backed simulations (fast; the card terminal is what is under test here).

Each case is a fresh kiosk (data directory) on a terminal that has already taken sales, as a
terminal in the field has (``test_in_doubt_on_a_fresh_terminal`` starts with none): one
sale killed at a point, ``kiosk recover``, then one more sale to show the kiosk goes on. The
terminal's own ledger (its console's ``counters``) is then compared with the journal: every
approval the terminal holds is exactly one ``payment.completed`` (matched by the terminal's
receipt number, ``terminal_ref``); every approval it reversed has a ``card.reversed`` and no
payment. Never both, never neither.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contract import entries as E
from tests.crash_harness import DeviceConsole, Kiosk, journal_of, wait_until

SLOW_KILL_AFTER = 0.8
"""After the terminal has the sale: past card (0.2 s) and PIN (0.1 s), inside the emulator's
2 s "slow" authorisation, when the terminal is waiting for its host."""

# ``demo --script card`` presents its test card through the hardware controls, and for a card
# terminal on a port path those refuse (composition.hardware.NoControl, "do it by hand"): the
# script would die with a traceback. Here the test is that hand: it picks the card at the
# terminal's own console. So the child makes that one step a no-op for the card terminal
# and otherwise runs the ``kiosk`` command unchanged.
CHILD = """
import sys
import composition.hardware as hardware
refuse = hardware._no_control
def no_control(what):
    if what == "the card terminal":
        return lambda *_args: None  # the card is chosen at the terminal's console
    return refuse(what)
hardware._no_control = no_control
from composition.cli import main
sys.exit(main(sys.argv[1:]))
"""


class Terminal(DeviceConsole):
    """``kiosk emulate card_terminal`` in its own process, driven through its console."""

    def __init__(self, link: Path, log: Path) -> None:
        super().__init__("card_terminal", link, log)

    def card(self, card: str) -> None:
        self.command(f"card {card}", lambda line: line.startswith("card: "))


def card_kiosk(tmp_path: Path, link: Path) -> Kiosk:
    """A kiosk whose card terminal is on ``link``, selling by the card script."""
    return Kiosk.on(tmp_path, {"card_terminal": str(link)}, CHILD, "card")


@pytest.fixture(scope="module")
def shared_terminal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terminal]:
    """One terminal for the module's cases, so each finds a terminal with a history."""
    folder = tmp_path_factory.mktemp("terminal")
    term = Terminal(folder / "term", folder / "terminal.log")
    try:
        card_kiosk(folder, term.link).pay()  # a terminal in the field has taken sales before
        yield term
    finally:
        term.close()


@pytest.fixture
def terminal(shared_terminal: Terminal) -> Terminal:
    shared_terminal.card("auto")  # by the cents: 44.25 (43.17 + 1.08 fee) approves
    return shared_terminal


def kill_while_authorising(kiosk: Kiosk, terminal: Terminal) -> str:
    """A sale the terminal takes slowly; SIGKILL the kiosk while it waits for the host."""
    terminal.card("slow")
    asked = terminal.counters()["authorisations"]

    def when() -> None:
        wait_until(lambda: kiosk.journaled(E.CARD_SALE_REQUESTED) >= 1, 20.0, "the sale intent")
        wait_until(
            lambda: terminal.counters()["authorisations"] > asked, 10.0, "the sale at the terminal"
        )
        time.sleep(SLOW_KILL_AFTER)

    out = kiosk.kill_demo(when)
    assert "paid" not in out, f"the sale finished before the kill:\n{out}"
    terminal.card("auto")
    return out


def sale_book(data: Path) -> dict[str, Any]:
    """The ZVT driver's own record of its sales (none yet: no sale reached the driver)."""
    path = data / "devices" / "card_terminal_zvt.json"
    book: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {"sales": {}}
    return book


def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    names = ("approvals", "approved_cents", "reversals", "reversed_cents", "declines")
    return {name: int(after[name]) - int(before[name]) for name in (*names, "last_receipt")}


def check_card_rule_five(data: Path, before: dict[str, Any], after: dict[str, Any]) -> int:
    """Every approval the terminal took since ``before`` is one payment or one reversal.

    Returns how many card payments the journal holds.
    """
    entries, open_intents = journal_of(data)
    assert open_intents == [], [(e.seq, e.type, dict(e.payload)) for e in open_intents]

    def of(type_: str) -> list[dict[str, Any]]:
        return [dict(e.payload) for e in entries if e.type == type_]

    payments = [p for p in of(E.PAYMENT_COMPLETED) if p["card"]]
    paid = Counter(p["card"]["reference"] for p in payments)
    assert all(n == 1 for n in paid.values()), f"an approval paid twice: {paid}"
    receipts = Counter(p["card"]["terminal_ref"] for p in payments)
    assert all(r and n == 1 for r, n in receipts.items()), f"a receipt paid twice: {receipts}"
    reversed_refs = {r["reference"] for r in of(E.CARD_REVERSED)}
    assert not set(paid) & reversed_refs, "an approval both paid and reversed"
    approved = {a["reference"] for a in of(E.CARD_SALE_APPROVED)}
    assert approved <= set(paid) | reversed_refs, "a journaled approval neither paid nor reversed"

    # the terminal's ledger since the case began: what it holds is what the journal paid
    d = delta(before, after)
    held = d["approvals"] - d["reversals"]
    assert held == len(payments), f"the terminal holds {held} approvals, the journal paid {paid}"
    card_cents = sum(int(p["card"]["total_cents"]) for p in payments)
    assert d["approved_cents"] - d["reversed_cents"] == card_cents
    assert d["declines"] == 0
    # receipt by receipt: the terminal numbers its sales and reversals one after another;
    # each paid receipt is a sale it holds, each reversal undid one sale the journal did not pay
    book = sale_book(data)["sales"]
    for payment in payments:
        row = book[payment["card"]["reference"]]
        assert row["state"] == "approved", row
        assert f"{row['receipt']:04d}" == payment["card"]["terminal_ref"]
    undone = {ref: row for ref, row in book.items() if row["state"] == "reversed"}
    assert len(undone) == d["reversals"], "the terminal reversed a sale the kiosk does not know"
    assert set(undone) <= reversed_refs, "a reversal the journal does not know"
    sale_receipts = {int(p["card"]["terminal_ref"]) for p in payments}
    sale_receipts |= {int(row["receipt"]) for row in undone.values()}
    assert len(sale_receipts) == d["approvals"], "an approval at the terminal the kiosk missed"
    first, last = int(before["last_receipt"]), int(after["last_receipt"])
    assert all(first < r <= last for r in sale_receipts)
    assert d["approvals"] + d["reversals"] == d["last_receipt"]
    # no session left open
    started = {s["session_id"] for s in of(E.SESSION_STARTED)}
    ended = {s["session_id"] for s in of(E.SESSION_ENDED)}
    assert started == ended
    return len(payments)


# crash point -> whether the killed sale ends as a payment (None: either, by timing)
POINTS: dict[str, bool | None] = {
    "card.after_sale_intent:1": False,  # intent journaled, the sale not sent
    "card.after_sale_sent:1": None,  # handed to the driver's worker: on the wire or not
    "journal.before_commit:7": True,  # the terminal approved; the approval not yet journaled
    "card.after_approved_journaled:1": True,
    "payment.after_completed_journaled:1": True,
    "receipt.after_print_intent:1": True,
}


#: the same kinds of step as in tests/test_crash.py's card script, and an approval journaled
#: (settled as the payment's later steps are): run by `make test-slow`
SLOW_POINTS = {
    "card.after_sale_sent:1",
    "card.after_approved_journaled:1",
    "payment.after_completed_journaled:1",
    "receipt.after_print_intent:1",
}


@pytest.mark.parametrize(
    "crash_at",
    [pytest.param(p, marks=pytest.mark.slow) if p in SLOW_POINTS else p for p in POINTS],
)
def test_sigkill_during_a_card_sale(tmp_path: Path, terminal: Terminal, crash_at: str) -> None:
    kiosk = card_kiosk(tmp_path, terminal.link)
    before = terminal.counters()
    code, out = kiosk.run("demo", crash_at)
    assert code == -signal.SIGKILL, f"crash point {crash_at} not reached:\n{out}"
    if crash_at == "journal.before_commit:7":
        # the terminal approved, the journal never heard of it
        assert kiosk.journaled(E.CARD_SALE_REQUESTED) == 1
        assert kiosk.journaled(E.CARD_SALE_APPROVED) == 0
        assert terminal.counters()["approvals"] == before["approvals"] + 1
    kiosk.recover()
    paid = check_card_rule_five(kiosk.data, before, terminal.counters())
    if POINTS[crash_at] is not None:
        assert paid == int(bool(POINTS[crash_at]))
    kiosk.pay()
    assert check_card_rule_five(kiosk.data, before, terminal.counters()) == paid + 1


def terminal_gave_up(terminal: Terminal, before: dict[str, Any]) -> None:
    """Wait until the terminal has approved the sale with nobody there, and stopped trying
    to tell the dead kiosk (it waits ~5 s for an acknowledgement): the answer is lost."""
    wait_until(
        lambda: (
            (now := terminal.counters())["approvals"] > before["approvals"]
            and now["ecr_gone"] > before["ecr_gone"]
        ),
        20.0,
        "the terminal to finish the sale alone",
    )


@pytest.mark.parametrize(
    "recover_when",
    ["at_once", pytest.param("after_the_terminal_gave_up", marks=pytest.mark.slow)],
)
def test_sigkill_while_the_terminal_authorises(
    tmp_path: Path, terminal: Terminal, recover_when: str
) -> None:
    kiosk = card_kiosk(tmp_path, terminal.link)
    before = terminal.counters()
    kill_while_authorising(kiosk, terminal)
    if recover_when == "after_the_terminal_gave_up":
        terminal_gave_up(terminal, before)
    # the host's answer does not depend on the kiosk: the terminal approves with nobody there.
    # Recovery at once may still hear the answer (the new driver acknowledges the terminal's
    # "please wait" and gets the result late); later, it asks for the last transaction (Repeat
    # Receipt), which is ours because the trace moved on since the sale began. Paid either way.
    recovered = kiosk.recover()
    assert "card.sale.requested -> approved" in recovered, recovered
    assert check_card_rule_five(kiosk.data, before, terminal.counters()) == 1
    entries, _ = journal_of(kiosk.data)
    approval = next(dict(e.payload) for e in entries if e.type == E.CARD_SALE_APPROVED)
    assert approval["recovered"] is True
    how = sale_book(kiosk.data)["sales"][approval["reference"]]["reason"]
    assert how == "recovered" if recover_when != "at_once" else how in ("late", "recovered")
    kiosk.pay()
    assert check_card_rule_five(kiosk.data, before, terminal.counters()) == 2


def test_in_doubt_on_a_fresh_terminal(tmp_path: Path) -> None:
    """The first sale on a terminal with an empty journal, killed while it authorises.

    The terminal refused Repeat Receipt before the sale (nothing stored), so the sale book
    knows there was no earlier transaction: the one the terminal shows afterwards with our
    amount is ours. Recovery records it as a payment; the terminal's ledger and the journal
    agree (rule 5), and the next sale goes through.
    """
    term = Terminal(tmp_path / "term", tmp_path / "terminal.log")
    try:
        kiosk = card_kiosk(tmp_path, term.link)
        before = term.counters()
        assert before["approvals"] == 0
        kill_while_authorising(kiosk, term)
        terminal_gave_up(term, before)
        recovered = kiosk.recover()
        assert "card.sale.requested -> approved" in recovered, recovered
        assert check_card_rule_five(kiosk.data, before, term.counters()) == 1
        entries, open_intents = journal_of(kiosk.data)
        assert not open_intents
        sale = next(e for e in entries if e.type == E.CARD_SALE_REQUESTED)
        book = sale_book(kiosk.data)["sales"][sale.payload["reference"]]
        assert (book["state"], book["trace_before"], book["trace_before_known"]) == (
            "approved",
            None,
            True,
        )
        kiosk.pay()
        assert check_card_rule_five(kiosk.data, before, term.counters()) == 2
    finally:
        term.close()
