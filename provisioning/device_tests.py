"""Exercise one device through its real driver: ``kiosk devices test NAME``.

A scan says *what* answers on a port; a device test says whether the device *works* the way
the kiosk will use it, through the very driver the kiosk runs, so a pass here means the
kiosk's own code path works with this unit:

* receipt printer: a test page through the driver's print path, so the status checks before,
  during and after printing run as they do for a receipt (paper out is found the same way);
  the page says in large type that it is not a receipt.
* bill acceptor: every denomination enabled, the technician inserts one bill, the driver
  reads it in escrow and **returns** it. A test never takes money: nothing here asks for a
  stack, the acceptor is disabled and anything left in escrow is returned before the port is
  closed, and the cash box count read before and after must be equal.
* barcode scanner: one scan, shown as read, and whether this kiosk's ``[scanner]`` settings
  read it as a bill stub.
* card terminal: the driver registers as the kiosk does, then asks Status Enquiry (ZVT
  05 01: ready or not, software, terminal id). Never a sale: a test takes no money, and
  the driver's sale record goes to a scratch directory, not the kiosk's.

With ``emulated`` the protocol emulator is started in this process on a pseudo-terminal and
the test plays the technician's part (a $20 bill, a demo stub), so the command can be shown
and tested without hardware. ``simulated`` devices are file-backed stand-ins with no
protocol at all: there is nothing to test.

Each check returns a :class:`DeviceTestResult`; its verdict is the command's exit status
(0 pass, 1 fail, 2 could not open the device). ``say`` prints progress and instructions as
they happen, since the technician has to act in the middle of a test.
"""

from __future__ import annotations

import os
import queue
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import Literal

from devices.ebds.driver import AcceptorUnavailable, EbdsAcceptor
from devices.escpos.layout import Chunk
from devices.id003.driver import Id003Acceptor
from devices.scanner import SerialScanner
from devices.zvt.driver import TerminalStatus, ZvtTerminal
from kiosk.bill_stub import NotRecognised, StubParser
from kiosk.completion import test_page
from kiosk.config import EMULATED, SIMULATED, AcceptorProtocol, KioskConfig
from kiosk.money import Money
from kiosk.ports import (
    AcceptorFault,
    BillEscrowed,
    BillRejected,
    BillReturned,
    BillStacked,
    DeviceHealth,
    DeviceNotice,
    Health,
    ReceiptDone,
    Scanned,
)
from provisioning.detect import describe_model, describe_printer, port_problem

DeviceName = Literal["bill_acceptor", "card_terminal", "receipt_printer", "barcode_scanner"]
DEVICES: tuple[DeviceName, ...] = (
    "bill_acceptor",
    "card_terminal",
    "receipt_printer",
    "barcode_scanner",
)

DEFAULT_WAIT = 60.0
"""Seconds to wait for the technician's bill or scan, or for the test page to print."""

READY_WAIT = 5.0
"""Seconds for a device to answer once after its port opened."""

RETURN_WAIT = 15.0
"""Seconds for a bill to come back out after the return command (a real one takes ~2 s)."""

EMULATED_BILL = "20"
EMULATED_STUB = ("100200302", "43.17")
"""A demo account (valid check digit) and its balance: what the emulated scanner scans."""

PAGE_WIDTH = 42

Say = Callable[[str], None]
Act = Callable[[], object]
"""Plays the technician's part in an emulated run; what it returns is ignored."""


def _quiet(_line: str) -> None:
    """The default ``say``: tests and callers that only want the result."""


class Verdict(IntEnum):
    """The outcome of a test; the value is the command's exit status."""

    PASS = 0
    FAIL = 1
    CANNOT_OPEN = 2


@dataclass(frozen=True)
class DeviceTestResult:
    """What a device test found: a verdict, a one-line summary and the facts behind it."""

    device: str
    port: str
    verdict: Verdict
    summary: str
    facts: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS

    def lines(self) -> list[str]:
        word = {Verdict.PASS: "PASS", Verdict.FAIL: "FAIL", Verdict.CANNOT_OPEN: "CANNOT OPEN"}
        head = f"{self.device} on {self.port}: {word[self.verdict]}: {self.summary}"
        return [head, *(f"  {fact}" for fact in self.facts)]


def _dollars(amount: Money) -> str:
    return f"${amount.plain()}"


