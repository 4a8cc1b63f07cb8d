"""The ZVT driver against the ZVT emulator over a real pseudo-terminal (no mocks).

Each test plays a card or a fault on the emulator and checks what the driver tells the
engine, and that the emulator's ledger (the terminal's truth) agrees. Waits are on events
with time-outs, never fixed sleeps. Timings are shortened so the whole file runs in
seconds; the protocol is the same.
"""

from __future__ import annotations

import io
import json
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from devices.emulators.console import run_console
from devices.emulators.zvt_emulator import EmulatorTiming, ZvtEmulator
from devices.zvt import apdu as A
from devices.zvt.bmp import luhn_ok
from devices.zvt.driver import Timing, ZvtTerminal
from devices.zvt.link import LinkTiming
from devices.zvt.session import SaleHooks, Session, Talk
from kiosk.money import Money
from kiosk.ports import (
    CardOutcome,
    CardProgress,
    CardResult,
    DeviceFault,
    DeviceHealth,
    DeviceNotice,
    Health,
)

WAIT = 6.0
LINK = LinkTiming(ack_timeout=0.3, resends=3, char_timeout=0.3)
EMULATOR_TIMING = EmulatorTiming(
    step=0.01, card_wait=0.15, pin_wait=0.05, slow=0.6, boot=0.5, ecr_ack=2.0, link=LINK
)
DRIVER_TIMING = Timing(
    command_ack=1.0,
    t4=1.5,
    abort_grace=1.0,
    command_timeout=3.0,
    end_of_day_timeout=5.0,
    query_timeout=8.0,
    quiet=0.2,
    register_retry=0.3,
)


class Events:
    """What the driver emitted, in order, as the engine's queue would get it."""

    def __init__(self) -> None:
        self.queue: queue.Queue[object] = queue.Queue()
        self.seen: list[object] = []

    def __call__(self, event: object) -> None:
        self.queue.put(event)

    def wait_for(self, wanted: object | Callable[[object], bool], timeout: float = WAIT) -> object:
        match = wanted if callable(wanted) else (lambda event: event == wanted)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"no {wanted!r} within {timeout}s; saw {self.seen!r}")
            try:
                event = self.queue.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(event)
            if match(event):
                return event

    def result(self, reference: str, timeout: float = WAIT) -> CardResult:
        event = self.wait_for(
            lambda e: isinstance(e, CardResult) and e.reference == reference, timeout
        )
        assert isinstance(event, CardResult)
        return event

    def prompts(self, reference: str) -> list[str]:
        return [
            e.message for e in self.seen if isinstance(e, CardProgress) and e.reference == reference
        ]


def until(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.01)


def start_emulator(
    path: Path, timing: EmulatorTiming = EMULATOR_TIMING, text_blocks: bool = False
) -> ZvtEmulator:
    emulator = ZvtEmulator(path, timing=timing, text_blocks=text_blocks)
    emulator.start()
    return emulator


def make_driver(
    emulator: ZvtEmulator, events: Events, state: Path, timing: Timing = DRIVER_TIMING
) -> ZvtTerminal:
    driver = ZvtTerminal.serial(
        emulator.port.path,
        state_path=state,
        link_timing=LINK,
        reconnect_interval=0.05,
        timing=timing,
    )
    driver.attach(events)
    driver.open()
    assert driver.wait_ready(WAIT)
    return driver


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[ZvtEmulator]:
    emu = start_emulator(tmp_path / "card-terminal")
    yield emu
    emu.stop()


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "zvt-state.json"


@pytest.fixture
def terminal(emulator: ZvtEmulator, events: Events, state: Path) -> Iterator[ZvtTerminal]:
    driver = make_driver(emulator, events, state)
    yield driver
    driver.close()


def sell(terminal: ZvtTerminal, events: Events, dollars: str, reference: str) -> CardResult:
    terminal.start_sale(Money.parse(dollars), reference)
    return events.result(reference)


def record(state: Path, reference: str) -> dict[str, object]:
    data = json.loads(state.read_text(encoding="utf-8"))
    row: dict[str, object] = data["sales"][reference]
    return row


# --- registration and the plain sale --------------------------------------------------------


