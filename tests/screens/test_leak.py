"""Sessions through every screen in one running app: the widgets alive and in the window's
tree stay exactly the same, and the process's memory levels off.

Runs ``bench/ui.py leak`` (the cash, card, decline, walk_away and out_of_service scripts in
turn, by touches through the window, each session's journal checked), which samples after
every session: widgets alive after a full collection, widgets in the tree, resident memory.
The first sessions draw every screen, font and texture for the first time, so they are left
out. Both runs are in the slow suite (``make test-slow``): 10 sessions, and 500 (about 17
minutes).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.screens.test_ui import ROOT

MiB = 2**20


def soak(sessions: int) -> list[list[int]]:
    proc = subprocess.run(
        [sys.executable, "bench/ui.py", "leak", "--sessions", str(sessions), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60 + 10 * sessions,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    figures = json.loads(proc.stdout.splitlines()[-1])
    assert figures["failures"] == []
    samples: list[list[int]] = figures["samples"]
    assert [s[0] for s in samples] == list(range(1, sessions + 1))
    return samples


def widgets_stay_the_same(samples: list[list[int]]) -> None:
    assert len({live for _, live, _, _ in samples}) == 1, samples
    assert len({tree for _, _, tree, _ in samples}) == 1, samples


def slope(points: list[tuple[int, int]]) -> float:
    """Least-squares bytes per session."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)


@pytest.mark.slow  # 30 s of CPU; the quick suite's screen runs check the widget tree each draw
@pytest.mark.timeout(300)  # the child is allowed 60 s and 10 s a session
def test_widgets_and_memory_over_10_sessions() -> None:
    """Two turns of the five scripts; the first turn draws everything for the first time."""
    samples = soak(10)
    settled = samples[5:]
    widgets_stay_the_same(settled)
    assert settled[-1][3] - settled[0][3] < 20 * MiB, samples


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_widgets_and_memory_stay_flat_over_500_sessions() -> None:
    samples = soak(500)
    widgets_stay_the_same(samples[25:])
    second_half = [(s[0], s[3]) for s in samples[250:]]
    assert slope(second_half) < 20 * 1024, f"{slope(second_half):.0f} bytes a session"
    assert max(r for _, r in second_half) - samples[25][3] < 16 * MiB