def _health(health: DeviceHealth) -> str:
    return health.state.value + (f" ({health.reason})" if health.reason else "")


def _cannot_open(device: str, port: str) -> DeviceTestResult | None:
    problem = port_problem(port)
    if problem is None:
        return None
    return DeviceTestResult(device, port, Verdict.CANNOT_OPEN, problem)


# ----------------------------------------------------------------------------- bill acceptor


Acceptor = EbdsAcceptor | Id003Acceptor

PROTOCOL_NAMES: dict[AcceptorProtocol, str] = {"ebds": "EBDS", "id003": "ID-003"}


def _identity(driver: Acceptor) -> str:
    """What the acceptor says it is: EBDS model and revision, ID-003 firmware string."""
    if isinstance(driver, Id003Acceptor):
        return driver.device_info()["version"] or "version not reported"
    info = driver.device_info()
    return ", ".join(describe_model(info["model"], info["revision"])) or "model not reported"


def _cashbox(driver: Acceptor) -> int | str | None:
    """The count; None for an acceptor that keeps none; why not, when it could not say."""
    try:
        return driver.cashbox_count()
    except AcceptorUnavailable as exc:
        return str(exc)


def check_bill_acceptor(
    port: str,
    *,
    wait: float = DEFAULT_WAIT,
    say: Say = _quiet,
    act: Act | None = None,
    ready_wait: float = READY_WAIT,
    protocol: AcceptorProtocol = "ebds",
) -> DeviceTestResult:
    """Read one bill in escrow and give it back; compare the cash box count before and after.

    ``act`` is called once the technician has been asked for a bill (the emulated run
    inserts one there). ``protocol`` is the acceptor's (``bill_acceptor_protocol``).
    """
    device = "bill_acceptor"
    unavailable = _cannot_open(device, port)
    if unavailable is not None:
        return unavailable
    events: queue.Queue[object] = queue.Queue()
    driver: Acceptor = Id003Acceptor(port) if protocol == "id003" else EbdsAcceptor(port)
    driver.attach(events.put)
    driver.open()
    try:
        return _bill_session(driver, events, port, wait, say, act, ready_wait, protocol)
    finally:
        _give_back(driver, say)
        driver.close()


def _bill_session(
    driver: Acceptor,
    events: queue.Queue[object],
    port: str,
    wait: float,
    say: Say,
    act: Act | None,
    ready_wait: float,
    protocol: AcceptorProtocol,
) -> DeviceTestResult:
    device = "bill_acceptor"

    def result(verdict: Verdict, summary: str, facts: list[str]) -> DeviceTestResult:
        return DeviceTestResult(device, port, verdict, summary, tuple(facts))

    name = PROTOCOL_NAMES[protocol]
    if not driver.wait_ready(ready_wait):
        return result(
            Verdict.FAIL,
            f"no {name} answer within {ready_wait:g} s: is it powered, set to {name}, and on "
            "this port (`kiosk devices scan`)?",
            [],
        )
    facts = [_identity(driver)]
    before = _cashbox(driver)
    health = driver.health()
    if health.state is Health.FAULT:
        facts += [f"health: {_health(health)}", _cashbox_fact(before, before)]
        return result(Verdict.FAIL, f"the acceptor reports a fault: {health.reason}", facts)

    driver.enable(list(driver.table.values()))
    say(f"Insert one bill now; it will be given back (waiting up to {wait:g} s).")
    if act is not None:
        act()
    outcome = _await_bill(driver, events, wait, say)
    driver.disable()

    after = _cashbox(driver)
    health = driver.health()
    if outcome.seen is not None:
        back = "given back" if outcome.returned else "NOT given back"
        facts.append(f"bill seen: {_dollars(outcome.seen)} ({back})")
    if outcome.rejected:
        facts.append(f"bills rejected: {outcome.rejected}")
    facts += [f"health: {_health(health)}", _cashbox_fact(before, after)]

    if outcome.stacked is not None:
        return result(
            Verdict.FAIL,
            f"a {_dollars(outcome.stacked)} bill went into the cash box during the test: record it",
            facts,
        )
    if outcome.fault:
        return result(Verdict.FAIL, f"the acceptor reported a fault: {outcome.fault}", facts)
    if outcome.seen is None:
        rejected = f" ({outcome.rejected} rejected)" if outcome.rejected else ""
        return result(Verdict.FAIL, f"no bill read within {wait:g} s{rejected}", facts)
    if not outcome.returned:
        return result(
            Verdict.FAIL,
            f"the {_dollars(outcome.seen)} bill was not reported given back within "
            f"{RETURN_WAIT:g} s: check the bezel and the note path",
            facts,
        )
    if isinstance(before, str) or isinstance(after, str):
        problem = before if isinstance(before, str) else after
        return result(
            Verdict.FAIL,
            f"cash box count unavailable ({problem}): the acceptor keeps one but did not "
            "give it; check the cable and the port",
            facts,
        )
    if before != after:
        return result(Verdict.FAIL, f"the cash box count changed from {before} to {after}", facts)
    return result(Verdict.PASS, f"read a {_dollars(outcome.seen)} bill and gave it back", facts)