def test_registers_at_open_with_password_and_config_byte(
    emulator: ZvtEmulator, terminal: ZvtTerminal
) -> None:
    counters = emulator.counters()
    assert counters["registered"] and counters["config_byte"] == 0xBE
    assert terminal.health() == DeviceHealth()
    assert terminal.terminal_id == "52500001"


def test_the_service_check_asks_the_status_and_sells_nothing(
    emulator: ZvtEmulator, terminal: ZvtTerminal
) -> None:
    ok, said = terminal.diagnose()
    assert ok, said
    assert "terminal 52500001" in said
    assert emulator.entries() == []


def test_an_approved_sale(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events, state: Path
) -> None:
    result = sell(terminal, events, "43.17", "S1-1")
    assert result.outcome is CardOutcome.APPROVED and result.amount == Money(4317)
    assert events.prompts("S1-1") == ["insert_card", "enter_pin", "processing", "remove_card"]
    (entry,) = emulator.entries()
    assert entry.kind == "sale" and entry.amount_cents == 4317
    assert result.terminal_ref == f"{entry.receipt:04d}" and result.auth_code == entry.auth_code
    assert (result.brand, result.last4) == ("VISA", "0119")
    assert "Card ************0119" in result.receipt_lines
    row = record(state, "S1-1")
    assert row["state"] == "approved" and row["receipt"] == entry.receipt
    assert row["trace"] == entry.trace and row["last4"] == "0119"
    assert terminal.status("S1-1") == CardResult(
        "S1-1",
        CardOutcome.APPROVED,
        amount=Money(4317),
        auth_code=entry.auth_code,
        brand="VISA",
        last4="0119",
        terminal_ref=result.terminal_ref,
    )


def test_receipt_as_a_text_block(tmp_path: Path, events: Events) -> None:
    emulator = start_emulator(tmp_path / "blocks", text_blocks=True)
    terminal = make_driver(emulator, events, tmp_path / "state.json")
    try:
        result = sell(terminal, events, "12.00", "TB-1")
        assert result.outcome is CardOutcome.APPROVED
        assert {"APPROVED", "Card ************0119"} <= set(result.receipt_lines)
    finally:
        terminal.close()
        emulator.stop()


# --- every test card ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dollars", "outcome", "reason"),
    [
        ("20.01", CardOutcome.DECLINED, "declined_by_issuer"),
        ("20.02", CardOutcome.DECLINED, "insufficient_funds"),
        ("20.03", CardOutcome.DECLINED, "card_not_readable"),
        ("20.04", CardOutcome.CANCELLED, "cardholder"),
        ("20.06", CardOutcome.DECLINED, "receiver_not_ready"),
    ],
)
def test_cards_that_take_no_money(
    emulator: ZvtEmulator,
    terminal: ZvtTerminal,
    events: Events,
    dollars: str,
    outcome: CardOutcome,
    reason: str,
) -> None:
    result = sell(terminal, events, dollars, "NO-1")
    assert (result.outcome, result.reason) == (outcome, reason)
    assert emulator.counters()["approvals"] == 0
    assert terminal.status("NO-1").outcome is outcome


def test_the_card_control_overrides_the_amount(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events
) -> None:
    emulator.control("card", "decline")
    assert sell(terminal, events, "10.00", "C-1").reason == "declined_by_issuer"
    emulator.control("card", "auto")
    assert sell(terminal, events, "10.00", "C-2").outcome is CardOutcome.APPROVED


def test_a_slow_authorisation_is_waited_for(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events
) -> None:
    result = sell(terminal, events, "30.05", "SLOW-1")
    assert result.outcome is CardOutcome.APPROVED
    assert events.prompts("SLOW-1").count("wait") >= 2
    assert emulator.counters()["approvals"] == 1


