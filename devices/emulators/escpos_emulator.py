"""An 80 mm ESC/POS receipt printer on a pseudo-terminal, with paper, a cover and a cutter.

The printer's side of the protocol, byte for byte: it interprets what the driver sends
(:mod:`devices.emulators.escpos_render`), answers ``DLE EOT 1..4`` at once with status
bytes built from its own state, and keeps every receipt it finished (ended by a cut) as text
and as a PNG a person can look at. The operator (tests, ``kiosk emulate``) can take the paper
away, let it run out after so many lines, open the cover, break the cutter, take the printer
offline, or pull the cable; the counters are the hardware's own truth: receipts printed in
full (with the confirmation the emulator read from the QR code), receipts cut short, bytes
received.

When the printer can not print (no paper, cover open, offline, cutter jammed, unplugged) it
drops what it receives, and a receipt that was being printed is counted as cut short: its
paper is in the bin, not in the resident's hand.

``python -m devices.emulators.escpos_emulator --render-samples docs/receipts`` regenerates the
sample receipts and collection slips committed under docs/receipts/.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from devices.emulators.base import Control
from devices.emulators.escpos_render import Interpreter, Item, Page, QrSymbol, TextLine, render_png
from devices.emulators.pty_port import EmulatorLoop, PtyPort
from devices.escpos.status import StatusKind, encode_status
from kiosk.masking import mask_account, mask_address
from kiosk.money import Money
from kiosk.ports import CollectionSlip, Printable, ReceiptContent

INVALID_STATUS = 0xFF
"""What the ``garble`` control answers: a byte that breaks the fixed bits of every status."""
KEPT_RECEIPTS = 50
"""Receipts kept in memory (with an output folder every one is also on disk)."""


@dataclass
class PrintedReceipt:
    """One receipt as it came out of the printer."""

    page: Page
    complete: bool
    reason: str = ""
    _png: bytes | None = field(default=None, repr=False)
    png_path: Path | None = None

    @property
    def text(self) -> str:
        return self.page.text()

    @property
    def qr_data(self) -> list[str]:
        return self.page.qr_data()

    @property
    def confirmation(self) -> str | None:
        """The confirmation as the printer read it: the QR code's data, else the big line."""
        data = self.qr_data
        if data:
            return data[0]
        for item in self.page.items:
            if isinstance(item, TextLine) and any(s.width > 1 for s in item.spans):
                return item.text.strip()
        return None

    def png(self) -> bytes:
        if self._png is None:
            self._png = render_png(self.page)
        return self._png

    def save(self, path: Path, *, with_text: bool = False) -> Path:
        """Write the PNG to ``path`` (and the text beside it, as ``.txt``)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.png())
        if with_text:
            path.with_suffix(".txt").write_text(self.text + "\n", encoding="utf-8")
        self.png_path = path
        return path


class EscposEmulator:
    """Implements :class:`devices.emulators.base.Emulator` for ``receipt_printer``."""

    name = "receipt_printer"

    def __init__(
        self, link: Path | None = None, *, out_dir: Path | None = None, kept: int = KEPT_RECEIPTS
    ) -> None:
        self.port = PtyPort(link)
        self.out_dir = out_dir
        self.kept = kept
        """How many receipts (and how many cut short) stay in memory: a demo runs for days."""
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._loop = EmulatorLoop(self.port, self._from_host, self.name)
        self._interpreter = Interpreter(
            on_status=self._status_request,
            on_cut=self._cut,
            can_print=self._can_print,
            on_printed=self._printed_item,
        )
        # state of the mechanism
        self.paper_low = False
        self.paper_out = False
        self.cover_open = False
        self.cutter_error = False
        self.offline = False
        self.silent = False
        self.garble = False
        self.status_delay = 0.0
        """Seconds before each status answer leaves: a printer busy with a long receipt, or
        a loaded machine, answers late; the answer still says how things stood."""
        self.unplugged = False  # by the operator (the port is also closed before start)
        self._jam_at_next_cut = False
        self._lines_left: int | None = None
        self._unplug_after: int | None = None
        # what came out
        self.receipts: list[PrintedReceipt] = []  # the latest ``kept`` printed in full
        self.cut_short: list[PrintedReceipt] = []  # the latest ``kept`` cut short
        self.printed = 0  # every receipt printed in full since start
        self.printed_short = 0
        self.bytes_received = 0
        self.status_requests = 0

    # ------------------------------------------------------------------ Emulator surface
    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()

    def controls(self) -> dict[str, Control]:
        def simple(help_text: str, action: Callable[[], str]) -> Control:
            def handler(args: list[str]) -> str:
                if args:
                    raise ValueError(f"usage: {help_text.split(':')[0]}")
                return action()

            return Control(help_text, handler)

        return {
            "paper-low": simple("paper-low: the near-end sensor trips", self.set_paper_low),
            "paper-out": simple(
                "paper-out: the roll is empty (a receipt being printed is cut short)",
                self.run_out_of_paper,
            ),
            "paper-out-after": Control(
                "paper-out-after LINES: the roll runs out after LINES more printed lines",
                self._paper_out_after,
            ),
            "paper-in": simple("paper-in: a new roll (clears paper low and out)", self.load_paper),
            "cover-open": simple("cover-open: open the paper cover", self.open_cover),
            "cover-close": simple("cover-close: close the paper cover", self.close_cover),
            "cutter-error": Control(
                "cutter-error [next]: the autocutter jams now, or at its next cut",
                self._cutter_error,
            ),
            "cutter-ok": simple("cutter-ok: clear the cutter jam", self.clear_cutter),
            "offline": simple("offline: the printer goes offline", self.go_offline),
            "online": simple("online: the printer comes back online", self.go_online),
            "silent": Control("silent on|off: stop/resume answering status", self._silent),
            "garble": Control(
                "garble on|off: answer status with bytes that break the fixed bits",
                self._garble,
            ),
            "slow-status": Control(
                "slow-status SECONDS: answer each status request that much later (0: at once)",
                self._slow_status,
            ),
            "unplug": simple("unplug: pull the USB cable (the port vanishes)", self.unplug),
            "unplug-after": Control(
                "unplug-after LINES: pull the cable after LINES more printed lines",
                self._unplug_after_control,
            ),
            "replug": simple("replug: put the cable back (same port path)", self.replug),
            "status": simple("status: show paper, cover, cutter and counters", self.describe),
            "show": simple("show: the text of the last receipt printed in full", self.show_last),
            "save": Control("save DIR: write every finished receipt as PNG and text", self._save),
        }

    def counters(self) -> dict[str, Any]:
        with self._lock:
            return {
                "receipts_printed": self.printed,
                "receipts_cut_short": self.printed_short,
                "confirmations": [r.confirmation for r in self.receipts],
                "bytes_received": self.bytes_received,
                "status_requests": self.status_requests,
                "plugged": self.port.plugged,
            }

    # ------------------------------------------------------------------ controls (also for tests)
    def set_paper_low(self) -> str:
        with self._lock:
            self.paper_low = True
        return "paper near end"

    def run_out_of_paper(self) -> str:
        with self._lock:
            self.paper_out = True
            self.paper_low = True
            self._lines_left = None
            self._stopped("paper_out")
        return "paper out"

    def paper_out_after(self, lines: int) -> str:
        if lines < 0:
            raise ValueError("LINES is 0 or more")
        with self._lock:
            self._lines_left = lines
            if lines == 0:
                self.run_out_of_paper()
        return f"paper runs out after {lines} more lines"

    def load_paper(self) -> str:
        with self._lock:
            self.paper_out = self.paper_low = False
            self._lines_left = None
            self._interpreter.take_page()  # what was printed into an empty path is gone
        return "new paper roll loaded"

    def open_cover(self) -> str:
        with self._lock:
            self.cover_open = True
            self._stopped("cover_open")
        return "cover open"

    def close_cover(self) -> str:
        with self._lock:
            self.cover_open = False
        return "cover closed"

    def jam_cutter(self, at_next_cut: bool = False) -> str:
        """The cutter jams now, or when it next tries to cut (a receipt left hanging)."""
        with self._lock:
            if at_next_cut:
                self._jam_at_next_cut = True
                return "the cutter will jam at the next cut"
            self.cutter_error = True
        return "cutter jammed"

    def clear_cutter(self) -> str:
        with self._lock:
            self.cutter_error = self._jam_at_next_cut = False
        return "cutter cleared"

    def go_offline(self) -> str:
        with self._lock:
            self.offline = True
            self._stopped("offline")
        return "offline"

    def go_online(self) -> str:
        with self._lock:
            self.offline = False
        return "online"

    def unplug(self) -> str:
        with self._lock:
            if not self.port.plugged:
                return "already unplugged"
            self._unplug_after = None
            self.unplugged = True
            self.port.unplug()
            self._stopped("unplugged")
            self._interpreter.reset()
        return f"unplugged: {self.port.path} is gone"

    def unplug_after(self, lines: int) -> str:
        if lines < 0:
            raise ValueError("LINES is 0 or more")
        with self._lock:
            self._unplug_after = lines
            if lines == 0:
                self.unplug()
        return f"the cable comes out after {lines} more lines"

    def replug(self) -> str:
        with self._lock:
            if self.port.plugged:
                return "already plugged in"
            self._interpreter.reset()
            self.unplugged = False
            self.port.replug()
        return f"plugged in again at {self.port.path}"

    def describe(self) -> str:
        with self._lock:
            state = [
                name
                for name, on in (
                    ("paper low", self.paper_low and not self.paper_out),
                    ("paper out", self.paper_out),
                    ("cover open", self.cover_open),
                    ("cutter jammed", self.cutter_error),
                    ("offline", self.offline),
                    ("silent", self.silent),
                    ("garbled status", self.garble),
                    ("unplugged", self.unplugged),
                )
                if on
            ]
            counts = self.counters()
        return (
            f"{', '.join(state) or 'ready'}; printed {counts['receipts_printed']}, "
            f"cut short {counts['receipts_cut_short']}, {counts['bytes_received']} bytes received"
        )

    def show_last(self) -> str:
        with self._lock:
            if not self.receipts:
                return "no receipt printed yet"
            return self.receipts[-1].text

    def _save(self, args: list[str]) -> str:
        if len(args) != 1:
            raise ValueError("usage: save DIR")
        folder = Path(args[0]).expanduser()
        with self._lock:
            receipts = list(self.receipts)
        for number, receipt in enumerate(receipts, start=1):
            receipt.save(folder / f"receipt-{number:04d}.png", with_text=True)
        return f"saved {len(receipts)} receipts in {folder}"

    # ------------------------------------------------------------------ for tests
    def wait_for(self, predicate: Callable[[EscposEmulator], bool], timeout: float) -> bool:
        """Wait until ``predicate(self)`` holds (checked whenever a receipt ends)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.05))
            return True

    def feed(self, data: bytes) -> None:
        """Interpret ``data`` as if it had come over the line (no pty needed)."""
        self._from_host(data)

    # ------------------------------------------------------------------ the mechanism
    def _paper_out_after(self, args: list[str]) -> str:
        return self.paper_out_after(_one_count(args, "paper-out-after LINES"))

    def _unplug_after_control(self, args: list[str]) -> str:
        return self.unplug_after(_one_count(args, "unplug-after LINES"))

    def _cutter_error(self, args: list[str]) -> str:
        if args not in ([], ["next"]):
            raise ValueError("usage: cutter-error [next]")
        return self.jam_cutter(at_next_cut=bool(args))

    def _silent(self, args: list[str]) -> str:
        self.silent = _on_off(args, "silent on|off")
        return f"status answers {'off' if self.silent else 'on'}"

    def _garble(self, args: list[str]) -> str:
        self.garble = _on_off(args, "garble on|off")
        return f"garbled status {'on' if self.garble else 'off'}"

    def _slow_status(self, args: list[str]) -> str:
        try:
            delay = float(args[0]) if len(args) == 1 else -1.0
        except ValueError:
            delay = -1.0
        if not 0.0 <= delay <= 60.0:
            raise ValueError("usage: slow-status SECONDS (0 to 60)")
        self.status_delay = delay
        return f"status answers {delay:g} s late"

    def _from_host(self, data: bytes) -> None:
        with self._lock:
            self.bytes_received += len(data)
            self._interpreter.feed(data)

    def _can_print(self) -> bool:
        return not (
            self.unplugged
            or self.paper_out
            or self.cover_open
            or self.offline
            or self._lines_left == 0
        )

    def _printed_item(self, item: Item) -> None:
        lines = 4 if isinstance(item, QrSymbol) else 1  # a QR code is about four lines tall
        if self._lines_left is not None:
            self._lines_left = max(0, self._lines_left - lines)
            if self._lines_left == 0:
                self.run_out_of_paper()
        if self._unplug_after is not None:
            self._unplug_after = max(0, self._unplug_after - lines)
            if self._unplug_after == 0:
                self.unplug()

    def _stopped(self, reason: str) -> None:
        """Printing stopped: a receipt half out of the printer is counted as cut short."""
        page = self._interpreter.take_page()
        if page.has_content:
            self._short(PrintedReceipt(page, complete=False, reason=reason))
            self._changed.notify_all()

    def _cut(self, page: Page) -> None:
        if self._jam_at_next_cut:
            self._jam_at_next_cut, self.cutter_error = False, True
        if self.cutter_error:
            self._short(PrintedReceipt(page, complete=False, reason="cutter_error"))
        elif page.has_content:
            receipt = PrintedReceipt(page, complete=True)
            self.printed += 1
            self.receipts.append(receipt)
            del self.receipts[: -self.kept]
            if self.out_dir is not None:
                receipt.save(self.out_dir / f"receipt-{self.printed:04d}.png", with_text=True)
        self._changed.notify_all()

    def _short(self, receipt: PrintedReceipt) -> None:
        self.printed_short += 1
        self.cut_short.append(receipt)
        del self.cut_short[: -self.kept]

    def _status_request(self, n: int) -> None:
        self.status_requests += 1
        if self.silent:
            return
        reply = INVALID_STATUS if self.garble else self.status_byte(StatusKind(n))
        if self.status_delay <= 0:
            self.port.write(bytes((reply,)))
            return
        late = threading.Timer(self.status_delay, self._late_reply, (reply,))
        late.daemon = True
        late.start()

    def _late_reply(self, reply: int) -> None:
        with self._lock:
            if self.port.plugged:
                self.port.write(bytes((reply,)))

    def status_byte(self, kind: StatusKind) -> int:
        """The reply to ``DLE EOT kind`` in the present state."""
        stopped = self.paper_out or self.cover_open or self.cutter_error or self.offline
        return encode_status(
            kind,
            offline=stopped,
            cover_open=self.cover_open,
            paper_end_stop=self.paper_out,
            error=self.cutter_error,
            cutter_error=self.cutter_error,
            paper_near_end=self.paper_low or self.paper_out,
            paper_out=self.paper_out,
        )