def _cashbox_fact(before: int | str | None, after: int | str | None) -> str:
    if before is None and after is None:
        return "cash box: no count kept by this acceptor (the kiosk settles by its journal)"
    if isinstance(before, int) and before == after:
        return f"cash box: {before} bills (unchanged)"
    if isinstance(before, int) and isinstance(after, int):
        return f"cash box: {before} bills before, {after} after"
    return f"cash box: {before} before, {after} after"


@dataclass
class _BillOutcome:
    seen: Money | None = None
    returned: bool = False
    stacked: Money | None = None
    rejected: int = 0
    fault: str = ""


def _await_bill(
    driver: Acceptor, events: queue.Queue[object], wait: float, say: Say
) -> _BillOutcome:
    """Follow the acceptor's events until one bill was read and returned, a fault, or time."""
    outcome = _BillOutcome()
    deadline = time.monotonic() + wait
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return outcome
        try:
            event = events.get(timeout=remaining)
        except queue.Empty:
            return outcome
        if isinstance(event, BillEscrowed) and outcome.seen is None:
            outcome.seen = event.denomination
            say(f"Read a {_dollars(event.denomination)} bill; giving it back.")
            driver.disable()
            driver.return_bill()
            deadline = time.monotonic() + RETURN_WAIT
        elif isinstance(event, BillReturned):
            outcome.returned = True
            say("Bill given back: take it from the bezel.")
            return outcome
        elif isinstance(event, BillStacked):
            outcome.stacked = event.denomination
            return outcome
        elif isinstance(event, BillRejected):
            outcome.rejected += 1
            say(f"Bill rejected ({event.reason}); try another one.")
        elif isinstance(event, AcceptorFault):
            outcome.fault = event.reason
            return outcome
        elif isinstance(event, DeviceNotice):
            say(f"(the acceptor says: {event.kind}{' ' + event.detail if event.detail else ''})")


def _give_back(driver: Acceptor, say: Say) -> None:
    """Before closing: accept nothing more, and return a bill still held in escrow."""
    driver.disable()
    if driver.escrowed() is None:
        return
    say("A bill is still in escrow: giving it back.")
    driver.return_bill()
    deadline = time.monotonic() + RETURN_WAIT
    while driver.escrowed() is not None and time.monotonic() < deadline:
        time.sleep(0.05)


# ----------------------------------------------------------------------------- printer


def page_lines(config: KioskConfig, port: str, when: datetime) -> list[str]:
    """The body of the test page: who, where, when, and lines that show the print quality."""
    local = when.astimezone(config.locale.zone())
    ruler = ("1234567890" * 5)[:PAGE_WIDTH]
    rule = "-" * PAGE_WIDTH
    return [
        rule,
        *_field("Kiosk:", config.identity.kiosk_id),
        *_field("Location:", config.identity.location),
        *_field("Port:", port),
        *_field("Time:", f"{local:%Y-%m-%d %H:%M:%S %Z}"),
        rule,
        ruler,
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789",
        "abcdefghijklmnopqrstuvwxyz .,:;!?$%&*()-+/",
        "",
        "If every line above is whole and sharp,",
        "and the paper was cut below it, the",
        "printer works.",
    ]


LABEL_WIDTH = 10


def _field(label: str, value: str) -> list[str]:
    """``Label:    value``, the value cut into lines that fit (a by-id port path is long)."""
    text = _ascii(value)
    room = PAGE_WIDTH - LABEL_WIDTH
    pieces = [text[start : start + room] for start in range(0, len(text), room)] or [""]
    indent = " " * LABEL_WIDTH
    return [f"{label:<{LABEL_WIDTH}}{pieces[0]}", *(indent + piece for piece in pieces[1:])]


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii")


