"""Plays a scripted session (:mod:`kiosk.demo_scripts`) through the real screens.

Each resident's input in the script becomes touches on the widgets a resident would press
(:meth:`screens.base.KioskScreen.targets`), delivered through the window
(:mod:`screens.touch`); each device step goes to the device emulators' controls, as the demo
panel's buttons do. The player runs inside Kivy's loop, one small step per frame, and waits
for what the *screen* shows, not only for the engine, so a script passes only if the screens
got there. With ``screenshots`` set it saves a PNG of every screen it passes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.screenmanager import ScreenManager
from kivy.uix.widget import Widget

from kiosk.bill_stub import make_stub_code
from kiosk.demo_scripts import (
    STEP_TIMEOUT_S,
    Do,
    Emulate,
    Headphones,
    InsertBill,
    Key,
    Listen,
    Network,
    PresentCard,
    ReprintListed,
    ScanStub,
    Service,
    Step,
    WaitFor,
    WaitForHub,
    hub_problem,
    hub_reached,
    reached,
)
from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from kiosk.engine.states import State
from screens import layout
from screens.app import KioskApp
from screens.keypad import KEYS
from screens.touch import ScreenTouch, press, release


class DeviceControls(Protocol):
    def insert_bill(self, dollars: int) -> None: ...
    def present_card(self, card: str) -> None: ...
    def scan(self, code: str) -> None: ...
    def network(self, online: bool) -> None: ...
    def emulate(self, device: str, control: str) -> None: ...


@dataclass
class PlayResult:
    ok: bool
    problem: str = ""
    screenshots: tuple[Path, ...] = ()
    screens: tuple[str, ...] = ()
    taps: int = 0
    keys: int = 0
    touched_at: tuple[float, ...] = ()
    """When each finger was lifted (``time.perf_counter``): a button acts on release."""


def save_screenshot(path: Path) -> Path:
    """The window as a PNG at exactly ``path`` (Kivy numbers the names it picks itself)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    taken = Window.screenshot(name=str(path.with_suffix("")) + "-tmp.png")
    os.replace(taken, path)
    return path