def _one_count(args: list[str], usage: str) -> int:
    if len(args) != 1 or not args[0].isdigit():
        raise ValueError(f"usage: {usage}")
    return int(args[0])


def _on_off(args: list[str], usage: str) -> bool:
    if args not in (["on"], ["off"]):
        raise ValueError(f"usage: {usage}")
    return args == ["on"]


# ----------------------------------------------------------------------------- samples


def sample_receipts() -> dict[str, ReceiptContent]:
    """Realistic receipts for the committed pictures: account 100200300 at 1234 Oak St."""
    paid_at = datetime(2026, 11, 20, 15, 42, 7, tzinfo=ZoneInfo("America/Chicago"))
    cash = ReceiptContent(
        city="City of Springfield Water",
        location="City Hall, 100 Main St",
        kiosk_id="springfield-city-hall-01",
        paid_at_local=paid_at,
        language="en",
        account_masked=mask_account("100200300"),
        service_address_masked=mask_address("1234 Oak St"),
        amount=Money(4500),
        method="cash",
        fee=Money(0),
        total_charged=Money(4500),
        cash_by_denomination=((Money(500), 1), (Money(2000), 2)),
        card_brand="",
        card_last4="",
        card_auth_code="",
        balance_after=Money(4317 - 4500),
        confirmation="7K3M-Q9XD-R",
        offline=False,
        review=False,
    )
    card = replace(
        cash,
        amount=Money(4317),
        method="card",
        fee=Money(108),
        total_charged=Money(4425),
        cash_by_denomination=(),
        card_brand="VISA",
        card_last4="0119",
        card_auth_code="083215",
        balance_after=Money(0),
        confirmation="4F2H-8WNC-6",
        terminal_lines=("VISA CREDIT  ************0119", "CHIP  AID A0000000031010", "APPROVED"),
    )
    return {
        "cash-en": cash,
        "cash-es": replace(cash, language="es"),
        "card-en": card,
        "card-es": replace(card, language="es"),
    }


