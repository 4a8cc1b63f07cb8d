"""How quickly do the resident's screens start and answer a touch, and do they stay the same
size over hundreds of sessions?

Everything runs as ``kiosk demo --script`` does, on this machine's software renderer: the
real app on the real engine and journal, the real drivers on their device emulators, and
the scripts' inputs as touches through the window (:mod:`screens.player`). Kivy owns one
window per process, so every measurement is a child process of this one; each prints one
JSON line. Prints figures only; asserts nothing.

(a) Cold start: from launching the process to the first frame on the glass with the idle
    screen shown (journal opened, emulators up, recovery run, Kivy started). Baseline: the
    same for a bare Kivy app drawing one label. ``--starts`` runs of each, alternated.
(b) Touch to next screen drawn: from the finger lifting (a button acts on release) to the
    first flip after the screen changed, over ``--transitions`` touches that change screen
    (start, find my account, yes, pay, cash/card, done, ...; the scripts cash, card,
    decline, walk_away and out_of_service in turn). Also the touch to the next frame (the
    button's pressed colour is on it). Baseline: a bare Kivy app whose one button switches
    between two screens, touched the same way.
(c) Leak: ``leak --sessions N`` plays those scripts in turn for N sessions and after each
    counts the widgets alive (after a full collection), the widgets in the window's tree,
    and the process's resident memory. The leak test (tests/screens/test_leak.py) runs it.

    .venv/bin/python bench/ui.py [--starts 5] [--transitions 200] [--quick]
    .venv/bin/python bench/ui.py leak --sessions 500
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path: put the project's root there.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCRIPT_CYCLE = ("cash", "card", "decline", "walk_away", "out_of_service")
SHORT_TIMEOUTS = "[timeouts]\nidle_screen = 2\nstill_there = 30\n"


# ------------------------------------------------------------------------ in the child


def _prepare(folder: Path) -> None:
    from screens import runtime

    runtime.prepare(folder / "kivy")


def _kiosk(folder: Path) -> Any:
    from composition.wiring import build_kiosk
    from kiosk.config import load_config

    config_file = folder / "kiosk.toml"
    config_file.write_text(SHORT_TIMEOUTS + f'[storage]\ndata_dir = "{folder}"\n', "utf-8")
    return build_kiosk(load_config(config_file))


def _emit(figures: dict[str, Any]) -> None:
    print(json.dumps(figures), flush=True)


def child_cold(folder: Path, launched: float, bare: bool) -> None:
    """Stop at the first flip with the idle screen (or the bare label) shown."""
    _prepare(folder)
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.uix.label import Label

    kiosk = None
    app: Any
    if bare:

        class Bare(App):
            def build(self) -> Label:
                return Label(text="Pay your water bill here", font_size=48)

        app = Bare()
    else:
        from screens.app import KioskApp
        from screens.bridge import SnapshotBridge

        kiosk = _kiosk(folder)
        kiosk.engine.start()
        app = KioskApp(SnapshotBridge(kiosk.engine), waiting=kiosk.unsent)

    def ready() -> bool:
        if bare:
            return app.root is not None
        return app.shown is not None and app.manager.current == "idle"

    seen: list[float] = []

    def flipped(*_args: object) -> None:
        if not seen and ready():
            seen.append(time.time())
            Clock.schedule_once(lambda _dt: app.stop(), 0)

    Window.bind(on_flip=flipped)
    app.run()
    if kiosk is not None:
        kiosk.close()
    _emit({"cold_start_s": seen[0] - launched if seen else None})


def _scripts(kiosk: Any, sessions: int, on_session: Callable[[int], None]) -> list[Any]:
    from composition.demo_runner import ScriptFailed, journaled_payment
    from kiosk.demo_scripts import SCRIPTS
    from screens.player import PlayResult, Script

    played = []
    for number in range(sessions):
        name = SCRIPT_CYCLE[number % len(SCRIPT_CYCLE)]
        steps, expect = SCRIPTS[name]
        first = [0]

        def begin(first: list[int] = first) -> None:
            first[0] = kiosk.journal.last_seq()

        def check(
            _result: PlayResult, expect: Any = expect, first: list[int] = first, n: int = number
        ) -> str:
            try:
                journaled_payment(kiosk, first[0], expect)
            except ScriptFailed as exc:
                return str(exc)
            on_session(n + 1)
            return ""

        played.append(Script(name, steps, check, begin))
    return played


def child_kiosk_run(folder: Path, transitions: int, sessions: int) -> None:
    """Play the script cycle: until ``transitions`` screen-changing touches were timed, or
    for ``sessions`` sessions sampling widgets and memory after each."""
    _prepare(folder)
    from kivy.clock import Clock

    from screens import probe
    from screens.app import KioskApp
    from screens.bridge import SnapshotBridge
    from screens.player import PlayResult, Script, play_in_turn

    kiosk = _kiosk(folder)
    kiosk.engine.start()
    app = KioskApp(SnapshotBridge(kiosk.engine), waiting=kiosk.unsent)
    log = probe.FrameLog(app) if transitions else None  # a soak must not grow its own lists
    touches: list[float] = []
    samples: list[list[int]] = []
    failures: list[str] = []

    def sample(session: int) -> None:
        if sessions:
            samples.append(
                [session, probe.live_widgets(), probe.tree_widgets(app), probe.rss_bytes()]
            )

    def each(script: Script, result: PlayResult, problem: str) -> None:
        if problem:
            failures.append(f"{script.name}: {problem}")
            Clock.schedule_once(lambda _dt: app.stop(), 0)
        if log is not None:
            touches.extend(result.touched_at)
            switched = [t for t, _ in log.switches]
            if len(probe.next_screen_latencies(touches, switched, log.flips)) >= transitions:
                Clock.schedule_once(lambda _dt: app.stop(), 0.3)

    count = sessions or 10_000
    play_in_turn(app, _scripts(kiosk, count, sample), kiosk.hardware.controls, on_each=each)
    app.run()
    kiosk.close()
    figures: dict[str, Any] = {"failures": failures, "samples": samples}
    if log is not None:
        switched = [t for t, _ in log.switches]
        latencies = probe.next_screen_latencies(touches, switched, log.flips)[:transitions]
        figures["next_screen_s"] = latencies
        figures["next_frame_s"] = probe.first_flip_after(touches, log.flips)
        figures["by_screen_s"] = probe.next_screen_latencies_by_screen(
            touches, log.switches, log.flips
        )
    _emit(figures)


def child_bare_latency(folder: Path, transitions: int) -> None:
    """The baseline: a bare app, one button per screen, each touch switches screens."""
    _prepare(folder)
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.uix.button import Button
    from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

    from screens import probe
    from screens.touch import press, release

    flips: list[float] = []
    switches: list[float] = []
    touches: list[float] = []

    class Bare(App):
        def build(self) -> ScreenManager:
            manager = ScreenManager(transition=NoTransition())
            for name, other in (("a", "b"), ("b", "a")):
                screen = Screen(name=name)
                button = Button(text=f"Go to {other}", font_size=40)
                button.bind(on_release=lambda _b, other=other: self.switch(other))
                screen.add_widget(button)
                manager.add_widget(screen)
            return manager

        def switch(self, name: str) -> None:
            switches.append(time.perf_counter())
            self.root.current = name

    app = Bare()
    finger: list[Any] = []

    def tick(_dt: float) -> None:
        if len(touches) >= transitions:
            app.stop()
        elif finger:
            touches.append(time.perf_counter())
            release(finger.pop())
        else:
            finger.append(press(app.root.current_screen.children[0]))

    Window.bind(on_flip=lambda *_a: flips.append(time.perf_counter()))
    Clock.schedule_once(lambda _dt: Clock.schedule_interval(tick, 1 / 30), 0.5)
    app.run()
    _emit(
        {
            "next_screen_s": probe.next_screen_latencies(touches, switches, flips),
            "next_frame_s": probe.first_flip_after(touches, flips),
        }
    )


# ------------------------------------------------------------------------ the parent


def _child(*args: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as folder:
        argv = [sys.executable, __file__, "child", "--dir", folder, *args]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"bench child {args} failed:\n{done.stdout}\n{done.stderr}")
    figures: dict[str, Any] = json.loads(lines[-1])
    return figures


def _cold(bare: bool) -> float:
    launched = time.time()
    figures = _child("cold", "--launched", repr(launched), *(["--bare"] if bare else []))
    value = figures["cold_start_s"]
    if value is None:
        raise SystemExit("the first frame was never seen")
    return float(value)


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main_bench(starts: int, transitions: int) -> None:
    print(f"(a) cold start to the idle screen drawn, {starts} starts each, alternated")
    kiosk_starts, bare_starts = [], []
    for _ in range(starts):
        bare_starts.append(_cold(bare=True))
        kiosk_starts.append(_cold(bare=False))
    k, b = statistics.median(kiosk_starts), statistics.median(bare_starts)
    low, high = min(kiosk_starts), max(kiosk_starts)
    print(f"    kiosk   median {k:.2f} s  (min {low:.2f}, max {high:.2f})")
    print(f"    bare    median {b:.2f} s  (a Kivy app drawing one label)")
    print(f"    kiosk/bare {k / b:.2f}")
    print(f"(b) touch to the next screen drawn, {transitions} transitions")
    kiosk = _child("run", "--transitions", str(transitions))
    if kiosk["failures"]:
        raise SystemExit(f"scripts failed: {kiosk['failures']}")
    bare = _child("bare", "--transitions", str(transitions))
    for label, figures in (("kiosk", kiosk), ("bare ", bare)):
        lat, frame = figures["next_screen_s"], figures["next_frame_s"]
        print(
            f"    {label}  next screen p50 {_ms(lat, 0.5):6.1f} ms  p95 {_ms(lat, 0.95):6.1f} ms"
            f"  (n={len(lat)});  next frame p50 {_ms(frame, 0.5):5.1f} ms"
            f"  p95 {_ms(frame, 0.95):5.1f} ms"
        )
    ratio50 = _ms(kiosk["next_screen_s"], 0.5) / _ms(bare["next_screen_s"], 0.5)
    ratio95 = _ms(kiosk["next_screen_s"], 0.95) / _ms(bare["next_screen_s"], 0.95)
    print(f"    kiosk/bare next screen: p50 {ratio50:.2f}, p95 {ratio95:.2f}")
    print("    kiosk, by the move the touch made (slowest p95 first):")
    by_screen: dict[str, list[float]] = kiosk["by_screen_s"]
    for name, values in sorted(by_screen.items(), key=lambda item: -_ms(item[1], 0.95)):
        print(
            f"      {name:34} p50 {_ms(values, 0.5):6.1f} ms  p95 {_ms(values, 0.95):6.1f} ms"
            f"  (n={len(values)})"
        )


def main_leak(sessions: int, as_json: bool) -> None:
    figures = _child("run", "--sessions", str(sessions))
    if as_json:
        print(json.dumps({"failures": figures["failures"], "samples": figures["samples"]}))
        return
    if figures["failures"]:
        raise SystemExit(f"scripts failed: {figures['failures']}")
    samples = figures["samples"]
    print(f"{len(samples)} sessions through every screen ({', '.join(SCRIPT_CYCLE)} in turn)")
    print("  session  live widgets  tree widgets  RSS MiB")
    step = max(1, len(samples) // 10)
    for session, live, tree, rss in samples[::step] + samples[-1:]:
        print(f"  {session:7d}  {live:12d}  {tree:12d}  {rss / 2**20:7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode")
    leak = sub.add_parser("leak")
    leak.add_argument("--sessions", type=int, default=500)
    leak.add_argument("--json", action="store_true")
    child = sub.add_parser("child")
    child.add_argument("kind", choices=["cold", "run", "bare"])
    child.add_argument("--dir", type=Path, required=True)
    child.add_argument("--launched", type=float, default=0.0)
    child.add_argument("--bare", action="store_true")
    child.add_argument("--transitions", type=int, default=0)
    child.add_argument("--sessions", type=int, default=0)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--transitions", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="3 starts, 60 transitions")
    args = parser.parse_args()
    if args.mode == "child":
        if args.kind == "cold":
            child_cold(args.dir, args.launched, args.bare)
        elif args.kind == "run":
            child_kiosk_run(args.dir, args.transitions, args.sessions)
        else:
            child_bare_latency(args.dir, args.transitions)
    elif args.mode == "leak":
        main_leak(args.sessions, args.json)
    elif args.quick:
        main_bench(3, 60)
    else:
        main_bench(args.starts, args.transitions)


if __name__ == "__main__":
    main()