ESC, GS = b"\x1b", b"\x1d"


def page_chunks(lines: list[str]) -> list[Chunk]:
    """ESC/POS for the test page, in three chunks so the driver checks status between them.

    Plain ESC/POS every printer knows (``ESC @``, ``ESC a``, ``ESC !``, ``ESC E``,
    ``ESC d``, ``GS V``); the title says in large type that this is no receipt, so a test
    page left in the printer can not pass for proof of payment. (``ESC !`` also clears bold,
    so bold is set again after each size change.)
    """
    title = (
        ESC + b"@"
        + ESC + b"a\x01"
        + ESC + b"!\x30" + ESC + b"E\x01" + b"PRINTER TEST\n"
        + ESC + b"!\x00" + ESC + b"E\x01" + b"NOT A RECEIPT - NO PAYMENT\n"
        + ESC + b"E\x00" + ESC + b"a\x00"
    )  # fmt: skip
    body = b"".join(line.encode("ascii") + b"\n" for line in lines)
    cut = ESC + b"d\x06" + GS + b"V\x01"
    return [Chunk("title", title), Chunk("body", body), Chunk("cut", cut, last=True)]


PRINTER_HINTS = {
    "paper_out": "load a paper roll",
    "cover_open": "close the paper cover",
    "cutter_error": "clear the cutter (open the cover, remove the jammed paper)",
    "no_response": "no status answer: check the cable, the power and the baud rate (9600)",
    "bad_status": "the answers are not ESC/POS status bytes: check the baud rate (9600)",
    "disconnected": "the port went away: check the cable",
    "offline": "the printer is offline: check its panel",
}


def check_receipt_printer(
    port: str,
    config: KioskConfig,
    *,
    wait: float = DEFAULT_WAIT,
    say: Say = _quiet,
    settle_time: float = 1.0,
    ready_wait: float = READY_WAIT,
) -> DeviceTestResult:
    """Print a test page through the driver; pass only if the driver says it printed in full.

    ``settle_time`` is the driver's pause before its last status check (0 for an emulator,
    which prints as the bytes arrive).
    """
    from devices.escpos.driver import EscposPrinter  # python-escpos: only when a printer is used

    device = "receipt_printer"
    unavailable = _cannot_open(device, port)
    if unavailable is not None:
        return unavailable
    when = datetime.now(UTC)
    confirmation = f"TEST-{when:%Y%m%d-%H%M%S}"
    lines = page_lines(config, port, when)
    events: queue.Queue[object] = queue.Queue()
    driver = EscposPrinter(
        port, settle_time=settle_time, layout=lambda _receipt: page_chunks(lines)
    )
    driver.attach(events.put)
    driver.open()
    driver.wait_ready(ready_wait)
    try:
        say("Printing a test page.")
        driver.print_receipt(test_page(config, confirmation, when, config.locale.default_language))
        done = _await_receipt(events, confirmation, wait)
        facts = [
            f"status: {describe_printer(driver.status())}",
            f"health: {_health(driver.health())}",
        ]
    finally:
        driver.close()
    if done is None:
        return DeviceTestResult(
            device,
            port,
            Verdict.FAIL,
            f"the test page did not finish within {wait:g} s",
            tuple(facts),
        )
    if not done.printed:
        hint = PRINTER_HINTS.get(done.reason, "")
        summary = f"not printed: {done.reason}" + (f" ({hint})" if hint else "")
        return DeviceTestResult(device, port, Verdict.FAIL, summary, tuple(facts))
    return DeviceTestResult(
        device,
        port,
        Verdict.PASS,
        "printed a test page: check that it is readable and was cut",
        tuple(facts),
    )


def _await_receipt(
    events: queue.Queue[object], confirmation: str, wait: float
) -> ReceiptDone | None:
    deadline = time.monotonic() + wait
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            event = events.get(timeout=remaining)
        except queue.Empty:
            break
        if isinstance(event, ReceiptDone) and event.confirmation == confirmation:
            return event
    return None


# ----------------------------------------------------------------------------- scanner