def sample_slips() -> dict[str, CollectionSlip]:
    """Collection slips for the committed pictures: agreed in English, not agreed in Spanish."""
    chicago = ZoneInfo("America/Chicago")
    agreed = CollectionSlip(
        city="City of Springfield Water",
        location="City Hall, 100 Main St",
        kiosk_id="springfield-city-hall-01",
        language="en",
        slip_number=3,
        batch_id="B001042",
        collected_at_local=datetime(2026, 11, 20, 16, 5, 31, tzinfo=chicago),
        previous_collected_at_local=datetime(2026, 11, 13, 9, 12, 4, tzinfo=chicago),
        technician="Dana Ruiz",
        cashbox_id="CB-0117",
        seal_number="S-448210",
        bills=(
            (Money(100), 23),
            (Money(500), 14),
            (Money(1000), 9),
            (Money(2000), 31),
            (Money(5000), 2),
            (Money(10000), 1),
        ),
        rejected_bills=4,
        payments=41,
        first_seq=1042,
        last_seq=1187,
        card_count=12,
        card_total=Money(53217),
        terminal_ok=True,
        terminal_count=12,
        terminal_total=Money(53217),
        software_version="0.1.0",
    )
    not_agreed = replace(
        agreed,
        language="es",
        slip_number=4,
        batch_id="B001188",
        collected_at_local=datetime(2026, 11, 27, 15, 48, 10, tzinfo=chicago),
        previous_collected_at_local=agreed.collected_at_local,
        technician="Luis Ortega",
        seal_number="S-448377",
        bills=((Money(100), 17), (Money(500), 8), (Money(2000), 26), (Money(10000), 2)),
        rejected_bills=2,
        payments=33,
        first_seq=1188,
        last_seq=1301,
        card_count=9,
        card_total=Money(41370),
        terminal_count=8,
        terminal_total=Money(36945),
    )
    return {"slip-en": agreed, "slip-es": not_agreed}


