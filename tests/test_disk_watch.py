"""A disk nearly full puts the kiosk out of service (after the payment under way), in the
journal with its reason, and free space brings it back; an out of service someone else set
is never lifted by the watch. The kiosk is a real one on its simulated devices; the free
space is what the test says it is (filling a real disk is not something a test may do to
the machine it runs on)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from composition.disk_watch import MB, DiskWatch, free_bytes
from composition.wiring import Kiosk, build_kiosk
from contract import entries as E
from kiosk.config import Devices, KioskConfig, Storage
from kiosk.engine import inputs as ui
from kiosk.engine.states import State

SIMULATED = Devices(
    bill_acceptor="simulated",
    card_terminal="simulated",
    receipt_printer="simulated",
    barcode_scanner="simulated",
)


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Kiosk]:
    built = build_kiosk(KioskConfig(storage=Storage(data_dir=tmp_path), devices=SIMULATED))
    yield built
    built.close()


def settle(kiosk: Kiosk) -> State:
    kiosk.engine.pump()
    return kiosk.engine.snapshot.state


def journaled(kiosk: Kiosk, type_: str) -> list[dict[str, object]]:
    return [dict(e.payload) for e in kiosk.journal.entries() if e.type == type_]


def test_out_of_service_when_nearly_full_and_back_with_room(kiosk: Kiosk, tmp_path: Path) -> None:
    free = [500 * MB]
    watch = DiskWatch(kiosk.engine, tmp_path, min_free_mb=200, measure=lambda _p: free[0])
    watch.check()
    assert settle(kiosk) is State.IDLE
    free[0] = 150 * MB
    watch.check()
    assert settle(kiosk) is State.OUT_OF_SERVICE
    [held] = journaled(kiosk, E.OUT_OF_SERVICE)
    assert "disk nearly full (150 MB free)" in str(held["reason"])
    free[0] = 250 * MB  # above the threshold, not yet 1.5 times it: stays out
    watch.check()
    assert settle(kiosk) is State.OUT_OF_SERVICE
    free[0] = 300 * MB
    watch.check()
    assert settle(kiosk) is State.IDLE
    assert len(journaled(kiosk, E.IN_SERVICE)) == 1


def test_a_payment_under_way_finishes_first(kiosk: Kiosk, tmp_path: Path) -> None:
    watch = DiskWatch(kiosk.engine, tmp_path, min_free_mb=200, measure=lambda _p: 10 * MB)
    kiosk.engine.submit(ui.Start("en"))
    assert settle(kiosk) is State.FIND_ACCOUNT
    watch.check()
    assert settle(kiosk) is State.FIND_ACCOUNT, "never in the middle of a resident's payment"
    kiosk.engine.submit(ui.Cancel())
    assert settle(kiosk) is State.OUT_OF_SERVICE


def test_someone_elses_out_of_service_is_left_alone(kiosk: Kiosk, tmp_path: Path) -> None:
    free = [10 * MB]
    watch = DiskWatch(kiosk.engine, tmp_path, min_free_mb=200, measure=lambda _p: free[0])
    kiosk.engine.submit(ui.SetOutOfService("Maintenance"))
    assert settle(kiosk) is State.OUT_OF_SERVICE
    watch.check()
    kiosk.engine.pump()
    free[0] = 10_000 * MB
    watch.check()
    assert settle(kiosk) is State.OUT_OF_SERVICE
    assert kiosk.engine.snapshot.out_of_service_reason == "Maintenance"


def test_the_real_measure_reads_the_file_system(tmp_path: Path) -> None:
    assert free_bytes(tmp_path) > 0
