"""``kiosk demo`` on a machine with no display says so at once, and how to run it, instead of
opening a window no one can see; the headless ways (a script, or the off-screen driver asked
for by name, as the tests do) are left as they are."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from composition.commands.demo_cmd import no_display

ROOT = Path(__file__).resolve().parents[2]


def test_what_counts_as_no_display() -> None:
    assert no_display({}, "linux")
    assert no_display({"DISPLAY": ""}, "linux")
    assert not no_display({"DISPLAY": ":0"}, "linux")
    assert not no_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not no_display({"SDL_VIDEODRIVER": "offscreen"}, "linux")  # asked for by name
    assert not no_display({}, "darwin")


def test_the_demo_window_without_a_display_says_how_to_run_it(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")
    }
    env["KIVY_NO_ARGS"] = "1"
    argv = [sys.executable, "-m", "composition.cli", "demo", "--data-dir", str(tmp_path / "d")]
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "no display found" in proc.stderr
    assert "xvfb-run" in proc.stderr and "--script" in proc.stderr
    assert "SDL_VIDEODRIVER=offscreen" in proc.stderr
    assert not (tmp_path / "d").exists()  # said before any hub or data directory was made