class ScreenPlayer:
    def __init__(
        self,
        app: KioskApp,
        steps: list[Step],
        controls: DeviceControls,
        *,
        screenshots: Path | None = None,
        prefix: str = "",
        out: Callable[[str], None] = lambda _line: None,
        step_timeout: float = STEP_TIMEOUT_S,
        on_done: Callable[[PlayResult], None] | None = None,
    ) -> None:
        self.app = app
        self.steps = list(steps)
        self.controls = controls
        self.screenshots = screenshots
        self.prefix = prefix
        self.out = out
        self.step_timeout = step_timeout
        self.on_done = on_done
        self.result: PlayResult | None = None
        self._index = 0
        self._step_started = time.monotonic()
        self._taps: list[Widget] = []
        self._finger: ScreenTouch | None = None
        self._lift_at = 0.0  # when the finger down now comes up (a hold keeps it longer)
        self._shots: list[Path] = []
        self._shot_due = 0  # frames until the pending screenshot (the screen must be drawn)
        self._shot_name = ""
        self._shot_version = -1
        self._screens: list[str] = []
        self._tapped = 0
        self._touched_at: list[float] = []
        self._language: str | None = None  # a language the script set, until it is shown
        self._misdrawn: list[str] = []  # what the layout check found on the screens shot
        self._last_do: tuple[int, State] | None = None  # the last touch step, and where
        self._prompt_answered = False  # an unplanned still-there prompt was answered
        self._plugged: bool | None = None  # headphones just put in (True) or out, not yet heard
        self._keys = 0

    def start(self) -> None:
        self.app.watch(self._shown)
        self._event = Clock.schedule_interval(self._tick, 0)

    # ------------------------------------------------------------------ what is on screen
    def _shown(self, snapshot: Snapshot, screen: str) -> None:
        if self.result is not None:
            return
        if not self._screens or self._screens[-1] != screen:
            self._screens.append(screen)
            self._want_shot(screen)

    def _want_shot(self, name: str) -> None:
        if self.screenshots is None:
            return
        version = self.app.shown.version if self.app.shown is not None else -1
        if (name, version) == (self._shot_name, self._shot_version):
            return  # this very picture is taken or about to be
        if self._shot_due:
            self._take_shot(settled=False)
        self._shot_due, self._shot_name, self._shot_version = 2, name, version

    def _take_shot(self, *, settled: bool = True) -> None:
        """``settled``: the screen has had its frames to lay itself out. A picture taken
        sooner (the next switch or the script's end came first) is kept, but its layout is
        not judged: it may be caught half way, as no resident would see it for longer."""
        assert self.screenshots is not None
        number = len(self._shots) + 1
        path = self.screenshots / f"{self.prefix}{number:02d}-{self._shot_name}.png"
        self._shots.append(save_screenshot(path))
        self._shot_due = 0
        manager = self.app.manager
        screen = self.app.screens.get(self._shot_name)
        if settled and manager is not None and screen is not None:
            # the screen in the picture (the next one may already be in the manager, half
            # laid out, when a switch takes the picture) and what the kiosk draws over it
            around = [w for w in manager.parent.children if not isinstance(w, ScreenManager)]
            found = layout.problems([screen, *around], (Window.width, Window.height))
            self._misdrawn.extend(f"{self._shot_name}: {problem}" for problem in found)

    # ------------------------------------------------------------------ one step a frame
    def _tick(self, _dt: float) -> None:
        if self.result is not None:
            return
        if self._shot_due:
            self._shot_due -= 1
            if not self._shot_due:
                self._take_shot()
            return
        if self._finger is not None:  # the finger came down last frame: lift it
            if time.monotonic() < self._lift_at:
                return  # a long press: the finger stays down
            self._touched_at.append(time.perf_counter())
            release(self._finger)
            self._finger = None
            return
        if self._taps:
            widget = self._taps.pop(0)
            if widget.disabled or getattr(widget, "available", True) is False:
                self._finish(f"{self._widget_name(widget)} can not be pressed now")
                return
            self._finger = press(widget)
            self._lift_at = time.monotonic() + held_for(widget)
            self._tapped += 1
            return
        if self._language is not None:
            if self.app.shown is not None and self.app.shown.language == self._language:
                self._language = None
            elif time.monotonic() - self._step_started > self.step_timeout:
                self._finish(f"the screens never turned to {self._language}")
            return
        if self._index >= len(self.steps):
            self._finish("")
            return
        step = self.steps[self._index]
        if not self._screens and not _sets_language(step) and self.app.manager is not None:
            # the screen the script starts on (in its language) is its first picture, so
            # every run of a script names its pictures alike
            shown = self.app.shown
            if shown is not None:
                self._shown(shown, self.app.manager.current)
                return
        if self._answer_unplanned_prompt(step):
            return
        if isinstance(step, WaitFor):
            if reached(self.app.shown, step):
                self._next()
                self._want_shot(step.state.value)
            elif time.monotonic() - self._step_started > self.step_timeout:
                now = self.app.shown.state.value if self.app.shown else "nothing"
                self._finish(f"expected {step.state.value} on screen, the screen shows {now}")
            return
        if isinstance(step, Key | Listen | Headphones):
            self._by_ear(step)
            return
        if isinstance(step, WaitForHub):
            unsent = self.app.waiting() if self.app.waiting is not None else None
            if hub_reached(unsent, step):
                self._next()
            elif unsent is None or time.monotonic() - self._step_started > self.step_timeout:
                self._finish(hub_problem(unsent, step))
            return
        self._perform(step)

    def _answer_unplanned_prompt(self, step: Step) -> bool:
        """ "Are you still there?" where the script does not expect it: the resident answers
        it, and a touch the prompt came in the way of is made again. True: a step of this
        frame's was spent on it.

        The screens' inactivity time-outs run on the wall clock, and a script relies on
        the resident acting within them (``walk_away`` plays with a 2-second one). On a
        busy machine a frame, or the player's wait between steps, can take that long: the
        prompt then comes up before the screen the script waits for, or between a finger
        coming down and lifting. A resident who was slow answers the prompt; so does the
        player. A script that waits for the prompt, or touches it, gets it as before.
        """
        shown = self.app.shown
        if shown is None or shown.state is not State.STILL_THERE:
            if self._prompt_answered and shown is not None:
                self._prompt_answered = False
                if self._last_do is not None and shown.state is self._last_do[1]:
                    self._index = self._last_do[0]  # back where the touch was lost: again
                    self._step_started = time.monotonic()
                    return True
            return False
        if isinstance(step, WaitFor) and step.state is State.STILL_THERE:
            return False
        if isinstance(step, Do) and isinstance(step.event, ui.Touch | ui.Cancel):
            return False
        if not isinstance(step, WaitFor | Do):
            return False
        if self.app.manager is None or self.app.manager.current != State.STILL_THERE.value:
            return True  # the prompt is not drawn yet: wait for it
        self.out('  (the resident answers an "are you still there?" the script did not plan)')
        self._taps = list(self.app.current_screen().targets(ui.Touch()))
        self._prompt_answered = True
        return True

    def _by_ear(self, step: Key | Listen | Headphones) -> None:
        """The audio mode's steps (screens/audio.py): each waits for the speech before it to end."""
        audio = self.app.audio
        if audio is None:
            self._finish("this script needs the audio mode")
            return
        if isinstance(step, Headphones):
            if self._plugged is None:
                self.out(f"  (headphones {'plugged in' if step.plugged else 'pulled out'})")
                self._plugged = step.plugged
                audio.jack.set(step.plugged)  # type: ignore[attr-defined]
            elif audio.on == step.plugged:
                self._plugged = None
                self._next()
            elif time.monotonic() - self._step_started > self.step_timeout:
                self._finish(f"the audio mode did not {'start' if step.plugged else 'end'}")
            return
        if not audio.speaker.idle():
            if time.monotonic() - self._step_started > self.step_timeout:
                self._finish("the kiosk never stopped talking")
            return
        if isinstance(step, Key):
            self.out(f"  (resident presses {step.name})")
            code = next(c for c, name in KEYS.items() if name == step.name)
            Window.dispatch("on_key_down", code, 0, None, [])
            self._keys += 1
        self._next()

    def _perform(self, step: Step) -> None:
        if isinstance(step, ReprintListed):  # the receipts the page lists, all of them
            listed = self.app.shown.unprinted if self.app.shown is not None else ()
            step = Do(ui.Reprint(tuple(r.confirmation for r in listed)))
        if isinstance(step, Do):
            if self.app.shown is not None:
                self._last_do = (self._index, self.app.shown.state)
            screen = self.app.current_screen()
            targets = screen.targets(step.event)
            if not targets:
                self._finish(f"nothing on {screen.name} to say {type(step.event).__name__}")
                return
            self._taps = list(targets)
            self.out(f"  (resident touches {', '.join(self._widget_name(w) for w in targets)})")
        elif isinstance(step, Service):
            self.out(f"  (technician: {type(step.event).__name__})")
            self.app.send(step.event)
            if isinstance(step.event, ui.SetLanguage):
                self._language = step.event.language
        elif isinstance(step, InsertBill):
            self.out(f"  (resident inserts ${step.dollars})")
            self.controls.insert_bill(step.dollars)
        elif isinstance(step, PresentCard):
            self.out(f"  (resident presents a test card: {step.card})")
            self.controls.present_card(step.card)
        elif isinstance(step, ScanStub):
            code = make_stub_code(step.account, step.amount)
            self.out(f"  (resident scans the bill stub: {code})")
            self.controls.scan(code)
        elif isinstance(step, Network):
            self.out(f"  (the network cable is {'plugged in' if step.online else 'pulled'})")
            self.controls.network(step.online)
        elif isinstance(step, Emulate):
            self.out(f"  ({step.device}: {step.control})")
            self.controls.emulate(step.device, step.control)
        self._next()

    def _next(self) -> None:
        self._index += 1
        self._step_started = time.monotonic()

    @staticmethod
    def _widget_name(widget: Widget) -> str:
        text = str(getattr(widget, "text", "") or type(widget).__name__)
        return text.split("\n", 1)[0].replace("[b]", "").strip() or type(widget).__name__

    def _finish(self, problem: str) -> None:
        if self._shot_due:
            self._take_shot(settled=False)
        self._event.cancel()
        self.app.unwatch(self._shown)
        if not problem and self._misdrawn:
            problem = "drawn so it can not be read: " + "; ".join(self._misdrawn)
        self.result = PlayResult(
            ok=not problem,
            problem=problem,
            screenshots=tuple(self._shots),
            screens=tuple(self._screens),
            taps=self._tapped,
            keys=self._keys,
            touched_at=tuple(self._touched_at),
        )
        if self.on_done is not None:
            self.on_done(self.result)


