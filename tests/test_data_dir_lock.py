"""One kiosk per data directory, through the ``kiosk`` commands: a running kiosk (a real
process) makes every command that would build a kiosk or write its journal refuse, naming
it; the read-only ones still run; a kiosk killed outright leaves the directory usable; the
demo, which takes the lock before its hub and hands it to its kiosk, takes it once."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from composition.cli import main
from tests.screens.test_demo_hub import kiosk_cli as kiosk
from tests.store.test_lock import holding

ROOT = Path(__file__).resolve().parents[1]

RUNNING = """
import sys
from pathlib import Path
from composition.wiring import build_kiosk
from kiosk.config import KioskConfig, Storage, Devices
devices = Devices(bill_acceptor="simulated", card_terminal="simulated",
                  receipt_printer="simulated", barcode_scanner="simulated")
kiosk = build_kiosk(KioskConfig(storage=Storage(data_dir=Path(sys.argv[1])), devices=devices))
kiosk.engine.start()
print("running", flush=True)
sys.stdin.read()
kiosk.close()
"""


@pytest.fixture
def running(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A kiosk on simulated devices in another process, until its stdin closes."""
    with holding(RUNNING, tmp_path, "running") as proc:
        yield proc


def test_commands_that_write_are_refused_beside_a_running_kiosk(
    tmp_path: Path, running: subprocess.Popen[str], capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--data-dir", str(tmp_path)]
    holder = f"in use by a running kiosk: pid {running.pid} ("

    second = kiosk("demo", "--no-screens", "--devices", "simulated", *where)
    assert second.returncode == 2
    assert holder in second.stderr and second.stderr.strip().endswith("stop it first")

    assert main(["batch", "close", "--devices", "simulated", "--by", "pat", *where]) == 2
    refused = capsys.readouterr().err
    assert holder in refused
    assert refused.strip().endswith(
        "collect the cash box from the touchscreen's service mode, or stop the kiosk first"
    )
    assert main(["recover", "--devices", "simulated", *where]) == 2
    assert holder in capsys.readouterr().err
    assert main(["journal", "rebuild", *where]) == 2
    assert holder in capsys.readouterr().err

    # reading goes on beside it
    assert main(["journal", "verify", *where]) == 0
    assert "journal OK" in capsys.readouterr().out
    assert main(["batch", "show", *where]) == 0
    assert "batch " in capsys.readouterr().out

    # once it stops, the same command runs
    assert running.stdin is not None
    running.stdin.close()
    assert running.wait(timeout=30) == 0
    assert main(["batch", "close", "--devices", "simulated", "--by", "pat", *where]) == 0
    assert "batch closed" in capsys.readouterr().out


def test_a_kiosk_killed_outright_leaves_the_directory_usable(
    tmp_path: Path, running: subprocess.Popen[str], capsys: pytest.CaptureFixture[str]
) -> None:
    running.send_signal(signal.SIGKILL)
    assert running.wait(timeout=10) == -signal.SIGKILL
    assert main(["recover", "--devices", "simulated", "--data-dir", str(tmp_path)]) == 0
    assert "kiosk " in capsys.readouterr().out
