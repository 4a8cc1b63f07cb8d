"""What a resident is told before paying when a device is down, on the real screens.

The real app and the real engine (on its thread) run in a child process (Kivy owns one
window per process) on in-memory devices: the card terminal and the receipt printer are
faulted. The resident's Start and the tap on the greyed card button are touches through
the window; the account and amount steps between them are sent to the engine directly (they
are not what is tested here). The child prints what the screens said, whether anything was
drawn over anything else or off the window, and the engine's state after the tap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from tests.screens.test_ui import ROOT

CHILD = textwrap.dedent(
    """
    import json, sys, tempfile, time
    from pathlib import Path
    from screens.runtime import prepare

    home = Path(tempfile.mkdtemp())
    prepare(home / "kivy")

    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.uix.screenmanager import ScreenManager

    from kiosk.config import KioskConfig
    from kiosk.engine import inputs as ui
    from kiosk.engine.machine import PaymentEngine
    from kiosk.engine.states import State
    from kiosk.money import Money
    from kiosk.ports import DeviceHealth, Health
    from kiosk.store.journal import Journal
    from screens import layout
    from screens.app import KioskApp
    from screens.bridge import SnapshotBridge
    from screens.touch import press, release
    from tests.fakes import FakeClock, FakePorts

    language, large = sys.argv[1], sys.argv[2] == "large"
    ports = FakePorts()
    ports.terminal.state = DeviceHealth(Health.FAULT, "disconnected")
    ports.printer.state = DeviceHealth(Health.FAULT, "paper_out")
    clock = FakeClock()
    journal = Journal.open(home / "journal.sqlite", now=clock.now)
    engine = PaymentEngine(KioskConfig(), journal, ports.port_set(), clock)
    engine.start()
    app = KioskApp(SnapshotBridge(engine), large_text=large)
    said = {}


    def problems(name):
        screen = app.screens[name]
        around = [w for w in app.manager.parent.children if not isinstance(w, ScreenManager)]
        return layout.problems([screen, *around], (Window.width, Window.height))


    def tap(widget):
        release(press(widget))


    def on_idle():
        idle = app.screens["idle"]
        said["idle"] = [idle.step_receipt, idle.step_receipt_detail]
        said["idle_problems"] = problems("idle")
        tap(idle.ids["start_" + language])


    def on_method():
        method = app.screens["method"]
        said["method"] = method.notice
        said["buttons"] = [method.ids["cash"].available, method.ids["card"].available]
        said["method_problems"] = problems("method")
        tap(method.ids["card"])


    def after_tap():
        said["after_tap"] = engine.snapshot.state.value
        said["message"] = engine.snapshot.message


    def at(state):
        return lambda shown: shown.state is state


    steps = [
        (at(State.IDLE), lambda: engine.submit(ui.SetLanguage(language))),
        (lambda shown: shown.language == language, on_idle),
        (at(State.FIND_ACCOUNT), lambda: engine.submit(ui.EnterAccount("100200300"))),
        (at(State.CONFIRM_ACCOUNT), lambda: engine.submit(ui.ConfirmAccount())),
        (at(State.AMOUNT), lambda: engine.submit(ui.ChooseAmount(Money(4317)))),
        (at(State.METHOD), on_method),
        (lambda s: s.message != "", after_tap),
    ]
    deadline = time.monotonic() + 60
    settle = [0]


    def tick(_dt):
        if time.monotonic() > deadline:
            said["stuck_at"] = len(steps)
            app.stop()
            return
        shown = app.shown
        if not steps or shown is None or not steps[0][0](shown):
            settle[0] = 0
            if not steps:
                app.stop()
            return
        settle[0] += 1
        if settle[0] < 4:  # a few frames for the screen to lay itself out
            return
        settle[0] = 0
        steps.pop(0)[1]()


    Clock.schedule_interval(tick, 0)
    app.run()
    engine.stop()
    journal.close()
    print(json.dumps(said))
    """
)


def shown(language: str, size: str) -> dict[str, Any]:
    env = {**os.environ, "KIVY_NO_ARGS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, language, size],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "stuck_at" not in result, result
    return result


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("language", "size", "idle", "method"),
    [
        (
            "en",
            "standard",
            "Note your confirmation number",
            [
                "Card payments are not available right now; cash only.",
                "confirmation number on screen instead of a paper receipt",
            ],
        ),
        (
            "es",
            "large",
            "Anote su número de confirmación",
            [
                "Los pagos con tarjeta no están disponibles ahora; solo efectivo.",
                "número de confirmación en la pantalla en lugar de un recibo en papel",
            ],
        ),
    ],
)
def test_a_faulted_printer_and_terminal_are_said_before_paying(
    language: str, size: str, idle: str, method: list[str]
) -> None:
    said = shown(language, size)
    assert said["idle"][0] == idle
    assert said["idle_problems"] == [] and said["method_problems"] == []
    assert all(part in said["method"] for part in method), said["method"]
    assert said["buttons"] == [True, False]  # the card button greyed, cash left to press
    # the greyed button, touched, explains itself and takes no payment
    assert said["after_tap"] == "method" and said["message"] == "card_unavailable"