def test_an_answer_lost_after_approval_is_in_doubt_then_resolved_as_approved(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events, state: Path
) -> None:
    assert sell(terminal, events, "5.00", "FIRST").outcome is CardOutcome.APPROVED
    doubt = sell(terminal, events, "25.07", "LOST-1")
    assert (doubt.outcome, doubt.reason) == (CardOutcome.IN_DOUBT, "no_answer")
    assert emulator.counters()["silent_after_approval"] == 1
    assert emulator.counters()["abort_requests"] == 1  # told before the sale went in doubt
    assert record(state, "LOST-1")["state"] == "in_doubt"
    resolved = terminal.status("LOST-1")
    entry = emulator.entries()[-1]
    assert resolved.outcome is CardOutcome.APPROVED and resolved.reason == "recovered"
    assert resolved.terminal_ref == f"{entry.receipt:04d}" and resolved.amount == Money(2507)
    assert record(state, "LOST-1")["state"] == "approved"
    assert terminal.reverse("LOST-1")
    assert emulator.entries()[-2].reversed


def test_a_sale_given_up_on_while_the_terminal_works_is_reported_late(
    tmp_path: Path, events: Events
) -> None:
    """The kiosk gives up while the terminal waits for its host: the abort is refused, the
    sale is in doubt, status() sends the terminal nothing while it is master; its approval,
    when it comes, is recorded and reported as late."""
    slow_host = EmulatorTiming(step=0.01, card_wait=0.05, pin_wait=0.05, slow=3.5, link=LINK)
    emulator = start_emulator(tmp_path / "slow-host", slow_host)
    patient = replace(DRIVER_TIMING, quiet=0.6)  # longer than its "please wait" interval
    terminal = make_driver(emulator, events, tmp_path / "state.json", patient)
    try:
        terminal.start_sale(Money.parse("30.05"), "LATE-1")
        events.wait_for(CardProgress("LATE-1", "wait"))
        terminal.abort()
        doubt = events.result("LATE-1")
        assert (doubt.outcome, doubt.reason) == (CardOutcome.IN_DOUBT, "no_answer")
        assert emulator.counters()["aborts_refused"] == 1
        assert terminal.status("LATE-1").outcome is CardOutcome.IN_DOUBT
        assert emulator.counters()["refused_while_busy"] == 0  # nothing was pushed in
        late = events.result("LATE-1")
        assert (late.outcome, late.reason) == (CardOutcome.APPROVED, "late")
        (entry,) = emulator.entries()
        assert late.terminal_ref == f"{entry.receipt:04d}" and late.amount == Money(3005)
        assert terminal.status("LATE-1").outcome is CardOutcome.APPROVED
        assert terminal.reverse("LATE-1") and emulator.entries()[0].reversed
        assert terminal.counters()["late_answers"] == 1
    finally:
        terminal.close()
        emulator.stop()


# --- T4: the silence the terminal is allowed ------------------------------------------------


def test_a_slow_payment_whose_silences_are_each_shorter_than_t4_is_approved(
    tmp_path: Path, events: Events
) -> None:
    """T4 restarts with every message: the card read and the PIN entry (which sends
    nothing) together outlast T4, each alone does not, and the payment goes through."""
    slow_cardholder = EmulatorTiming(step=0.01, card_wait=0.7, pin_wait=0.7, link=LINK)
    emulator = start_emulator(tmp_path / "slow-pin", slow_cardholder)
    timing = replace(DRIVER_TIMING, t4=1.2)
    terminal = make_driver(emulator, events, tmp_path / "state.json", timing)
    try:
        began = time.monotonic()
        result = sell(terminal, events, "43.17", "PIN-1")
        assert time.monotonic() - began > 1.2  # longer than T4 from the authorisation
        assert result.outcome is CardOutcome.APPROVED
        assert emulator.counters()["abort_requests"] == 0
    finally:
        terminal.close()
        emulator.stop()


def test_an_intermediate_status_time_out_byte_replaces_t4(tmp_path: Path, events: Events) -> None:
    """04 FF 01 03: "watch the PIN pad", and the PIN entry may take three seconds."""
    long_pin = EmulatorTiming(
        step=0.01, card_wait=0.05, pin_wait=1.5, pin_status_timeout=3, link=LINK
    )
    emulator = start_emulator(tmp_path / "long-pin", long_pin)
    timing = replace(DRIVER_TIMING, t4=0.6)
    terminal = make_driver(emulator, events, tmp_path / "state.json", timing)
    try:
        assert sell(terminal, events, "43.17", "PIN-2").outcome is CardOutcome.APPROVED
        assert emulator.counters()["abort_requests"] == 0
    finally:
        terminal.close()
        emulator.stop()


