"""Figures read off the running app, for ``bench/ui.py`` and the leak test: when frames were
put on the glass and screens switched, how many widgets are alive, how much memory the
process holds.

A screen counts as drawn at the first buffer flip after the switch (the window's
``on_flip``), not when the switch was asked for: that is when a resident could see it.
"""

from __future__ import annotations

import bisect
import gc
import os
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from kivy.uix.widget import Widget

from kiosk.engine.snapshot import Snapshot

if TYPE_CHECKING:
    from screens.app import KioskApp


class FrameLog:
    """Every flip of the window and every switch of screen, on ``time.perf_counter``."""

    def __init__(self, app: KioskApp) -> None:
        from kivy.core.window import Window  # importing it opens the window: only when used

        self._window = Window
        self.app = app
        self.flips: list[float] = []
        self.switches: list[tuple[float, str]] = []
        Window.bind(on_flip=self._flipped)
        app.watch(self._shown)

    def close(self) -> None:
        self._window.unbind(on_flip=self._flipped)
        self.app.unwatch(self._shown)

    def _flipped(self, *_args: object) -> None:
        self.flips.append(time.perf_counter())

    def _shown(self, _snapshot: Snapshot, screen: str) -> None:
        if not self.switches or self.switches[-1][1] != screen:
            self.switches.append((time.perf_counter(), screen))


def next_screen_latencies(
    touches: Sequence[float], switches: Sequence[float], flips: Sequence[float]
) -> list[float]:
    """For each touch that led to another screen before the next touch: seconds from the
    touch to the first flip after that switch. All three sequences are sorted times."""
    return [latency for _, latency in _switches_drawn(touches, switches, flips)]


def next_screen_latencies_by_screen(
    touches: Sequence[float], switches: Sequence[tuple[float, str]], flips: Sequence[float]
) -> dict[str, list[float]]:
    """:func:`next_screen_latencies`, kept apart by the move each touch made ("idle ->
    find_account"), so a slow one shows under its own name instead of in an overall p95."""
    found: dict[str, list[float]] = {}
    for at, latency in _switches_drawn(touches, [t for t, _ in switches], flips):
        came_from = switches[at - 1][1] if at > 0 else "start"
        found.setdefault(f"{came_from} -> {switches[at][1]}", []).append(latency)
    return found


def _switches_drawn(
    touches: Sequence[float], switches: Sequence[float], flips: Sequence[float]
) -> Iterator[tuple[int, float]]:
    """(index of the switch a touch led to, seconds from the touch to its first flip)."""
    for i, touched in enumerate(touches):
        until = touches[i + 1] if i + 1 < len(touches) else float("inf")
        at = bisect.bisect_right(switches, touched)
        if at == len(switches) or switches[at] >= until:
            continue  # this touch changed the screen it was on (a key, a toggle), no switch
        flip = bisect.bisect_right(flips, switches[at])
        if flip < len(flips):
            yield at, flips[flip] - touched


def first_flip_after(touches: Sequence[float], flips: Sequence[float]) -> list[float]:
    """For each touch, seconds to the next frame on the glass: the soonest its feedback (a
    button's pressed colour, a digit) could be seen."""
    found = []
    for touched in touches:
        flip = bisect.bisect_right(flips, touched)
        if flip < len(flips):
            found.append(flips[flip] - touched)
    return found


def live_widgets() -> int:
    """Widgets alive anywhere in the process, after a full collection: one made per session
    and never dropped shows here even if it left the tree."""
    gc.collect()
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), Widget))


def tree_widgets(app: KioskApp) -> int:
    """Widgets in the window's tree plus those of the screens not shown now (a screen
    manager holds only the current one as a child)."""
    count = 0 if app.root is None else sum(1 for _ in app.root.walk())
    current = app.manager.current if app.manager is not None else ""
    for name, screen in app.screens.items():
        if name != current:
            count += sum(1 for _ in screen.walk())
    return count


def rss_bytes() -> int:
    """Resident set size of this process (Linux ``/proc``; 0 where there is none)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return resident_pages * os.sysconf("SC_PAGE_SIZE")