def check_barcode_scanner(
    port: str,
    config: KioskConfig,
    *,
    wait: float = DEFAULT_WAIT,
    say: Say = _quiet,
    act: Act | None = None,
    ready_wait: float = READY_WAIT,
) -> DeviceTestResult:
    """Wait for one scan; show the code and whether it reads as a bill stub here.

    The scanner passes when a code arrives intact: a code that is not a stub still shows
    the scanner works, and the line after it says what the kiosk would make of it.
    """
    device = "barcode_scanner"
    unavailable = _cannot_open(device, port)
    if unavailable is not None:
        return unavailable
    parser = StubParser.from_config(config.scanner)
    events: queue.Queue[object] = queue.Queue()
    scanner = SerialScanner(port)
    scanner.attach(events.put)
    scanner.open()
    try:
        if not scanner.wait_ready(ready_wait):
            return DeviceTestResult(
                device, port, Verdict.CANNOT_OPEN, f"the port did not open within {ready_wait:g} s"
            )
        say(f"Scan a bill stub (or any barcode) now (waiting up to {wait:g} s).")
        if act is not None:
            act()
        code = _await_scan(events, wait)
        counters = scanner.counters()
    finally:
        scanner.close()
    if code is None:
        facts: list[str] = []
        if counters["lines_discarded"]:
            facts.append(
                f"{counters['lines_discarded']} unreadable lines thrown away "
                "(a wrong baud rate, a bad cable, or a scanner sending no CR/LF suffix?)"
            )
        return DeviceTestResult(
            device, port, Verdict.FAIL, f"no scan within {wait:g} s", tuple(facts)
        )
    parsed = parser.parse(code)
    if isinstance(parsed, NotRecognised):
        meaning = f"not a bill stub for this kiosk: {parsed.message}"
    else:
        due = f", amount due {_dollars(parsed.amount_due)}" if parsed.amount_due is not None else ""
        meaning = f"bill stub: account {parsed.account}{due}"
    return DeviceTestResult(
        device, port, Verdict.PASS, f"read {code!r}", (f"code: {code}", meaning)
    )


def _await_scan(events: queue.Queue[object], wait: float) -> str | None:
    deadline = time.monotonic() + wait
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            event = events.get(timeout=remaining)
        except queue.Empty:
            break
        if isinstance(event, Scanned):
            return event.code
    return None


# ----------------------------------------------------------------------------- card terminal


def check_card_terminal(port: str, *, ready_wait: float = READY_WAIT) -> DeviceTestResult:
    """Register with the terminal and ask its status (ZVT 05 01); pass when it is ready.

    A real terminal may take a few seconds to answer the registration after power-on, so
    ``ready_wait`` bounds that; the enquiry itself has the driver's own time-out.
    """
    device = "card_terminal"
    if not port.startswith("tcp://"):
        unavailable = _cannot_open(device, port)
        if unavailable is not None:
            return unavailable
    with tempfile.TemporaryDirectory(prefix="kiosk-terminal-test-") as scratch:
        try:
            driver = ZvtTerminal.at(port, state_path=Path(scratch) / "sales.json")
        except ValueError as exc:  # a tcp:// address without a usable port number
            return DeviceTestResult(device, port, Verdict.CANNOT_OPEN, str(exc))
        driver.open()
        try:
            if not driver.wait_ready(ready_wait):
                facts = (f"health: {_health(driver.health())}",)
                return DeviceTestResult(
                    device,
                    port,
                    Verdict.FAIL,
                    f"no answer to the ZVT registration within {ready_wait:g} s: is it powered, "
                    "on this port (9600 8N2), and is its ECR password 000000?",
                    facts,
                )
            status = driver.enquire_status()
        finally:
            driver.close()
    return _terminal_verdict(device, port, status)


def _terminal_verdict(device: str, port: str, status: TerminalStatus) -> DeviceTestResult:
    if not status.answered:
        return DeviceTestResult(
            device, port, Verdict.FAIL, f"no answer to the status enquiry ({status.reason})"
        )
    facts = (
        f"terminal id: {status.terminal_id or 'not reported'}",
        f"software: {status.software or 'not reported'}",
        "status: ready" if status.ready else f"status: {status.status:#04x} ({status.reason})",
    )
    if not status.ready:
        summary = f"the terminal is not ready: {status.reason} (see its display)"
        return DeviceTestResult(device, port, Verdict.FAIL, summary, facts)
    summary = "registered and ready (status enquiry); no payment was made"
    return DeviceTestResult(device, port, Verdict.PASS, summary, facts)