def test_silence_past_t4_is_answered_with_abort_before_anything_else(
    tmp_path: Path, events: Events
) -> None:
    """The kiosk stops waiting: it tells the terminal (06 B0), which stops the sale."""
    stuck = EmulatorTiming(step=0.01, card_wait=0.05, pin_wait=5.0, link=LINK)
    emulator = start_emulator(tmp_path / "stuck", stuck)
    timing = replace(DRIVER_TIMING, t4=0.5)
    terminal = make_driver(emulator, events, tmp_path / "state.json", timing)
    try:
        result = sell(terminal, events, "43.17", "PIN-3")
        assert (result.outcome, result.reason) == (CardOutcome.CANCELLED, "timeout")
        assert emulator.counters()["abort_requests"] == 1
        assert emulator.counters()["aborted_by_ecr"] == 1 and emulator.entries() == []
    finally:
        terminal.close()
        emulator.stop()


def test_a_terminal_that_never_stops_talking_is_aborted_at_the_sale_limit(
    tmp_path: Path, events: Events
) -> None:
    """T4 restarts with each 04 FF, so a terminal saying "please wait" for ever would hold
    the kiosk for ever: at ``sale_limit`` it is sent Abort and the sale is in doubt. The
    terminal here refuses the abort (the host is asked) and approves later: that late
    approval still reaches the engine, which reverses it."""
    talkative = EmulatorTiming(step=0.01, card_wait=0.05, pin_wait=0.05, slow=1.6, link=LINK)
    emulator = start_emulator(tmp_path / "talkative", talkative)
    timing = replace(DRIVER_TIMING, t4=1.5, sale_limit=0.6, abort_grace=0.4)
    terminal = make_driver(emulator, events, tmp_path / "state.json", timing)
    try:
        began = time.monotonic()
        terminal.start_sale(Money(4005), "LIMIT-1")  # .05: the slow card
        result = events.result("LIMIT-1")
        took = time.monotonic() - began
        assert (result.outcome, result.reason) == (CardOutcome.IN_DOUBT, "sale_limit")
        assert 0.6 <= took < 0.6 + 0.4 + 0.8, took  # the limit, the grace, some slack
        assert events.prompts("LIMIT-1").count("wait") >= 2  # it kept talking all along
        counters = emulator.counters()
        assert counters["abort_requests"] == 1 and counters["aborts_refused"] == 1
        late = events.result("LIMIT-1")
        assert (late.outcome, late.reason) == (CardOutcome.APPROVED, "late")
    finally:
        terminal.close()
        emulator.stop()


def test_an_abort_the_terminal_does_not_acknowledge_is_given_up_after_the_grace(
    tmp_path: Path, events: Events
) -> None:
    """The abort's delivery is part of ``abort_grace``: a terminal that is not listening
    (rebooting) is not sent the 06 B0 three times of T2 each before the sale is settled."""
    slow_acks = replace(LINK, ack_timeout=1.0, resends=2)  # 3 s to give up on one frame
    rebooting = EmulatorTiming(step=0.01, card_wait=0.05, boot=5.0, link=slow_acks)
    emulator = start_emulator(tmp_path / "deaf", rebooting)
    terminal = ZvtTerminal.serial(
        emulator.port.path,
        state_path=tmp_path / "state.json",
        link_timing=slow_acks,
        reconnect_interval=0.05,
        timing=replace(DRIVER_TIMING, t4=0.3, abort_grace=0.4),
    )
    terminal.attach(events)
    terminal.open()
    try:
        assert terminal.wait_ready(WAIT)
        terminal.start_sale(Money(4008), "DEAF-2")  # .08: the terminal reboots mid-sale
        events.wait_for(CardProgress("DEAF-2", "insert_card"))
        began = time.monotonic()
        result = events.result("DEAF-2")
        assert (result.outcome, result.reason) == (CardOutcome.IN_DOUBT, "no_answer")
        assert time.monotonic() - began < 0.3 + 0.4 + 1.0  # well short of the 3 s of repeats
        assert terminal.counters()["send_failures"] >= 1  # the abort never got its ACK
    finally:
        terminal.close()
        emulator.stop()


