"""The printer emulator's interpreter, status answers, controls and pictures (no driver here)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from devices.emulators.escpos_emulator import INVALID_STATUS, EscposEmulator, sample_receipts
from devices.emulators.escpos_render import Interpreter, Page, QrSymbol, TextLine, render_image
from devices.escpos.driver import health_of
from devices.escpos.layout import receipt_bytes
from devices.escpos.status import ALL_KINDS, StatusKind, parse_reply, status_from_replies
from kiosk.ports import DeviceHealth, Health

SAMPLES = sample_receipts()


class Recorder:
    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.pages: list[Page] = []

    def interpreter(self) -> Interpreter:
        return Interpreter(on_status=self.statuses.append, on_cut=self.pages.append)


def test_text_styles_alignment_and_cut() -> None:
    rec = Recorder()
    it = rec.interpreter()
    it.feed(b"\x1b@\x1ba\x01\x1bE\x01Hello\n\x1bE\x00\x1ba\x00\x1d!\x11Big\nplain\n\x1dV\x01")
    [page] = rec.pages
    lines = [i for i in page.items if isinstance(i, TextLine)]
    assert [line.text for line in lines] == ["Hello", "Big", "plain"]
    assert lines[0].align == "center" and lines[0].spans[0].bold
    assert lines[1].spans[0].width == 2 and lines[1].spans[0].height == 2
    assert lines[2].spans[0].width == 2  # the size stays until it is changed
    assert page.text().splitlines()[0].strip() == "Hello"


def test_commands_split_across_reads_are_put_back_together() -> None:
    data = receipt_bytes(SAMPLES["card-es"])
    whole, pieces = Recorder(), Recorder()
    whole.interpreter().feed(data)
    it = pieces.interpreter()
    for i in range(len(data)):
        it.feed(data[i : i + 1])
    assert it.pending == 0
    assert [p.text() for p in pieces.pages] == [p.text() for p in whole.pages]
    assert len(whole.pages) == 1


def test_real_time_status_requests_are_answered_between_commands() -> None:
    rec = Recorder()
    it = rec.interpreter()
    it.feed(b"abc\x10\x04\x01\x10\x04\x04\x10\x04\x09")
    assert rec.statuses == [1, 4]  # n = 9 is not a status request
    it.feed(b"\x1d(k\x04\x00")  # a command's header, waiting for its body
    it.feed(b"1A2\x00\x10\x04\x02")
    assert rec.statuses == [1, 4, 2]


def test_lines_longer_than_the_paper_wrap_like_a_printer() -> None:
    rec = Recorder()
    it = rec.interpreter()
    it.feed(b"x" * 50 + b"\n" + b"\x1d!\x10" + b"y" * 30 + b"\n\x1dV\x00")
    lines = [i.text for i in rec.pages[0].items if isinstance(i, TextLine)]
    assert lines == ["x" * 42, "x" * 8, "y" * 21, "y" * 9]


def test_unknown_and_image_commands_are_skipped() -> None:
    rec = Recorder()
    it = rec.interpreter()
    image = b"\x1dv0\x00\x02\x00\x02\x00" + b"\xff\x00\xff\x00"  # 2 bytes x 2 rows raster
    bit_image = b"\x1b*\x00\x03\x00abc"
    barcode = b"\x1dkE\x05ABCDE" + b"\x1dk\x04XYZ\x00"
    it.feed(b"\x1b\x7f" + image + bit_image + barcode + b"\x1c.\x1bp\x00\x19\xfaok\n\x1dV\x01")
    assert [i.text for i in rec.pages[0].items if isinstance(i, TextLine)] == ["ok"]
    assert it.unknown_commands == 1


def test_code_pages() -> None:
    rec = Recorder()
    it = rec.interpreter()
    it.feed(b"\x1bt\x02Direcci\xa2n \xb5\n\x1bt\x00\xa4\n\x1dV\x01")
    assert rec.pages[0].lines() == ["Dirección Á", "ñ"]


def test_qr_store_and_print() -> None:
    rec = Recorder()
    it = rec.interpreter()
    it.feed(
        b"\x1ba\x01\x1d(k\x03\x001C\x08\x1d(k\x03\x001E1"
        b"\x1d(k\x0e\x001P07K3M-Q9XD-R\x1d(k\x03\x001Q0\x1dV\x01"
    )
    [qr] = [i for i in rec.pages[0].items if isinstance(i, QrSymbol)]
    assert (qr.data, qr.module, qr.ec, qr.align) == ("7K3M-Q9XD-R", 8, "M", "center")


def test_a_huge_declared_length_is_not_waited_for() -> None:
    rec = Recorder()
    it = rec.interpreter()
    it.feed(b"\x1d8L\xff\xff\xff\x7f" + b"ok\n\x1dV\x01")
    assert rec.pages and rec.pages[0].lines() == ["ok"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000), st.integers(1, 64))
def test_random_bytes_never_raise_and_take_bounded_time(data: bytes, piece: int) -> None:
    rec = Recorder()
    it = rec.interpreter()
    started = time.monotonic()
    for i in range(0, len(data), piece):
        it.feed(data[i : i + piece])
    for page in [*rec.pages, it.page]:
        page.text()
    assert time.monotonic() - started < 2.0
    assert it.pending <= len(data)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_corrupted_receipts_never_raise(data: st.DataObject) -> None:
    good = bytearray(receipt_bytes(SAMPLES["cash-es"]))
    for _ in range(data.draw(st.integers(1, 20))):
        position = data.draw(st.integers(0, len(good) - 1))
        good[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(good)))
    printer = EscposEmulator()
    printer.feed(bytes(good[:cut]))
    for receipt in [*printer.receipts, *printer.cut_short]:
        assert isinstance(receipt.text, str)


def test_a_page_of_random_items_still_renders() -> None:
    rec = Recorder()
    it = rec.interpreter()
    it.feed(b"\x1d!\x77W\n\x1b!\x81u\n\x1dB\x01inv\n\x1bM\x01font b\n\x1bd\xff\x1dV\x01")
    image = render_image(rec.pages[0])
    assert image.width == 576


# ----------------------------------------------------------------------------- status answers


def _health(printer: EscposEmulator) -> DeviceHealth:
    replies = {k: bytes((printer.status_byte(k),)) for k in ALL_KINDS}
    return health_of(status_from_replies(replies))


def test_status_bytes_follow_the_state() -> None:
    printer = EscposEmulator()
    assert _health(printer) == DeviceHealth()
    printer.set_paper_low()
    assert _health(printer) == DeviceHealth(Health.DEGRADED, "paper_low")
    printer.run_out_of_paper()
    assert _health(printer) == DeviceHealth(Health.FAULT, "paper_out")
    assert printer.status_byte(StatusKind.PAPER_SENSOR) == 0x7E
    printer.load_paper()
    printer.open_cover()
    assert _health(printer) == DeviceHealth(Health.FAULT, "cover_open")
    printer.close_cover()
    printer.jam_cutter()
    assert _health(printer) == DeviceHealth(Health.FAULT, "cutter_error")
    printer.clear_cutter()
    printer.go_offline()
    assert _health(printer) == DeviceHealth(Health.FAULT, "offline")
    printer.go_online()
    assert _health(printer) == DeviceHealth()
    assert isinstance(parse_reply(StatusKind.PRINTER, bytes((INVALID_STATUS,))), object)


def test_paper_running_out_mid_receipt_cuts_it_short() -> None:
    printer = EscposEmulator()
    printer.paper_out_after(8)
    printer.feed(receipt_bytes(SAMPLES["cash-en"]))
    assert printer.receipts == []
    [short] = printer.cut_short
    assert short.reason == "paper_out" and not short.complete
    assert len([i for i in short.page.items if isinstance(i, TextLine)]) == 8
    assert printer.counters()["receipts_cut_short"] == 1
    printer.load_paper()
    printer.feed(receipt_bytes(SAMPLES["cash-en"]))
    assert printer.counters()["confirmations"] == [SAMPLES["cash-en"].confirmation]


def test_a_jammed_cutter_leaves_the_receipt_uncut() -> None:
    printer = EscposEmulator()
    printer.jam_cutter()
    printer.feed(receipt_bytes(SAMPLES["cash-en"]))
    assert printer.receipts == [] and printer.cut_short[0].reason == "cutter_error"


def test_nothing_is_printed_into_an_empty_printer() -> None:
    printer = EscposEmulator()
    printer.run_out_of_paper()
    printer.feed(receipt_bytes(SAMPLES["cash-en"]))
    assert printer.receipts == [] and printer.cut_short == []


def test_controls_check_their_arguments() -> None:
    printer = EscposEmulator()
    controls = printer.controls()
    for name in ("paper-low", "paper-out", "paper-in", "cover-open", "cover-close"):
        assert name in controls
    for name in ("cutter-error", "unplug", "replug", "offline", "paper-out-after"):
        assert name in controls
    with pytest.raises(ValueError):
        controls["paper-out-after"].handler(["many"])
    with pytest.raises(ValueError):
        controls["paper-low"].handler(["extra"])
    with pytest.raises(ValueError):
        controls["silent"].handler([])
    assert "paper out" in controls["paper-out"].handler([])
    assert "paper out" in controls["status"].handler([])


# ----------------------------------------------------------------------------- pictures


def _png(name: str) -> Image.Image:
    printer = EscposEmulator()
    printer.feed(receipt_bytes(SAMPLES[name]))
    return Image.open(io.BytesIO(printer.receipts[0].png()))


@pytest.mark.parametrize("name", ["cash-en", "card-es"])
def test_the_picture_is_an_80mm_receipt_with_a_readable_qr_code(name: str) -> None:
    image = _png(name)
    assert image.width == 576
    assert 1000 < image.height < 2500
    grey = image.convert("L")
    histogram = grey.histogram()
    assert histogram[255] > 0.8 * sum(histogram)  # white paper
    assert grey.getextrema()[0] == 0  # black print
    import zxingcpp  # a dev dependency: the QR code must really decode

    decoded = [r.text for r in zxingcpp.read_barcodes(grey)]
    assert decoded == [SAMPLES[name].confirmation]


def test_committed_samples_exist() -> None:
    folder = Path(__file__).resolve().parents[2] / "docs" / "receipts"
    for name in SAMPLES:
        with Image.open(folder / f"{name}.png") as image:
            assert image.width == 576


def test_a_long_run_keeps_the_latest_receipts_in_memory_and_counts_them_all(
    tmp_path: Path,
) -> None:
    KEPT_RECEIPTS = 3  # a small memory: the rule is the same at the default 50
    printer = EscposEmulator(out_dir=tmp_path, kept=KEPT_RECEIPTS)
    page = receipt_bytes(SAMPLES["cash-en"])
    for _ in range(KEPT_RECEIPTS + 5):
        printer.feed(page)
    assert len(printer.receipts) == KEPT_RECEIPTS
    assert printer.counters()["receipts_printed"] == KEPT_RECEIPTS + 5
    # on disk, every one, numbered from the first
    assert len(list(tmp_path.glob("receipt-*.png"))) == KEPT_RECEIPTS + 5
    assert (tmp_path / f"receipt-{KEPT_RECEIPTS + 5:04d}.txt").exists()
