"""The layout check finds words drawn over other things or off the window, or broken across
lines between two letters; a row of buttons
is as tall as its tallest button, however late that button grew; a button greyed out keeps
the texture of its words (a new one would stall the software renderer for a frame).

Kivy owns one window per process, so the widgets are built and laid out in a child process
(a bare app with the kiosk's widget rules) that prints what it measured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import json
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.lang import Builder
    from kivy.properties import NumericProperty
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button
    from kivy.uix.floatlayout import FloatLayout
    from kivy.uix.label import Label
    from kivy.uix.widget import Widget

    from screens import layout
    from screens.widgets import KioskButton, Row

    Window.size = (1280, 800)


    class Bare(App):
        text_scale = NumericProperty(1.0)

        def load_kv(self, filename=None):
            return True  # no kv file of its own: the widget rules are loaded in build

        def build(self):
            Builder.load_file("screens/widgets.kv")
            root = FloatLayout()
            # a heading above a row whose button grows after the row was laid out
            self.good = BoxLayout(orientation="vertical", size_hint=(0.5, 1), pos_hint={"x": 0})
            self.good.add_widget(Label(text="Heading", font_size=40))
            self.row = Row()
            self.row.add_widget(Widget())  # a spacer, stretched by the row
            self.button = KioskButton(text="Go")
            self.row.add_widget(self.button)
            self.good.add_widget(self.row)
            # words too big for their box, over a button; and words off the window's edge
            self.bad = BoxLayout(orientation="vertical", size_hint=(0.5, 1), pos_hint={"x": 0.5})
            self.bad.add_widget(Label(text="Too big\\n" * 6, size_hint_y=None, height=20))
            self.bad.add_widget(KioskButton(text="Under it"))
            self.bad.add_widget(Button(text="Squeezed", size_hint=(None, None), size=(40, 40)))
            # a word wider than its line: Kivy breaks it between two letters
            self.bad.add_widget(Label(text="Unbreakable words", text_size=(90, None)))
            self.bad.add_widget(Widget())
            root.add_widget(self.good)
            root.add_widget(self.bad)
            root.add_widget(Label(text="Off the edge", size_hint=(None, None), pos=(1250, 400)))
            # each step a few frames after the last one, starting from the first frame
            # drawn (counted in frames, not seconds: a busy machine has them later, and a
            # layout that follows a change settles in its frame's clock tick)
            self.steps = [self.grow, self.measure, self.finish]
            Window.bind(on_flip=self.first_frame)
            return root

        def first_frame(self, *_args):
            Window.unbind(on_flip=self.first_frame)
            self.after_frames(0)

        def after_frames(self, frames, _dt=0):
            if frames:
                Clock.schedule_once(lambda dt: self.after_frames(frames - 1, dt), 0)
            elif self.steps:
                self.steps.pop(0)(0)
                if self.steps:
                    self.after_frames(3)

        def grow(self, _dt):
            self.first_height = self.row.height
            self.button.min_height = 240

        def measure(self, _dt):
            self.figures = {
                "first_height": self.first_height,
                "row_height": self.row.height,
                "button_height": self.button.height,
                "good": layout.problems([self.good], (1280, 800)),
                "all": layout.problems([self.root], (1280, 800)),
            }
            # grey the button out: its words must not be rendered again, only tinted
            self.renders = 0
            original = type(self.button._label)._render_real

            def counted(label):
                if label is self.button._label:
                    self.renders += 1
                return original(label)

            type(self.button._label)._render_real = counted
            self.ink_before = list(self.button.ink)
            self.button.available = False

        def finish(self, _dt):
            self.figures["renders_when_greyed"] = self.renders
            self.figures["ink_changed"] = list(self.button.ink) != self.ink_before
            print(json.dumps(self.figures))
            self.stop()


    Bare().run()
    """
)


def measured() -> dict[str, Any]:
    env = {**os.environ, "KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_layout_check_row_height_and_a_greyed_button() -> None:
    got = measured()
    # the row followed its button up, and its spacer did not hold it up or push it further
    assert got["first_height"] < 240
    assert got["button_height"] == 240
    assert got["row_height"] == 240
    assert got["good"] == []
    problems = got["all"]
    assert any("Too big" in p and "'Under it'" in p and "overlap" in p for p in problems), got
    assert any("'Off the edge'" in p and "cut off" in p for p in problems), problems
    assert any("Button 'Squeezed' is too small for its words" in p for p in problems), problems
    broken = [p for p in problems if "breaks" in p]
    assert broken and all("'Unbreakable words'" in p for p in broken), problems
    assert not any("breaks 'words'" in p for p in problems), problems  # a whole word is kept
    assert got["ink_changed"] and got["renders_when_greyed"] == 0
    assert not any("'Heading'" in p or "'Go'" in p for p in problems), problems