def test_a_refusal_84_9c_ends_the_sale_at_once(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events
) -> None:
    """84 9C answers the authorisation instead of 80 00: nothing started, nothing to wait for."""
    emulator.busy_code = 0x9C
    began = time.monotonic()
    result = sell(terminal, events, "20.06", "BUSY-1")
    assert (result.outcome, result.reason) == (CardOutcome.DECLINED, "please_wait")
    assert time.monotonic() - began < DRIVER_TIMING.t4
    assert emulator.counters()["approvals"] == 0 and emulator.counters()["abort_requests"] == 0


# --- Repeat Receipt and Status Enquiry --------------------------------------------------------


def test_repeat_receipt_sends_the_status_information_only_when_asked(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events
) -> None:
    """PA00P015 13.08, 2.20.1: the emulator, like a current terminal, repeats only the
    printout unless the service byte says 01; the driver always says it."""
    assert sell(terminal, events, "5.00", "RR-1").outcome is CardOutcome.APPROVED
    (entry,) = emulator.entries()

    def ask(service_byte: int | None) -> Talk:
        command = A.repeat_receipt("000000", service_byte)
        talk = terminal._query("repeat", lambda: terminal.session.converse(command, 3.0))
        assert isinstance(talk, Talk) and talk.completion is not None
        return talk

    bare = ask(None)
    assert bare.infos == [] and "COPY" in bare.lines
    full = ask(A.REPEAT_RECEIPT_SEND_STATUS)
    assert full.info is not None and (full.info.trace, full.info.receipt) == (
        entry.trace,
        entry.receipt,
    )


def test_a_status_byte_alone_saying_card_inserted_is_not_ready(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events
) -> None:
    emulator.status_with_version = False
    emulator.terminal_status = 0xDC
    status = terminal.enquire_status()
    assert status.answered and not status.ready
    assert (status.status, status.reason, status.software) == (0xDC, "card_inserted", "")
    assert status.terminal_id == "52500001"  # from the registration
    emulator.terminal_status = 0x00
    assert terminal.enquire_status().ready


def test_a_lost_first_sale_on_an_empty_terminal_is_recovered(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events, state: Path
) -> None:
    """The very first sale on a terminal with an empty journal: Repeat Receipt is refused,
    which says there is no older transaction to mistake for ours."""
    assert sell(terminal, events, "25.07", "LOST-2").outcome is CardOutcome.IN_DOUBT
    row = record(state, "LOST-2")
    assert (row["trace_before"], row["trace_before_known"]) == (None, True)
    resolved = terminal.status("LOST-2")
    assert (resolved.outcome, resolved.amount) == (CardOutcome.APPROVED, Money(2507))
    approval = emulator.entries()[0]
    assert resolved.terminal_ref == f"{approval.receipt:04d}"
    assert terminal.reverse("LOST-2") and emulator.entries()[0].reversed


def test_a_first_sale_lost_before_the_terminal_stored_it_never_happened(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events
) -> None:
    """Reboot mid-sale on an empty terminal: the journal is still empty afterwards."""
    assert sell(terminal, events, "25.08", "BOOT-0").outcome is CardOutcome.IN_DOUBT
    resolved = terminal.status("BOOT-0")
    assert (resolved.outcome, resolved.reason) == (CardOutcome.DECLINED, "not_processed")
    assert emulator.counters()["approvals"] == 0
    assert terminal.reverse("BOOT-0")


def test_a_refused_repeat_receipt_after_history_is_not_an_empty_journal(
    emulator: ZvtEmulator, events: Events, tmp_path: Path
) -> None:
    """Only a book that has never seen a trace reads a refusal as "empty": once a terminal
    had transactions, a refusal proves nothing, and a lost answer stays in doubt."""
    state = tmp_path / "seen.json"
    first = make_driver(emulator, events, state)
    try:
        assert sell(first, events, "5.00", "SEEN-1").outcome is CardOutcome.APPROVED
    finally:
        first.close()
    data = json.loads(state.read_text(encoding="utf-8"))
    data["last_trace"], data["last_trace_known"] = None, False  # as after a lost answer
    state.write_text(json.dumps(data), encoding="utf-8")
    emulator.clear_journal()  # the terminal now refuses Repeat Receipt
    again = make_driver(emulator, events, state)
    try:
        assert sell(again, events, "25.07", "SEEN-2").outcome is CardOutcome.IN_DOUBT
        assert record(state, "SEEN-2")["trace_before_known"] is False
    finally:
        again.close()


