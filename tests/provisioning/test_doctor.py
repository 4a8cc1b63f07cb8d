"""``kiosk doctor`` against real pieces: a hub in its own process, a journal on disk, an
emulated printer on a pseudo-terminal held by a running kiosk's process, a full disk by
threshold. Each problem on its own line with what to do; exit 1 if there is any."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from composition.cli import main
from contract import entries as E
from devices.emulators.escpos_emulator import EscposEmulator
from kiosk.config import load_config
from kiosk.store.journal import Journal
from kiosk.store.lock import holder
from provisioning.doctor import Limits, check_hub
from provisioning.enroll import enroll
from sync import credentials as creds
from tests.store.test_lock import holding
from tests.sync.hubproc import RunningHub, refused_port, running_hub

ROOMY = ["--min-free-mb", "1", "--min-free-percent", "0"]
SIMULATED = """
[devices]
bill_acceptor = "simulated"
card_terminal = "simulated"
receipt_printer = "simulated"
barcode_scanner = "simulated"
"""

HOLDS_PRINTER = """
import sys, serial
from pathlib import Path
from kiosk.store.lock import DataDirLock
data, port = sys.argv[1].split("|")
DataDirLock(Path(data), command="kiosk run --config /etc/kiosk/kiosk.toml").acquire()
held = serial.Serial(port, exclusive=True)
print("running", flush=True)
sys.stdin.read()
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    with running_hub(tmp_path_factory.mktemp("hub")) as running:
        yield running


def journal_at(data: Path, at: datetime | None = None) -> None:
    """Two entries in a journal, written ``at`` (default now)."""
    moment = at or datetime.now(UTC)
    with Journal.open(data / "journal.sqlite", now=lambda: moment) as journal:
        for _ in range(2):
            journal.append(E.KIOSK_STARTED, {"version": "test", "kiosk_id": "k"})


def config_file(tmp_path: Path, url: str, *, enabled: bool = True, devices: str = "") -> Path:
    path = tmp_path / "kiosk.toml"
    hub = f'[hub]\nurl = "{url}"\nenabled = {str(enabled).lower()}\n'
    path.write_text(hub + (devices or SIMULATED), encoding="utf-8")
    return path


def doctor(config: Path, data: Path, *more: str) -> int:
    return main(["doctor", "--config", str(config), "--data-dir", str(data), *more])


