"""How fast does the kiosk answer the bill acceptor, and does a busy engine upset its polls?

Everything runs as in the kiosk, assembled by ``build_kiosk``: the in-process EBDS, ESC/POS
and scanner emulators on real pseudo-terminals, the real drivers, the real engine on its
thread, the journal on a temporary directory with ``synchronous=FULL``. The bill acceptor
emulator is instrumented from the outside: its pty's ``read`` and ``write`` are wrapped, so
every omnibus command is timestamped as the device receives it and every reply as the device
sends it (the emulator's code is not changed). Prints figures only; asserts nothing.

(a) Stack latency: from the device sending the reply that first reports a note in escrow to
    the device receiving the first command with the stack bit, over ``--bills`` $1 notes.
    Split at the moment the engine calls the driver's ``stack()`` (also wrapped): the host's
    decision (driver -> engine -> journal ``bill.escrowed`` -> cash box count query ->
    journal ``bill.stack.requested``, two fsyncs) and the driver's sending of it (at once,
    after the device's line has been quiet ``min_gap``; no longer with the next poll). The
    last line is the figure the driver is held to: p99 of the total at most 20 ms.
(b) Poll cadence: the intervals between omnibus polls as the device sees them (the driver
    polls every 100 ms), for ``--window`` seconds with the engine idle (the baseline), then
    as long with a thread keeping the engine saturated with Touch events and device notices
    (each one a durable journal append). Medians are quoted; busy/idle is their ratio.

    .venv/bin/python bench/devices.py [--bills 200] [--window 20] [--quick] [--dir DIR]
                                      [--acceptor mei|apex]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path, and this file (devices.py)
# would hide the project's ``devices`` package: put the project's root in front of it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from composition.wiring import Kiosk, build_kiosk
from contract import entries as E
from contract.payloads import Payload
from devices.ebds.driver import EbdsAcceptor
from devices.ebds.framing import FrameAssembler, parse_frame
from devices.ebds.messages import OmnibusCommand, OmnibusStatus
from devices.emulators import ebds_emulator
from devices.emulators.ebds_emulator import FLAVOURS, EbdsEmulator, Phase
from kiosk.bill_stub import make_stub_code
from kiosk.config import KioskConfig, Limits, Storage
from kiosk.engine import inputs as ui
from kiosk.engine.machine import PaymentEngine
from kiosk.engine.snapshot import Snapshot
from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.ports import DeviceNotice
from kiosk.store.journal import Journal

ACCOUNT = "100200302"  # demo account, balance 43.17
SESSION_AMOUNT = Money(100_000)  # $1000 a session: up to 1000 $1 notes before it completes
WAIT = 15.0
SLOW_POLL = 0.150
"""A poll interval above this (1.5 x the driver's 100 ms) counts as late."""
BUSY_IN_FLIGHT = 32
"""Notices the load thread keeps queued ahead of the engine: always busy, never a backlog."""
LOAD_DEVICE = "bench"


@dataclass
class WireLog:
    """What the acceptor emulator received and sent, timestamped on its own thread."""

    polls: list[float] = field(default_factory=list)
    """perf_counter() of each omnibus command received (repeats included: each is a poll)."""
    escrowed_at: list[float] = field(default_factory=list)
    """Each reply that first reported a note in escrow, as it was sent."""
    stack_bit_at: list[float] = field(default_factory=list)
    """The first command with the stack bit after each of those replies, as it arrived."""
    stack_called_at: list[float] = field(default_factory=list)
    """When the engine called the driver's stack() for each note."""
    _in_escrow: bool = False
    _awaiting_stack: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def command(self, raw: bytes, now: float) -> None:
        frame = parse_frame(raw)
        command = OmnibusCommand.decode(frame) if frame is not None else None
        if command is None:
            return  # an auxiliary query (the cash box count) is not a poll
        with self._lock:
            self.polls.append(now)
            if command.stack and self._awaiting_stack:
                self._awaiting_stack = False
                self.stack_bit_at.append(now)

    def reply(self, raw: bytes, now: float) -> None:
        frame = parse_frame(raw)
        status = OmnibusStatus.decode(frame) if frame is not None else None
        if status is None:
            return
        with self._lock:
            if status.escrowed and not self._in_escrow:
                self.escrowed_at.append(now)
                self._awaiting_stack = True
            self._in_escrow = status.escrowed

    def stack_called(self) -> None:
        with self._lock:
            self.stack_called_at.append(time.perf_counter())

    def polls_between(self, start: float, end: float) -> list[float]:
        with self._lock:
            return [t for t in self.polls if start <= t <= end]


def instrument(emulator: EbdsEmulator, driver: EbdsAcceptor, log: WireLog) -> None:
    """Wrap the emulator's pty (both directions) and the driver's stack() from the outside."""
    port = emulator.port
    real_read, real_write, real_stack = port.read, port.write, driver.stack
    assembler = FrameAssembler()

    def read(timeout: float) -> bytes:
        data = real_read(timeout)
        if data:
            now = time.perf_counter()
            for frame in assembler.feed(data):
                log.command(frame.encode(), now)
        return data

    def write(data: bytes) -> None:
        log.reply(data, time.perf_counter())
        real_write(data)

    def stack() -> None:
        log.stack_called()
        real_stack()

    port.read = read  # type: ignore[method-assign]
    port.write = write  # type: ignore[method-assign]
    driver.stack = stack  # type: ignore[method-assign]


STACK_GOAL_MS = 20.0
"""The escrow reply -> stack command figure the driver is held to (p99)."""


class CountingJournal:
    """The engine's journal, counting appends; the load thread paces itself by them."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.appends = 0
        self.load_slots = threading.Semaphore(BUSY_IN_FLIGHT)

    def record(self, payload: Payload) -> E.EntryLike:
        return self.append(payload.TYPE, payload.dump())

    def entries(self, after_seq: int = 0, limit: int | None = None) -> Any:
        return self.journal.entries(after_seq, limit)

    def open_batch_id(self) -> str:
        return self.journal.open_batch_id()

    def last_seq(self) -> int:
        return self.journal.last_seq()

    def last(self, type_: str | None = None) -> E.EntryLike | None:
        return self.journal.last(type_)

    def append(self, type: str, payload: dict[str, Any]) -> E.EntryLike:
        entry = self.journal.append(type, payload)
        self.appends += 1
        if type == E.DEVICE_NOTICE and payload.get("device") == LOAD_DEVICE:
            self.load_slots.release()
        return entry


class Watcher:
    """The engine's latest snapshot, and a way to wait for one."""

    def __init__(self, engine: PaymentEngine) -> None:
        self.changed = threading.Condition()
        self.latest = engine.snapshot
        engine.subscribe(self._seen)

    def _seen(self, snapshot: Snapshot) -> None:
        with self.changed:
            self.latest = snapshot
            self.changed.notify_all()

    def until(self, what: Callable[[Snapshot], bool], timeout: float = WAIT) -> Snapshot:
        with self.changed:
            if not self.changed.wait_for(lambda: what(self.latest), timeout):
                raise RuntimeError(f"the kiosk did not get there in {timeout:.0f} s: {self.latest}")
            return self.latest


def wait_for(what: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.002)


# ---------------------------------------------------------------------------- (a) the bills


def inserted(amount: Money) -> Callable[[Snapshot], bool]:
    return lambda s: s.inserted == amount


def run_bills(kiosk: Kiosk, watcher: Watcher, emulator: EbdsEmulator, count: int) -> None:
    """Feed ``count`` $1 notes through cash sessions of up to $1000, one note at a time."""
    engine, controls = kiosk.engine, kiosk.hardware.controls
    left = count
    while left:
        in_session = min(left, SESSION_AMOUNT.cents // 100)
        controls.scan(make_stub_code(ACCOUNT, Money(4317)))
        watcher.until(lambda s: s.state is State.CONFIRM_ACCOUNT)
        engine.submit(ui.ConfirmAccount())
        watcher.until(lambda s: s.state is State.AMOUNT)
        engine.submit(ui.ChooseAmount(SESSION_AMOUNT))
        watcher.until(lambda s: s.state is State.METHOD)
        engine.submit(ui.ChooseMethod("cash"))
        watcher.until(lambda s: s.state is State.CASH)
        for n in range(1, in_session + 1):
            wait_for(lambda: emulator.phase is Phase.IDLE)
            controls.insert_bill(1)
            watcher.until(inserted(Money(100 * n)))
        engine.submit(ui.FinishCash())
        watcher.until(lambda s: s.state is State.RECEIPT and s.receipt != "printing")
        engine.submit(ui.Finish())
        watcher.until(lambda s: s.state is State.IDLE)
        left -= in_session


# ---------------------------------------------------------------------------- (b) the load


class Load:
    """A thread keeping the engine busy: Touch events and journaled device notices."""

    def __init__(self, engine: PaymentEngine, journal: CountingJournal) -> None:
        self.engine = engine
        self.journal = journal
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-load", daemon=True)

    def __enter__(self) -> Load:
        self.appends_before = self.journal.appends
        self.started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.elapsed = time.perf_counter() - self.started
        self.appends = self.journal.appends - self.appends_before

    def _run(self) -> None:
        while not self._stop.is_set():
            # one touch and one notice (a durable append) per slot: never far ahead
            if not self.journal.load_slots.acquire(timeout=0.1):
                continue
            self.engine.submit(ui.Touch())
            self.engine.submit(DeviceNotice(LOAD_DEVICE, "load", str(self.sent)))
            self.sent += 1


# ---------------------------------------------------------------------------- figures


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def row(label: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"  {label:<24}{statistics.median(ms):>8.1f}{percentile(ms, 0.99):>8.1f}"
        f"{max(ms):>8.1f}{min(ms):>8.1f}"
    )


def intervals(polls: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(polls)]


@dataclass
class Window:
    """One cadence window: the poll intervals, and the driver's retries in it."""

    gaps: list[float]
    retries: int

    def row(self, label: str) -> str:
        ms = [g * 1000 for g in self.gaps]
        late = sum(1 for g in self.gaps if g > SLOW_POLL) / len(self.gaps)
        return (
            f"  {label:<6}{len(ms):>7}{statistics.median(ms):>8.1f}{percentile(ms, 0.99):>8.1f}"
            f"{max(ms):>8.1f}{late * 100:>9.2f}%{self.retries:>9}"
        )


def measure_window(log: WireLog, driver: EbdsAcceptor, seconds: float) -> Window:
    retries = driver.counters()["retries"]
    start = time.perf_counter()
    time.sleep(seconds)  # the measurement itself: the polls come at their own pace
    gaps = intervals(log.polls_between(start, time.perf_counter()))
    return Window(gaps, driver.counters()["retries"] - retries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=200, help="notes for (a) (default 200)")
    parser.add_argument(
        "--window", type=float, default=20.0, help="seconds per cadence window (default 20)"
    )
    parser.add_argument("--quick", action="store_true", help="a short run: 30 notes, 4 s windows")
    parser.add_argument(
        "--acceptor",
        choices=FLAVOURS,
        default="mei",
        help="the emulated acceptor: mei (asked for its cash box count before each stack) "
        "or apex (keeps no count)",
    )
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary data goes")
    args = parser.parse_args()
    bills, window = (30, 4.0) if args.quick else (max(1, args.bills), max(1.0, args.window))

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        config = KioskConfig(
            storage=Storage(data_dir=Path(tmp)),
            limits=Limits(max_overpayment_cents=100_000, accepted_bills_cents=[100]),
        )
        # the kiosk's wiring builds the emulator it is given: here, of the chosen family
        ebds_emulator.EbdsEmulator = functools.partial(  # type: ignore[misc, assignment]
            EbdsEmulator, flavour=args.acceptor
        )
        kiosk = build_kiosk(config)
        try:
            emulator = kiosk.hardware.controls.emulators["bill-acceptor"]
            driver = kiosk.hardware.ports.acceptor
            assert isinstance(emulator, EbdsEmulator) and isinstance(driver, EbdsAcceptor)
            emulator.timing.stack_polls = 1  # the note's travel is not what is measured
            log = WireLog()
            instrument(emulator, driver, log)
            journal = CountingJournal(kiosk.journal)
            kiosk.engine.journal = journal
            watcher = Watcher(kiosk.engine)
            kiosk.engine.start()

            print(
                f"devices bench: {bills} notes, cadence windows of {window:.0f} s, "
                f"{args.acceptor} acceptor ({driver.capability})"
            )
            print(
                f"journal: {tmp} (SQLite {sqlite3.sqlite_version}, WAL, synchronous=FULL); "
                f"driver poll interval {driver.timing.poll_interval * 1000:.0f} ms"
            )

            started = time.perf_counter()
            run_bills(kiosk, watcher, emulator, bills)
            took = time.perf_counter() - started
            total = [b - a for a, b in zip(log.escrowed_at, log.stack_bit_at, strict=False)]
            decide = [b - a for a, b in zip(log.escrowed_at, log.stack_called_at, strict=False)]
            wait = [b - a for a, b in zip(log.stack_called_at, log.stack_bit_at, strict=False)]
            stacked = emulator.counters()["cashbox"]
            print()
            print(f"(a) escrowed reply sent -> stack bit received, {len(total)} notes")
            print(f"    ({stacked} notes in the cash box, {took:.1f} s, {took / bills:.2f} s/note)")
            print(f"  {'':<24}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'min ms':>8}")
            print(row("host: escrow -> stack()", decide))
            print(row("wait: stack() -> poll", wait))
            print(row("total", total))
            if total:
                p99 = percentile([t * 1000 for t in total], 0.99)
                verdict = "met" if p99 <= STACK_GOAL_MS else "NOT met"
                print(
                    f"  escrow reply -> stack received: p50 "
                    f"{statistics.median(total) * 1000:.1f} ms, p99 {p99:.1f} ms "
                    f"(goal p99 <= {STACK_GOAL_MS:.0f} ms: {verdict})"
                )

            idle = measure_window(log, driver, window)
            with Load(kiosk.engine, journal) as load:
                busy = measure_window(log, driver, window)
            print()
            print("(b) omnibus poll intervals as the device sees them")
            print(
                f"  {'engine':<6}{'gaps':>7}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}"
                f"{'>150 ms':>10}{'retries':>9}"
            )
            print(idle.row("idle"))
            print(busy.row("busy"))
            print(
                f"  busy load: {load.appends / load.elapsed:.0f} journal appends/s "
                f"and as many Touch events/s for {load.elapsed:.1f} s"
            )
            ratio = statistics.median(busy.gaps) / statistics.median(idle.gaps)
            print(f"  median interval busy/idle: {ratio:.3f}x")
        finally:
            kiosk.close()


if __name__ == "__main__":
    main()
