"""No card data (DESIGN.md rule 4): nothing the kiosk writes or logs holds a card number.

The kiosk runs as in the demo (``build_kiosk`` with the default config: every device is its
protocol emulator on a pty, the real drivers talk to them, the engine on its own thread)
through one sale per test card the ZVT emulator offers, with every logger at DEBUG into
``caplog`` and into a log file in the data directory. Then every file under the data
directory (the SQLite journal and its -wal/-shm, the drivers' JSON state, the printer's
receipts, the log) is read as bytes (latin-1) and, with the captured log text, searched for
any run of 13-19 digits (also in groups split by single spaces or dashes, as card numbers are
printed) that passes the Luhn check. There must be none.

A terminal that misbehaves (sends the full card number, track 2 and a CVV, and prints the
number on its receipt lines) must not get one in either: the driver drops or masks them.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from composition.wiring import Kiosk, build_kiosk
from contract import entries as E
from devices.emulators.zvt_emulator import CARDS, Entry, ZvtEmulator
from devices.zvt import bmp
from kiosk.config import KioskConfig, Storage
from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from kiosk.engine.states import State
from kiosk.money import Money

ACCOUNT = "100200302"  # a demo account with a 43.17 balance
TEST_PAN = "4111111111111111"  # the well-known Visa test number (Luhn-valid)
DEVICE_MODULES = (
    "devices.ebds.driver",
    "devices.escpos.driver",
    "devices.scanner",
    "devices.zvt.driver",
    "devices.emulators.ebds_emulator",
    "devices.emulators.escpos_emulator",
    "devices.emulators.scanner_emulator",
)

# ---------------------------------------------------------------------------- the scanner

_RUN = re.compile(r"(?<![0-9])[0-9]+(?:[ -][0-9]+)*(?![0-9])")
"""A maximal run of digits, its groups split by at most one space or dash."""

_HEX_IDS = re.compile(
    r"(?i)[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|(?<![0-9a-f])(?=[0-9a-f]*[a-f])[0-9a-f]{32,}"
)
"""UUIDs, and hex strings of 32 or more characters with a letter in them (the journal's
sha256 chain). Their digits are not numbers, and in a database page an id or a hash runs
straight into the next column (``...2598636`` + ``2026-11-22``): they are blanked first."""


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        d = int(char) * (2 if index % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def card_numbers(text: str) -> list[str]:
    """Every 13-19 digit number in ``text`` that passes Luhn, as written there.

    A candidate is any run of whole consecutive groups of a digit run (``4111111111111111``,
    ``4111 1111 1111 1111``, the number in ``Card 4111-1111-1111-1111 12/25``) with 13 to 19
    digits in all. A candidate of several groups must be laid out as cards are printed, in
    groups of at most six digits (4-4-4-4, 4-6-5): in a database page an id's last digits run
    on, through a dash, into an account number (``8328-4100200302``), which is no card layout.
    Hex identifiers (see ``_HEX_IDS``) are blanked first.
    """
    text = _HEX_IDS.sub(lambda m: "#" * len(m.group(0)), text)
    found: list[str] = []
    for match in _RUN.finditer(text):
        groups = re.split(r"[ -]", match.group(0))
        starts = [0]
        for group in groups:
            starts.append(starts[-1] + len(group) + 1)
        for first in range(len(groups)):
            count = 0
            for last in range(first, len(groups)):
                count += len(groups[last])
                if count > 19 or (last > first and max(map(len, groups[first : last + 1])) > 6):
                    break
                if count >= 13 and luhn_ok("".join(groups[first : last + 1])):
                    written = match.group(0)[starts[first] : starts[last + 1] - 1]
                    found.append(written)
    return found


def _as_text(value: object) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def scan_database(path: Path) -> list[str]:
    """``card_numbers`` of every value in every table of an SQLite file, one value at a time.

    The byte scan sees values run together in a page (a number right after a hash would be
    blanked with it); here each value stands alone.
    """
    found: list[str] = []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    found += [f"{table}: {n}" for n in card_numbers(_as_text(value))]
    finally:
        db.close()
    return found


def scan_files(folder: Path) -> dict[str, list[str]]:
    """``card_numbers`` of every file under ``folder``, its bytes read as latin-1; and of
    every value of every SQLite database there."""
    hits: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        numbers = card_numbers(raw.decode("latin-1"))
        if raw.startswith(b"SQLite format 3\x00"):
            numbers += scan_database(path)
        if numbers:
            hits[str(path.relative_to(folder))] = numbers
    return hits


def test_the_scanner_finds_a_planted_card_number(tmp_path: Path) -> None:
    (tmp_path / "plain.txt").write_text(f"sale approved, card {TEST_PAN} ok\n")
    (tmp_path / "printed.txt").write_text("Card 4111 1111 1111 1111\nCard 4111-1111-1111-1111\n")
    (tmp_path / "expiry.txt").write_text(f"Card {TEST_PAN} 12/25\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "blob.bin").write_bytes(b"\x00\xffSQLite\x04" + TEST_PAN.encode() + b"\x00")
    (tmp_path / "amex.txt").write_text("3782 822463 10005\n")  # Amex test number, 4-6-5
    (tmp_path / "clean.txt").write_text("Card ************1111, auth 007919, 44.25\n")
    hits = scan_files(tmp_path)
    assert hits == {
        "plain.txt": [TEST_PAN],
        "printed.txt": ["4111 1111 1111 1111", "4111-1111-1111-1111"],
        "expiry.txt": [TEST_PAN],
        "sub/blob.bin": [TEST_PAN],
        "amex.txt": ["3782 822463 10005"],
    }


def test_the_scanner_reads_each_database_value_on_its_own(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "kiosk.sqlite")
    db.execute("CREATE TABLE t (hash TEXT, note TEXT, n INTEGER)")
    db.execute("INSERT INTO t VALUES (?, ?, ?)", ("4aa7d28f" * 8, TEST_PAN, 378282246310005))
    db.commit()
    db.close()
    # in the page the number runs on from the hash; as a value of its own it is found
    assert scan_files(tmp_path) == {"kiosk.sqlite": [f"t: {TEST_PAN}", "t: 378282246310005"]}


def test_the_scanner_ignores_numbers_that_are_not_card_numbers() -> None:
    assert not luhn_ok("4111111111111112")
    assert card_numbers("card 4111111111111112 declined") == []  # 16 digits, Luhn fails
    assert card_numbers("4111 1111 1111 1112") == []
    assert luhn_ok("411111111117") and card_numbers("411111111117") == []  # 12 digits
    assert luhn_ok("00004111111111111111") and card_numbers("00004111111111111111") == []  # 20
    assert card_numbers("trace 000002 receipt 0002 amount 44.25 at 2026-11-22 08:59:04") == []
    assert card_numbers("Card ************0119") == []
    # a journal row as SQLite stores it: id, time and hash run together; none is a number
    row = "6206fe82-27f1-4f84-89bc-982598636125" + "2026-11-22T09:05:44Z" + "4aa7d28f" * 8
    assert card_numbers(row + "2026-11-22") == []
    assert card_numbers(row + TEST_PAN) == []  # blanked with the hash: scan_database's job
    assert card_numbers("{" + TEST_PAN + "}") == [TEST_PAN]
    # seen in a WAL page: an id's tail, a dash, an account number; Luhn-valid by chance
    assert luhn_ok("83284100200302") and card_numbers("8328-4100200302") == []


# ---------------------------------------------------------------------------- the kiosk run


class Running:
    def __init__(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk
        self.latest: Snapshot = kiosk.engine.snapshot
        self.changed = threading.Condition()
        kiosk.engine.subscribe(self._seen)
        kiosk.engine.start()

    def _seen(self, snapshot: Snapshot) -> None:
        with self.changed:
            self.latest = snapshot
            self.changed.notify_all()

    def until(self, what: Callable[[Snapshot], bool], timeout: float = 15.0) -> Snapshot:
        with self.changed:
            assert self.changed.wait_for(lambda: what(self.latest), timeout), self.latest
            return self.latest

    def at(self, state: State) -> Snapshot:
        return self.until(lambda s: s.state is state)

    def sale(self, card: str) -> Snapshot:
        """One card sale with the terminal's test ``card``; back at idle afterwards."""
        engine = self.kiosk.engine
        self.kiosk.hardware.controls.present_card(card)
        engine.submit(ui.Start("en"))
        self.at(State.FIND_ACCOUNT)
        engine.submit(ui.EnterAccount(ACCOUNT))
        self.at(State.CONFIRM_ACCOUNT)
        engine.submit(ui.ConfirmAccount())
        self.at(State.AMOUNT)
        engine.submit(ui.ChooseAmount(Money(4317)))
        self.at(State.METHOD)
        engine.submit(ui.ChooseMethod("card"))
        self.at(State.CARD)
        done = self.until(
            lambda s: (
                s.state is State.CARD_DECLINED
                or (s.state is State.RECEIPT and s.receipt not in (None, "printing"))
            )
        )
        engine.submit(ui.Cancel() if done.state is State.CARD_DECLINED else ui.Finish())
        self.at(State.IDLE)
        return done