HOLD_MARGIN = 0.5
"""A long press lasts this much longer than the widget asks, so the widget's own timer has
fired, on a busy machine too, before the finger comes up."""


def held_for(widget: Widget) -> float:
    """How long a finger stays on ``widget``: a tap (0: lifted the next frame), or what a
    widget that answers to a long press (``hold_seconds``) needs."""
    hold = float(getattr(widget, "hold_seconds", 0.0) or 0.0)
    return hold + HOLD_MARGIN if hold > 0 else 0.0


def _sets_language(step: Step) -> bool:
    return isinstance(step, Service) and isinstance(step.event, ui.SetLanguage)


@dataclass(frozen=True)
class Script:
    name: str
    steps: list[Step]
    check: Callable[[PlayResult], str]
    """After the script: "" if what happened is what the script expects, else what differs."""
    begin: Callable[[], None] = lambda: None
    """Just before the script's first step (to note where the journal stood, say)."""


def play_in_turn(
    app: KioskApp,
    scripts: list[Script],
    controls: DeviceControls,
    *,
    screenshots: Path | None = None,
    out: Callable[[str], None] = lambda _line: None,
    on_each: Callable[[Script, PlayResult, str], None] | None = None,
    step_timeout: float = STEP_TIMEOUT_S,
) -> None:
    """Play ``scripts`` one after the other once the app runs, then stop the app."""
    queue = list(scripts)

    def next_script(_dt: float = 0.0) -> None:
        if not queue:
            app.stop()
            return
        script = queue.pop(0)

        def done(result: PlayResult) -> None:
            problem = result.problem or script.check(result)
            if on_each is not None:
                on_each(script, result, problem)
            Clock.schedule_once(next_script, 0.2)

        out(f"script {script.name} (on the screens):")
        script.begin()
        ScreenPlayer(
            app,
            script.steps,
            controls,
            screenshots=screenshots,
            prefix=f"{script.name}-",
            out=out,
            on_done=done,
            step_timeout=step_timeout,
        ).start()

    Clock.schedule_once(next_script, 0.5)