def test_a_sound_kiosk_has_no_problems(
    hub: RunningHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    enroll(hub.url, hub.create_kiosk("doc-ok"), data)
    journal_at(data)
    config = config_file(tmp_path, hub.url)
    assert doctor(config, data, *ROOMY) == 0, capsys.readouterr().out
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"ok       config: {config}: valid"
    assert f"ok       kiosk: no kiosk is running on {data}" in lines
    assert "ok       devices.card_terminal: simulated (no hardware)" in lines
    assert "ok       journal: 2 entries, hash chain sound" in lines
    assert "ok       enrollment: enrolled as doc-ok" in lines
    assert any(line.startswith(f"ok       hub: {hub.url} answers") for line in lines)
    assert any(line.startswith("ok       clock: ") for line in lines)
    assert "ok       sync: 2 entries waiting to be sent, the oldest for 0 min" in lines
    assert lines[-1] == f"doctor: no problems ({len(lines) - 1} checks)"


def test_every_problem_on_its_own_line_with_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    journal_at(data, datetime.now(UTC) - timedelta(hours=2))
    with sqlite3.connect(data / "journal.sqlite") as db:  # someone edits an amount
        db.execute("UPDATE journal SET payload = ? WHERE seq = 1", ('{"version":"x"}',))
    with refused_port() as nobody:
        config = config_file(tmp_path, f"http://127.0.0.1:{nobody}")
        # a disk "full" by threshold: more free space wanted than any disk here has
        assert doctor(config, data, "--min-free-mb", str(10**9)) == 1
    lines = capsys.readouterr().out.splitlines()
    problems = [line for line in lines if line.startswith("PROBLEM")]
    assert all(" -> " in line for line in problems)
    assert {line.split(":")[0].split()[1] for line in problems} == {
        "journal",
        "disk",
        "enrollment",
        "hub",
        "sync",
    }
    assert any(line.startswith("PROBLEM  journal: DAMAGED: entry 1") for line in problems)
    assert any("below 976562.5 GB and 10%" in line for line in problems)
    assert any("PROBLEM  enrollment: this kiosk is not enrolled -> enroll" in p for p in problems)
    assert any(line.startswith("PROBLEM  hub: can not reach") for line in problems)
    assert any("2 entries waiting to be sent, the oldest for 120 min" in p for p in problems)
    assert lines[-1] == f"doctor: 5 problems ({len(lines) - 1} checks)"


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[EscposEmulator]:
    emulator = EscposEmulator(tmp_path / "printer")
    emulator.start()
    yield emulator
    emulator.stop()


def with_printer(tmp_path: Path, printer: EscposEmulator) -> Path:
    """A config with the hub off and the emulated printer on its pty; the rest simulated."""
    devices = SIMULATED.replace(
        'receipt_printer = "simulated"', f'receipt_printer = "{printer.port.path}"'
    )
    return config_file(tmp_path, "http://127.0.0.1:9", enabled=False, devices=devices)


def test_beside_a_running_kiosk_it_reads_and_names_what_the_kiosk_holds(
    tmp_path: Path, printer: EscposEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    journal_at(data)
    config = with_printer(tmp_path, printer)
    with holding(HOLDS_PRINTER, Path(f"{data}|{printer.port.path}"), "running") as kiosk:
        doctor(config, data, *ROOMY)
        lines = capsys.readouterr().out.splitlines()
        running = holder(data)
        assert running is not None and running.pid == kiosk.pid  # doctor took nothing
    assert f"ok       kiosk: a kiosk is running on {data}: pid {kiosk.pid} (kiosk run" in "\n".join(
        lines
    )
    assert (
        f"ok       devices.receipt_printer: {printer.port.path}: held by the running kiosk "
        f"(pid {kiosk.pid})"
    ) in lines
    assert "ok       journal: 2 entries, hash chain sound" in lines


def test_a_printer_nobody_holds_is_probed(
    tmp_path: Path, printer: EscposEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    doctor(with_printer(tmp_path, printer), tmp_path / "data", *ROOMY)
    assert "ok       devices.receipt_printer: ESC/POS receipt_printer found (status: paper ok)" in (
        capsys.readouterr().out.splitlines()
    )


def test_a_config_that_can_not_be_read_stops_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text("[hub]\nenabled = maybe\n", encoding="utf-8")
    assert doctor(config, tmp_path) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"PROBLEM  config: {config}:2:")
    assert lines[-1] == "doctor: the configuration can not be read; nothing else was checked"


def test_a_clock_far_from_the_hubs_is_a_problem(hub: RunningHub, tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path, hub.url))
    found = check_hub(config, tmp_path, Limits(), clock=lambda: time.time() + 600)
    clock = next(f for f in found if f.check == "clock")
    assert not clock.ok
    assert (
        clock.message.startswith("this kiosk's clock is 6")
        and "ahead of the hub's" in clock.message
    )
    assert "NTP" in clock.fix


def test_credentials_the_hub_no_longer_takes_are_a_problem(hub: RunningHub, tmp_path: Path) -> None:
    enroll(hub.url, hub.create_kiosk("doc-a"), tmp_path / "a")
    enroll(hub.url, hub.create_kiosk("doc-b"), tmp_path / "b")
    stored = json.loads(creds.credentials_path(tmp_path / "a").read_text())
    stored["secret"] = creds.load(tmp_path / "b").secret  # not doc-a's secret
    creds.save(tmp_path / "a", creds.Credentials.model_validate(stored))
    config = load_config(config_file(tmp_path, hub.url))
    found = check_hub(config, tmp_path / "a", Limits())
    refused = [f for f in found if f.check == "enrollment" and not f.ok]
    assert refused and refused[0].message.startswith("the hub refuses this kiosk's credentials")
    assert "kiosk provision --force" in refused[0].fix