def as_the_demo_city_prints(receipt: ReceiptContent) -> ReceiptContent:
    """A sample as the demo's settings print it: where to ask, and a QR code that opens the
    payment's page (the plain samples keep the code to the confirmation number alone)."""
    return replace(
        receipt,
        lookup_link=f"https://pay.example.gov/lookup?c={receipt.confirmation}",
        contact_phone="(555) 010-0100",
        contact_web="springfield.example.gov/pay",
        contact_address="City Hall, 100 Main St",
    )


def render_samples(folder: Path) -> list[Path]:
    """Print each sample through the real layout into an emulator; save what came out."""
    from devices.escpos.layout import receipt_bytes  # the driver's layout, as a host sends it

    samples: dict[str, Printable] = {
        name: as_the_demo_city_prints(receipt) for name, receipt in sample_receipts().items()
    }
    samples |= sample_slips()
    written: list[Path] = []
    for name, content in samples.items():
        printer = EscposEmulator()
        printer.feed(receipt_bytes(content))
        if len(printer.receipts) != 1:
            raise RuntimeError(f"{name}: the emulator did not finish the receipt")
        written.append(printer.receipts[0].save(folder / f"{name}.png"))
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devices.emulators.escpos_emulator",
        description="ESC/POS receipt printer emulator tools",
    )
    parser.add_argument(
        "--render-samples",
        metavar="DIR",
        type=Path,
        help="print the sample receipts (cash/card, en/es) and collection slips, save them as PNG",
    )
    args = parser.parse_args(argv)
    if args.render_samples is None:
        parser.print_help()
        return 2
    for path in render_samples(args.render_samples):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
