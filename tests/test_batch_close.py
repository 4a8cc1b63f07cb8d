"""``kiosk batch close`` at collection, in a process of its own after the kiosk that made the
sales: the card terminal still has its open batch (as a real one does across a restart), so
its end of day matches the kiosk's approvals; a terminal total that differs is shown and
makes the command fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from composition.cli import main

ROOT = Path(__file__).resolve().parents[1]


def sale(data: Path, *devices: str, payments: int = 1) -> None:
    """``payments`` card payments of $44.25 (43.17 and the fee) by a `kiosk demo` process
    that then ends."""
    scripts = ["--script", "card"] * payments
    argv = [sys.executable, "-m", "composition.cli", "demo", "--no-screens", *scripts]
    env = {**os.environ, "KIVY_NO_ARGS": "1"}
    done = subprocess.run(
        [*argv, *devices, "--data-dir", str(data)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("paid 43.17 by card") == payments, done.stdout


@pytest.mark.parametrize(
    "devices",
    [
        pytest.param((), id="emulated"),
        # the simulated terminal always kept its batch in a file: `make test-slow`
        pytest.param(("--devices", "simulated"), id="simulated", marks=pytest.mark.slow),
    ],
)
def test_the_end_of_day_counts_sales_made_by_an_earlier_process(
    tmp_path: Path, devices: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    sale(tmp_path, *devices, payments=2)
    assert main(["batch", "close", "--by", "pat", "--data-dir", str(tmp_path), *devices]) == 0
    out = capsys.readouterr().out
    assert "card approvals: 2, total 88.50" in out
    assert "card terminal end of day: 88.50 (matches the kiosk)" in out
    # the terminal's batch is closed too: the next collection starts from nothing
    sale(tmp_path, *devices)
    assert main(["batch", "close", "--by", "pat", "--data-dir", str(tmp_path), *devices]) == 0
    assert "card terminal end of day: 44.25 (matches the kiosk)" in capsys.readouterr().out


def test_a_terminal_total_that_differs_fails_the_close(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sale(tmp_path, "--devices", "simulated")
    # the terminal holds an approval the kiosk never journaled
    state_file = tmp_path / "devices" / "card_terminal.json"
    state = json.loads(state_file.read_text(encoding="utf-8"))
    state["ledger"]["not-from-this-kiosk"] = {"amount": 1000, "status": "approved", "trace": 99}
    state_file.write_text(json.dumps(state), encoding="utf-8")

    argv = ["batch", "close", "--by", "pat", "--devices", "simulated"]
    assert main([*argv, "--data-dir", str(tmp_path)]) == 1
    shown = capsys.readouterr()
    assert "card approvals: 1, total 44.25" in shown.out
    assert "card terminal end of day: 54.25 (DOES NOT MATCH the kiosk)" in shown.out
    assert "batch closed" in shown.out  # closed all the same: the cash box is out
    assert "does not match" in shown.err