def _log_everything(caplog: pytest.LogCaptureFixture, handler: logging.Handler) -> None:
    """Every logger at DEBUG, into caplog and ``handler``."""
    caplog.set_level(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if not isinstance(logger, logging.Logger):
            continue
        if logger.level not in (logging.NOTSET, logging.DEBUG):
            caplog.set_level(logging.DEBUG, logger=name)
        assert not logger.disabled, name
        if not logger.propagate:
            logger.addHandler(caplog.handler)
            logger.addHandler(handler)


def _unlog(handler: logging.Handler) -> None:
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        if isinstance(logger, logging.Logger) and handler in logger.handlers:
            logger.removeHandler(handler)
    handler.close()


@pytest.fixture
def running(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Running]:
    data = tmp_path / "data"
    data.mkdir()
    handler = logging.FileHandler(data / "kiosk.log", encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for module in DEVICE_MODULES:  # their loggers (and their libraries') exist before the run
        importlib.import_module(module)
    _log_everything(caplog, handler)
    kiosk = build_kiosk(KioskConfig(storage=Storage(data_dir=data)))
    try:
        yield Running(kiosk)
    finally:
        try:
            kiosk.close()
        finally:
            for logger in logging.Logger.manager.loggerDict.values():
                if isinstance(logger, logging.Logger) and caplog.handler in logger.handlers:
                    logger.removeHandler(caplog.handler)
            _unlog(handler)


def _terminal_timing(run: Running, t4: float) -> None:
    """Give up on a silent terminal after ``t4`` s instead of the driver's 180 s.

    ``lose-after-approval`` and ``reboot`` leave the terminal silent mid-sale: the driver
    waits T4 (``Timing.t4``, 180 s by default), aborts, then settles the sale with a status
    query. Shorter here so every test card runs in seconds; nothing else changes.
    """
    terminal: Any = run.kiosk.hardware.ports.terminal
    terminal.timing = dataclasses.replace(terminal.timing, t4=t4, abort_grace=1.0)
    terminal.session.timing = terminal.timing


# the terminal's test card -> what the kiosk must journal for it
OUTCOMES = {
    "approve": E.CARD_SALE_APPROVED,
    "decline": E.CARD_SALE_DECLINED,
    "insufficient": E.CARD_SALE_DECLINED,
    "removed": E.CARD_SALE_DECLINED,
    "cancel": E.CARD_SALE_CANCELLED,
    "slow": E.CARD_SALE_APPROVED,
    "busy": E.CARD_SALE_DECLINED,
    "lose-after-approval": E.CARD_SALE_APPROVED,  # in doubt, then settled by a status query
    "reboot": E.CARD_SALE_DECLINED,  # in doubt, then "not processed"
}


def _outcomes(run: Running) -> list[str]:
    types = set(OUTCOMES.values())
    return [e.type for e in run.kiosk.journal.entries() if e.type in types]


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record captured so far (the kiosk was built in setup), formatted with its
    traceback if any."""
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    return "\n".join(caplog.handler.format(r) for r in records)


def _assert_no_card_numbers(data: Path, caplog: pytest.LogCaptureFixture) -> None:
    files = sorted(str(p.relative_to(data)) for p in data.rglob("*") if p.is_file())
    assert {"journal.sqlite", "kiosk.log"} <= set(files), files
    assert any(f.startswith("devices/receipts/") for f in files), files
    assert (data / "kiosk.log").stat().st_size > 0
    assert caplog.records, "nothing was logged: the scan of the logs would prove nothing"
    assert scan_files(data) == {}
    assert card_numbers(_logged(caplog)) == []


def _scan_running_then_closed(run: Running, caplog: pytest.LogCaptureFixture) -> None:
    """Scan while the kiosk runs (the WAL holds the latest pages), and again once it has
    closed (checkpointed into the database file, logs flushed)."""
    data = run.kiosk.config.storage.resolved_data_dir()
    assert (data / "journal.sqlite-wal").stat().st_size > 0  # scanned this time
    _assert_no_card_numbers(data, caplog)
    run.kiosk.close()
    _assert_no_card_numbers(data, caplog)


def test_no_card_number_after_every_test_card(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    assert set(OUTCOMES) == set(CARDS), "a test card this test does not know"
    _terminal_timing(running, t4=3.0)
    for card, outcome in OUTCOMES.items():
        running.sale(card)
        assert _outcomes(running)[-1] == outcome, card
    emulator: Any = running.kiosk.hardware.controls.emulators["card-terminal"]
    assert emulator.counters()["approvals"] == 3
    payments = [e for e in running.kiosk.journal.entries() if e.type == E.PAYMENT_COMPLETED]
    assert len(payments) == 3
    assert all(p.payload["card"]["last4"] == "0119" for p in payments)
    assert running.kiosk.journal.verify().ok
    _scan_running_then_closed(running, caplog)


def _leaky_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal configured to hand out card data (some can be): the full PAN in BMP 22,
    track 2 (BMP 23), a CVV (BMP 3A), and the full number on its receipt lines."""
    status_fields = ZvtEmulator._status_fields
    receipt_lines = ZvtEmulator._receipt_lines

    def leaky_fields(self: ZvtEmulator, entry: Entry) -> bytes:
        fields = status_fields(self, entry)
        masked = bmp.masked_pan("*" * 12 + self.last4)
        full = bmp.llvar(bmp.PAN, bytes.fromhex(TEST_PAN))
        track2 = bmp.llvar(0x23, bytes.fromhex(TEST_PAN + "d2512101123456789f"))
        return fields.replace(masked, full) + track2 + bmp.fixed(0x3A, bytes.fromhex("0123"))

    def leaky_lines(self: ZvtEmulator, entry: Entry) -> list[str]:
        lines = receipt_lines(self, entry)
        return [*lines, f"PAN {TEST_PAN}", "Card 4111 1111 1111 1111"]

    monkeypatch.setattr(ZvtEmulator, "_status_fields", leaky_fields)
    monkeypatch.setattr(ZvtEmulator, "_receipt_lines", leaky_lines)


def _card_line_with_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    receipt_lines = ZvtEmulator._receipt_lines

    def lines(self: ZvtEmulator, entry: Entry) -> list[str]:
        return [*receipt_lines(self, entry), f"Card {TEST_PAN} 12/25"]

    monkeypatch.setattr(ZvtEmulator, "_receipt_lines", lines)


def test_a_terminal_that_sends_the_card_number_leaves_none_behind(
    monkeypatch: pytest.MonkeyPatch, running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    _leaky_terminal(monkeypatch)
    running.sale("approve")
    running.sale("decline")
    assert _outcomes(running) == [E.CARD_SALE_APPROVED, E.CARD_SALE_DECLINED]
    [payment] = [e for e in running.kiosk.journal.entries() if e.type == E.PAYMENT_COMPLETED]
    assert payment.payload["card"]["last4"] == "1111"  # the driver kept the last four only
    assert "unmasked card number" in caplog.text  # and said so
    _scan_running_then_closed(running, caplog)


def test_a_card_number_printed_next_to_the_expiry_is_masked(
    monkeypatch: pytest.MonkeyPatch, running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    _card_line_with_expiry(monkeypatch)
    running.sale("approve")
    _scan_running_then_closed(running, caplog)


# ---------------------------------------------------------------------------- collection slips


def test_a_collection_slip_carries_and_prints_no_card_data(tmp_path: Path) -> None:
    """A slip has card counts and totals, never a card: no field could hold one, and what the
    printer puts on paper (its text and picture, as the demo keeps them) scans clean."""
    from devices.emulators.escpos_emulator import EscposEmulator, sample_slips
    from devices.escpos.layout import receipt_bytes
    from kiosk.ports import CollectionSlip

    names = {f.name for f in dataclasses.fields(CollectionSlip)}
    assert not {n for n in names if any(w in n for w in ("pan", "last4", "track", "cvv", "auth"))}
    printer = EscposEmulator(out_dir=tmp_path)
    for slip in sample_slips().values():
        printer.feed(receipt_bytes(slip))
    assert len(list(tmp_path.glob("receipt-*.png"))) == 2
    assert len(list(tmp_path.glob("receipt-*.txt"))) == 2
    assert scan_files(tmp_path) == {}
