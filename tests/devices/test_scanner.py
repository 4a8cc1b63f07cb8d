"""The scanner driver against the scanner emulator over a real pseudo-terminal.

Also the line assembler on its own, with Hypothesis: whatever bytes a broken cable or a
misconfigured scanner sends, it must not raise, must not hold more than one line's worth of
memory, and must never hand over anything that is not a printable code.
"""

from __future__ import annotations

import itertools
import queue
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.emulators.scanner_emulator import LONG_LINE, ScannerEmulator
from devices.scanner import Discard, Discarded, LineAssembler, SerialScanner
from kiosk.ports import DeviceFault, DeviceNotice, DeviceRecovered, Health, Scanned

WAIT = 3.0


class Events:
    """What the driver emitted, in order, as the engine's queue would get it."""

    def __init__(self) -> None:
        self.queue: queue.Queue[object] = queue.Queue()

    def __call__(self, event: object) -> None:
        self.queue.put(event)

    def next(self, timeout: float = WAIT) -> object:
        return self.queue.get(timeout=timeout)

    def none_within(self, seconds: float) -> bool:
        try:
            event = self.queue.get(timeout=seconds)
        except queue.Empty:
            return True
        pytest.fail(f"unexpected event {event!r}")


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[ScannerEmulator]:
    emu = ScannerEmulator(tmp_path / "scanner")
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def scanner(emulator: ScannerEmulator, events: Events) -> Iterator[SerialScanner]:
    driver = SerialScanner(emulator.port.path, reconnect_interval=0.05)
    driver.attach(events)
    driver.open()
    assert driver.wait_ready(WAIT)
    yield driver
    driver.close()


# --- over the pty -----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [b"\r", b"\n", b"\r\n"], ids=["CR", "LF", "CRLF"])
def test_one_code_per_line_whatever_the_suffix(
    emulator: ScannerEmulator, scanner: SerialScanner, events: Events, suffix: bytes
) -> None:
    emulator.suffix = suffix
    emulator.send("100200526")
    emulator.send_raw(b"  10020052600002875\t" + suffix)
    assert events.next() == Scanned("100200526")
    assert events.next() == Scanned("10020052600002875")  # surrounding blanks stripped
    assert scanner.health().state is Health.OK
    assert scanner.counters()["codes_read"] == 2
    assert emulator.counters()["codes_sent"] == 1  # send_raw is not a scan


def test_two_codes_in_one_write(
    emulator: ScannerEmulator, scanner: SerialScanner, events: Events
) -> None:
    emulator.send_raw(b"100200526\r\n10020030200004317\r\n")
    assert events.next() == Scanned("100200526")
    assert events.next() == Scanned("10020030200004317")


def test_a_code_split_across_writes(
    emulator: ScannerEmulator, scanner: SerialScanner, events: Events
) -> None:
    emulator.send_raw(b"100200")
    time.sleep(0.1)  # the driver reads the first part on its own
    emulator.send_raw(b"526\r")
    time.sleep(0.1)
    emulator.send_raw(b"\n")  # a CR LF split between writes is still one terminator
    assert events.next() == Scanned("100200526")
    assert events.none_within(0.2)
    assert scanner.counters()["lines_discarded"] == 0


def test_empty_lines_are_ignored(
    emulator: ScannerEmulator, scanner: SerialScanner, events: Events
) -> None:
    emulator.send_raw(b"\r\n\r\n \t \r\n\n\r")
    emulator.send("100200419")
    assert events.next() == Scanned("100200419")
    counts = scanner.counters()
    assert counts["codes_read"] == 1
    assert counts["lines_discarded"] == 0


def test_garbage_and_an_over_long_line_are_counted_and_the_next_code_is_read(
    emulator: ScannerEmulator, scanner: SerialScanner, events: Events
) -> None:
    controls = emulator.controls()
    assert controls["garbage"].handler([]) == "sent a line of noise"
    assert controls["garbage"].handler(["long"]) == f"sent a {LONG_LINE}-byte line"
    emulator.send_raw(b"x" * 5000)  # a stuck stream with no terminator at all
    emulator.send_raw(b"\r\n")
    assert controls["scan"].handler(["100200526"]) == "scanned 100200526"
    assert events.next() == Scanned("100200526")  # nothing of the garbage came through
    counts = scanner.counters()
    assert counts["discarded_unprintable"] == 1
    assert counts["discarded_too_long"] == 2
    assert counts["lines_discarded"] == 3
    assert counts["codes_read"] == 1


def test_a_partial_line_left_waiting_is_not_glued_to_the_next_code(
    emulator: ScannerEmulator, events: Events
) -> None:
    driver = SerialScanner(emulator.port.path, stale_after=0.2)
    driver.attach(events)
    driver.open()
    try:
        assert driver.wait_ready(WAIT)
        emulator.send_raw(b"1002")  # the suffix never came
        time.sleep(0.4)
        emulator.send("100200526")
        assert events.next() == Scanned("100200526")
        assert driver.counters()["discarded_incomplete"] == 1
    finally:
        driver.close()