def test_a_reboot_mid_sale_is_in_doubt_then_resolved_as_not_processed(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events
) -> None:
    assert sell(terminal, events, "5.00", "FIRST").outcome is CardOutcome.APPROVED
    doubt = sell(terminal, events, "25.08", "BOOT-1")
    assert doubt.outcome is CardOutcome.IN_DOUBT
    assert emulator.counters()["reboots"] == 1
    resolved = terminal.status("BOOT-1")
    assert (resolved.outcome, resolved.reason) == (CardOutcome.DECLINED, "not_processed")
    assert emulator.counters()["approvals"] == 1  # only FIRST
    assert terminal.reverse("BOOT-1")  # nothing was taken: nothing to undo


# --- aborts ---------------------------------------------------------------------------------


def test_abort_from_the_kiosk_while_the_card_is_awaited(tmp_path: Path, events: Events) -> None:
    slow_card = EmulatorTiming(card_wait=5.0, link=LINK)
    emulator = start_emulator(tmp_path / "wait", slow_card)
    terminal = make_driver(emulator, events, tmp_path / "state.json")
    try:
        terminal.start_sale(Money(1500), "AB-1")
        events.wait_for(CardProgress("AB-1", "insert_card"))
        terminal.abort()
        result = events.result("AB-1")
        assert (result.outcome, result.reason) == (CardOutcome.CANCELLED, "kiosk")
        assert emulator.counters()["aborted_by_ecr"] == 1 and emulator.entries() == []
        assert terminal.status("AB-1").outcome is CardOutcome.CANCELLED
    finally:
        terminal.close()
        emulator.stop()


def test_an_abort_too_late_does_not_lose_the_approval(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events
) -> None:
    terminal.start_sale(Money(4005), "AB-2")  # slow: the host is asked, then it approves
    events.wait_for(CardProgress("AB-2", "processing"))
    terminal.abort()
    result = events.result("AB-2")
    assert result.outcome is CardOutcome.APPROVED
    assert emulator.counters()["aborts_refused"] == 1


def test_abort_with_no_sale_is_harmless(terminal: ZvtTerminal) -> None:
    terminal.abort()
    assert terminal.health() == DeviceHealth()


# --- reversal and end of day ----------------------------------------------------------------


def test_reversal_shows_in_the_terminals_ledger(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events
) -> None:
    approved = sell(terminal, events, "61.00", "R-1")
    assert terminal.reverse("R-1")
    sale, reversal = emulator.entries()
    assert sale.reversed and reversal.kind == "reversal"
    assert reversal.original_trace == sale.trace and reversal.amount_cents == 6100
    assert f"{sale.receipt:04d}" == approved.terminal_ref
    status = terminal.status("R-1")
    assert (status.outcome, status.reason) == (CardOutcome.CANCELLED, "reversed")
    assert terminal.reverse("R-1")  # idempotent, and the terminal is not asked again
    assert emulator.counters()["reversals"] == 1