# ----------------------------------------------------------------------------- dispatch


def run_device_test(
    name: DeviceName,
    config: KioskConfig,
    *,
    port: str | None = None,
    emulate: bool = False,
    wait: float = DEFAULT_WAIT,
    say: Say = _quiet,
) -> DeviceTestResult:
    """Test ``name`` on ``port``, else where the config puts it (``emulate`` overrides it)."""
    where = (
        port if port is not None else EMULATED if emulate else str(getattr(config.devices, name))
    )
    if where == SIMULATED:
        return DeviceTestResult(
            name,
            where,
            Verdict.CANNOT_OPEN,
            f"devices.{name} = simulated: a file-backed stand-in, nothing to test "
            "(give --port PATH, or --emulate)",
        )
    if where == EMULATED:
        return _run_emulated(name, config, wait, say)
    if name == "bill_acceptor":
        protocol = config.devices.bill_acceptor_protocol
        return check_bill_acceptor(where, wait=wait, say=say, protocol=protocol)
    if name == "receipt_printer":
        return check_receipt_printer(where, config, wait=wait, say=say, settle_time=_settle(where))
    if name == "card_terminal":
        return check_card_terminal(where)
    return check_barcode_scanner(where, config, wait=wait, say=say)


def _settle(port: str) -> float:
    """No settling on a pseudo-terminal: the emulator behind it prints as bytes arrive."""
    return 0.0 if os.path.realpath(port).startswith("/dev/pts/") else 1.0


def _run_emulated(name: DeviceName, config: KioskConfig, wait: float, say: Say) -> DeviceTestResult:
    """Start the emulator in this process and play the technician's part against it."""
    if name == "bill_acceptor":
        from devices.emulators.ebds_emulator import EbdsEmulator
        from devices.emulators.id003_emulator import Id003Emulator

        protocol = config.devices.bill_acceptor_protocol
        acceptor = Id003Emulator() if protocol == "id003" else EbdsEmulator()
        acceptor.start()
        try:
            say(f"(emulated bill acceptor on {acceptor.port.path})")

            def insert() -> None:
                say(f"(emulator: {acceptor.control('insert', EMULATED_BILL)})")

            before = acceptor.cashbox
            result = check_bill_acceptor(
                acceptor.port.path, wait=wait, say=say, act=insert, protocol=protocol
            )
            return _with_fact(
                result, f"emulator's cash box: {before} bills before, {acceptor.cashbox} after"
            )
        finally:
            acceptor.stop()
    if name == "card_terminal":
        return _emulated_terminal(say)
    if name == "receipt_printer":
        from devices.emulators.escpos_emulator import EscposEmulator

        printer = EscposEmulator()
        printer.start()
        try:
            say(f"(emulated receipt printer on {printer.port.path})")
            result = check_receipt_printer(
                printer.port.path, config, wait=wait, say=say, settle_time=0.0
            )
            if printer.receipts:
                say("(the emulator printed:)")
                for line in printer.receipts[-1].text.splitlines():
                    say(f"  | {line}")
            return result
        finally:
            printer.stop()
    from devices.emulators.scanner_emulator import ScannerEmulator

    scanner = ScannerEmulator()
    scanner.start()
    try:
        say(f"(emulated barcode scanner on {scanner.port.path})")

        def scan() -> None:
            say(f"(emulator: {scanner.controls()['scan-stub'].handler(list(EMULATED_STUB))})")

        return check_barcode_scanner(scanner.port.path, config, wait=wait, say=say, act=scan)
    finally:
        scanner.stop()


def _emulated_terminal(say: Say) -> DeviceTestResult:
    from devices.emulators.zvt_emulator import ZvtEmulator

    terminal = ZvtEmulator()
    terminal.start()
    try:
        say(f"(emulated card terminal on {terminal.port.path})")
        result = check_card_terminal(terminal.port.path)
        sales = terminal.counters()["authorisations"]
        return _with_fact(result, f"emulator's sales during the test: {sales}")
    finally:
        terminal.stop()


def _with_fact(result: DeviceTestResult, fact: str) -> DeviceTestResult:
    return DeviceTestResult(
        result.device, result.port, result.verdict, result.summary, (*result.facts, fact)
    )