def test_unplug_is_a_fault_and_codes_are_read_after_replug(
    emulator: ScannerEmulator, scanner: SerialScanner, events: Events
) -> None:
    assert scanner.health().state is Health.OK
    assert emulator.controls()["unplug"].handler([]).startswith("unplugged")
    assert events.next() == DeviceFault("scanner", "disconnected")
    health = scanner.health()
    assert (health.state, health.reason) == (Health.FAULT, "disconnected")
    assert "error: " not in emulator.controls()["replug"].handler([])
    # the port is back, and the fault is over: one notice each, as from every driver
    assert {events.next(), events.next()} == {
        DeviceNotice("scanner", "reconnected", emulator.port.path),
        DeviceRecovered("scanner"),
    }
    assert scanner.wait_ready(WAIT)
    assert scanner.health().state is Health.OK
    emulator.send("100200526")
    assert events.next() == Scanned("100200526")
    counts = scanner.counters()
    assert (counts["disconnects"], counts["reconnects"]) == (1, 1)


def test_scanning_while_unplugged_sends_nothing(emulator: ScannerEmulator) -> None:
    emulator.controls()["unplug"].handler([])
    with pytest.raises(ValueError, match="unplugged"):
        emulator.controls()["scan"].handler(["100200526"])
    assert emulator.counters() == {
        "codes_sent": 0,
        "garbage_sent": 0,
        "bytes_from_host": 0,
        "plugged": False,
    }


def test_a_disabled_scanner_reads_but_does_not_emit(
    emulator: ScannerEmulator, scanner: SerialScanner, events: Events
) -> None:
    scanner.disable()
    emulator.send("100200526")
    assert events.none_within(0.3)
    scanner.enable()
    emulator.send("100200419")
    assert events.next() == Scanned("100200419")
    counts = scanner.counters()
    assert (counts["codes_read"], counts["codes_ignored_disabled"]) == (2, 1)


def test_health_before_open_and_with_no_port(tmp_path: Path) -> None:
    driver = SerialScanner(str(tmp_path / "absent"), reconnect_interval=0.05)
    assert driver.health().reason == "closed"
    events = Events()
    driver.open()
    try:
        assert not driver.wait_ready(0.2)
        assert (driver.health().state, driver.health().reason) == (Health.FAULT, "disconnected")
        driver.attach(events)  # attached late, as the engine is: the fault at open waited
        assert events.next() == DeviceFault("scanner", "disconnected")
        assert events.none_within(0.3)  # once, not once per reconnect attempt
    finally:
        driver.close()
    assert driver.health().reason == "closed"


def test_scan_stub_control_sends_the_default_stub(
    emulator: ScannerEmulator, scanner: SerialScanner, events: Events
) -> None:
    scan_stub = emulator.controls()["scan-stub"].handler
    assert scan_stub(["100200526", "28.75"]) == "scanned 10020052600002875"
    assert events.next() == Scanned("10020052600002875")
    with pytest.raises(ValueError, match="9 digits"):
        scan_stub(["12345", "1.00"])
    with pytest.raises(ValueError, match="not an amount"):
        scan_stub(["100200526", "lots"])


# --- the line assembler alone ---------------------------------------------------------------


def test_assembler_reports_what_it_discards() -> None:
    lines = LineAssembler(max_line=8, stale_after=None)
    assert lines.feed(b"ok\r\nbad\x00\r\n123456789") == [
        "ok",
        Discarded(Discard.UNPRINTABLE, 4),
        Discarded(Discard.TOO_LONG, 9),
    ]
    assert lines.feed(b"more of it\nnext\n") == ["next"]
    assert lines.feed(b"half") == []
    assert lines.reset() == [Discarded(Discard.INCOMPLETE, 4)]
    assert lines.reset() == []


def test_assembler_drops_a_stale_partial_line_only_when_it_is_stale() -> None:
    lines = LineAssembler(stale_after=0.5)
    assert lines.feed(b"12", now=10.0) == []
    assert lines.feed(b"34\r", now=10.3) == ["1234"]
    assert lines.feed(b"56", now=11.0) == []
    assert lines.feed(b"78\r", now=12.0) == [Discarded(Discard.INCOMPLETE, 2), "78"]


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(st.binary(max_size=600), max_size=30), limit=st.integers(1, 64))
def test_any_byte_stream_is_safe(chunks: list[bytes], limit: int) -> None:
    lines = LineAssembler(max_line=limit, stale_after=None)
    for chunk in chunks:
        for item in lines.feed(chunk):
            if isinstance(item, str):
                assert item and item == item.strip(" \t")
                assert len(item) <= limit
                assert all(" " <= char <= "~" for char in item)
            else:
                assert item.size > 0
        assert lines.pending <= limit  # bounded whatever comes in


CODE = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)


@settings(max_examples=200, deadline=None)
@given(
    codes=st.lists(CODE.filter(lambda c: len(c) <= 64), max_size=10),
    suffixes=st.lists(st.sampled_from([b"\r", b"\n", b"\r\n"]), min_size=10, max_size=10),
    cuts=st.lists(st.integers(0, 2000), max_size=10),
)
def test_codes_come_out_whole_however_the_stream_is_cut(
    codes: list[str], suffixes: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(code.encode() + suffix for code, suffix in zip(codes, suffixes, strict=False))
    bounds = sorted({0, len(stream), *(c % (len(stream) + 1) for c in cuts)})
    lines = LineAssembler(max_line=64, stale_after=None)
    out: list[str | Discarded] = []
    for start, end in itertools.pairwise(bounds):
        out += lines.feed(stream[start:end])
    assert out == codes