def test_end_of_day_totals_are_approvals_minus_reversals(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events
) -> None:
    for dollars, ref in (("10.00", "E-1"), ("20.50", "E-2"), ("7.25", "E-3")):
        assert sell(terminal, events, dollars, ref).outcome is CardOutcome.APPROVED
    emulator.control("brand", "mastercard")
    assert sell(terminal, events, "33.00", "E-4").outcome is CardOutcome.APPROVED
    assert sell(terminal, events, "9.01", "E-5").outcome is CardOutcome.DECLINED
    assert terminal.reverse("E-2")
    result = terminal.end_of_day()
    ledger = emulator.counters()
    expected = ledger["approved_cents"] - ledger["reversed_cents"]
    assert result.ok and result.total == Money(expected) == Money(1000 + 725 + 3300)
    assert result.count == ledger["approvals"] - ledger["reversals"] == 3
    by_brand = {b.brand: (b.count, b.amount.cents) for b in result.by_brand}
    assert by_brand == {"VISA": (2, 1725), "Mastercard": (1, 3300)}
    (eod,) = ledger["end_of_days"]
    assert eod["total_cents"] == expected and eod["count"] == 3
    assert {name: tuple(v) for name, v in eod["groups"].items()} == by_brand
    assert any("Total 3" in line for line in result.receipt_lines)
    assert not terminal.reverse("E-1")  # the batch is closed: the terminal refuses
    empty = terminal.end_of_day()
    assert empty.ok and empty.total == Money(0) and empty.count == 0


# --- bad lines, bad data, cables ------------------------------------------------------------


def test_the_driver_survives_malformed_apdus_and_garbage(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events
) -> None:
    emulator.control("malformed")
    until(lambda: len(emulator.counters()["probe_answers"]) == 2)
    assert emulator.counters()["probe_answers"] == ["ack 84 83", "ack 84 9A"]
    emulator.control("garbage", "3")
    emulator.control("nak", "2")
    result = sell(terminal, events, "14.00", "G-1")
    assert result.outcome is CardOutcome.APPROVED
    counts = terminal.counters()
    assert counts["unknown_apdus"] == 1 and counts["malformed_apdus"] == 1
    assert counts["crc_errors"] >= 3 and counts["lone_dle"] >= 3 and counts["naks_sent"] >= 3
    assert counts["resends"] >= 2
    assert emulator.counters()["link"]["naks_sent"] == 2
    assert terminal.health() == DeviceHealth()


def test_unplug_and_replug(emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events) -> None:
    emulator.control("unplug")
    events.wait_for(DeviceFault("card_terminal", "disconnected"))
    assert terminal.health() == DeviceHealth(Health.FAULT, "disconnected")
    emulator.control("replug")
    events.wait_for(DeviceNotice("card_terminal", "reconnected"))
    assert terminal.health() == DeviceHealth()
    assert emulator.counters()["registrations"] == 2
    assert sell(terminal, events, "8.00", "U-1").outcome is CardOutcome.APPROVED


def test_the_line_lost_after_the_authorisation_is_in_doubt(
    emulator: ZvtEmulator, terminal: ZvtTerminal, events: Events
) -> None:
    assert sell(terminal, events, "5.00", "FIRST").outcome is CardOutcome.APPROVED
    terminal.start_sale(Money(7705), "L-1")  # slow: the host takes its time
    events.wait_for(CardProgress("L-1", "processing"))
    emulator.control("unplug")
    doubt = events.result("L-1")
    assert (doubt.outcome, doubt.reason) == (CardOutcome.IN_DOUBT, "link_lost")
    until(lambda: emulator.counters()["approvals"] == 2)  # the terminal approved meanwhile
    emulator.control("replug")
    events.wait_for(DeviceNotice("card_terminal", "reconnected"))
    resolved = terminal.status("L-1")
    assert resolved.outcome is CardOutcome.APPROVED and resolved.amount == Money(7705)


def test_status_works_after_the_kiosk_process_died_mid_sale(
    emulator: ZvtEmulator, events: Events, state: Path
) -> None:
    first = make_driver(emulator, events, state)
    assert sell(first, events, "5.00", "FIRST").outcome is CardOutcome.APPROVED
    first.start_sale(Money(1207), "CRASH-1")  # approved, then the answer never comes
    until(lambda: emulator.counters()["silent_after_approval"] == 1)
    row = record(state, "CRASH-1")  # written before the authorisation went out
    assert row["state"] == "sent" and row["trace_before_known"] is True
    first.close()  # the process is gone; its successor starts on the same record
    restarted = make_driver(emulator, Events(), state)
    try:
        resolved = restarted.status("CRASH-1")
        assert resolved.outcome is CardOutcome.APPROVED and resolved.amount == Money(1207)
        assert restarted.reverse("CRASH-1")
    finally:
        restarted.close()


def test_a_missing_terminal(tmp_path: Path, events: Events) -> None:
    driver = ZvtTerminal.serial(
        str(tmp_path / "nothing"),
        state_path=tmp_path / "state.json",
        reconnect_interval=0.05,
        timing=DRIVER_TIMING,
    )
    driver.attach(events)
    driver.open()
    try:
        events.wait_for(DeviceFault("card_terminal", "disconnected"))
        assert driver.health() == DeviceHealth(Health.FAULT, "disconnected")
        result = sell(driver, events, "10.00", "M-1")
        assert (result.outcome, result.reason) == (CardOutcome.DECLINED, "terminal_unavailable")
        assert driver.status("M-1").outcome is CardOutcome.DECLINED
    finally:
        driver.close()
    assert driver.health() == DeviceHealth(Health.FAULT, "closed")


def test_the_operator_console_drives_the_emulator(tmp_path: Path) -> None:
    emulator = ZvtEmulator(tmp_path / "console-link", timing=EMULATOR_TIMING)
    commands = io.StringIO("help\ncard decline\ncard bogus\nbrand amex\ncounters\nquit\n")
    out = io.StringIO()
    assert run_console(emulator, commands, out) == 0
    text = out.getvalue()
    assert f"card_terminal: port {tmp_path / 'console-link'}" in text
    assert "card: decline" in text and "error: unknown card 'bogus'" in text
    assert '"brand": "American Express"' in text and '"card": "decline"' in text
    assert not (tmp_path / "console-link").exists()  # stopped: the port link is gone


# --- no card data anywhere ------------------------------------------------------------------

CARD_NUMBER = re.compile(r"(?<!\d)\d{13,19}(?!\d)")


def card_numbers(text: str) -> list[str]:
    return [run for run in CARD_NUMBER.findall(text) if luhn_ok(run)]


def test_no_card_number_in_the_state_file_or_the_logs(
    emulator: ZvtEmulator,
    events: Events,
    state: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    terminal = make_driver(emulator, events, state)
    try:
        for dollars, ref in (("43.17", "P-1"), ("20.01", "P-2"), ("20.04", "P-3")):
            sell(terminal, events, dollars, ref)
        assert sell(terminal, events, "25.07", "P-4").outcome is CardOutcome.IN_DOUBT
        assert terminal.status("P-4").outcome is CardOutcome.APPROVED
        assert terminal.reverse("P-1")
        emulator.control("malformed")
        emulator.control("garbage", "2")
        until(lambda: len(emulator.counters()["probe_answers"]) == 2)
        sell(terminal, events, "11.00", "P-5")
        assert terminal.end_of_day().ok
    finally:
        terminal.close()
    written = state.read_bytes().decode("utf-8")
    assert '"P-4"' in written and card_numbers(written) == []
    assert caplog.records and card_numbers(caplog.text) == []
    results = [e for e in events.seen if isinstance(e, CardResult)]
    assert card_numbers(repr(results)) == []
    assert card_numbers(json.dumps(emulator.counters(), default=str)) == []


class _DeafTerminal:
    """A line that takes every frame but whose terminal never answers the authorisation."""

    name = "deaf"
    connected = True

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send(self, raw: bytes, within: float | None = None) -> bool:
        self.sent.append(raw)
        return True

    def receive(self, timeout: float) -> bytes | None:
        time.sleep(min(timeout, 0.01))
        return None


def test_a_sale_never_acknowledged_is_aborted_before_it_is_in_doubt() -> None:
    """No 80 00 within T3 either: the terminal may still have started, so it is told."""
    line = _DeafTerminal()
    session = Session(
        line,  # type: ignore[arg-type]
        replace(DRIVER_TIMING, command_ack=0.2, abort_grace=0.2),
        running=lambda: True,
        on_lost=lambda: None,
        on_unsolicited=lambda message: None,
    )
    hooks = SaleHooks("DEAF-1", threading.Event(), lambda message: None, lambda info: None)
    talk = session.converse(A.authorisation(4317), 5.0, hooks)
    assert talk.timed_out and talk.gave_up and not talk.accepted
    assert line.sent == [A.authorisation(4317).encode(), bytes.fromhex("06 B0 00")]
