"""The audio mode (ADA 2010 section 707): the screens spoken into headphones, and driven
from the tactile keypad, so a blind resident can pay alone.

It starts when headphones are plugged in or a key of the keypad is pressed. Then every
screen is said as it comes up (:func:`screens.spoken.screen`), each choice as it gets the
focus, and each change as it happens (a bill taken, the card reader's prompt, a message);
the keys move the focus and press the focused control (:mod:`screens.keypad`), exactly as a
finger would. The glass is covered by a privacy notice while it lasts, and account details
and balances are said only when headphones are in. It ends when the headphones come out, or,
started by a key without headphones, when the session does.

Speech goes to a :class:`~kiosk.speech.Speaker` (its own thread): nothing here waits for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.graphics import Color, Rectangle
from kivy.metrics import dp
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.engine.snapshot import Snapshot
from kiosk.engine.states import State
from kiosk.speech import HeadphoneJack, Speaker, Utterance
from kiosk.speech.port import NORMAL_RATE
from screens import keypad, spoken
from screens.texts import Texts

if TYPE_CHECKING:
    from screens.app import KioskApp

SLOW_RATE = 110
LISTENING_S = 5.0
"""How often a kiosk that is talking tells the engine the resident is still there."""


class PrivacyCurtain(Label):
    """Covers the whole window while the audio mode is on: only a notice is shown."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(font_size=dp(34), halign="center", valign="middle", **kwargs)
        with self.canvas.before:
            Color(0, 0, 0, 1)
            self._back = Rectangle(pos=self.pos, size=self.size)
        self.bind(pos=self._fit, size=self._fit)

    def _fit(self, *_args: object) -> None:
        self._back.pos, self._back.size = self.pos, self.size
        self.text_size = (self.width * 0.8, None)

    def on_touch_down(self, touch: Any) -> bool:
        return True  # nothing under the curtain is pressed by a hand that can not see it


class AudioMode:
    def __init__(
        self,
        speaker: Speaker,
        jack: HeadphoneJack,
        *,
        rate: int = NORMAL_RATE,
        slow_rate: int = SLOW_RATE,
    ) -> None:
        self.speaker = speaker
        self.jack = jack
        self.rate, self.slow_rate = rate, slow_rate
        self.on = False
        self.slow = False
        self.transcript: list[tuple[str, str]] = []
        """(language, text) of everything said, in order."""
        self._app: KioskApp | None = None
        self._snapshot: Snapshot | None = None
        self._screen_key: tuple[State, str] | None = None
        self._said: spoken.Said | None = None
        self._ring: list[tuple[spoken.Choice, Widget]] = []
        self._index = 0
        self._by_key = False  # started by a key, not by headphones
        self._curtain: PrivacyCurtain | None = None

    # ------------------------------------------------------------------ wiring
    def attach(self, app: KioskApp) -> None:
        self._app = app
        app.watch(self._shown)
        Window.bind(on_key_down=self._key_down)
        self.jack.watch(lambda plugged: Clock.schedule_once(lambda _dt: self._jack(plugged)))
        if self.jack.plugged():
            Clock.schedule_once(lambda _dt: self._jack(True))
        Clock.schedule_interval(self._listening, LISTENING_S)

    def _listening(self, _dt: float) -> None:
        """A resident listening is not idle: the inactivity time-outs start once the kiosk
        has finished talking (a screen said in full can take half a minute)."""
        if self.on and self._app is not None and not self.speaker.idle():
            self._app.touched()

    def close(self) -> None:
        Window.unbind(on_key_down=self._key_down)
        self.speaker.close()

    @property
    def private(self) -> bool:
        """Account details may be said: they go into headphones only."""
        return self.jack.plugged()

    # ------------------------------------------------------------------ on and off
    def start(self) -> None:
        if self.on or self._app is None:
            return
        self.on = True
        self._curtain = PrivacyCurtain(size=Window.size, pos=(0, 0))
        Window.bind(size=self._fit_curtain)
        Window.add_widget(self._curtain)
        snapshot = self._app.shown
        self._screen_key = None
        if snapshot is not None:
            texts = Texts(snapshot.language)
            self._curtain.text = texts._(spoken.PRIVACY_NOTICE)
            self._new_screen(snapshot, prefix=texts._(spoken.AUDIO_ON))

    def stop(self) -> None:
        if not self.on:
            return
        self.on, self._by_key, self.slow = False, False, False
        self.speaker.silence()
        if self._curtain is not None:
            Window.unbind(size=self._fit_curtain)
            Window.remove_widget(self._curtain)
            self._curtain = None

    def _fit_curtain(self, _window: object, size: tuple[int, int]) -> None:
        if self._curtain is not None:
            self._curtain.size = size

    def _jack(self, plugged: bool) -> None:
        if plugged:
            self._by_key = False
            self.start()
        else:
            self.stop()

    # ------------------------------------------------------------------ what is shown
    def _shown(self, snapshot: Snapshot, _name: str) -> None:
        before, self._snapshot = self._snapshot, snapshot
        if not self.on:
            return
        if snapshot.state is State.IDLE and before is not None and before.session_id is not None:
            self.slow = False  # the next resident hears the kiosk at its own rate
            if self._by_key and not self.jack.plugged():
                self.stop()  # the resident who pressed a key has gone
                return
        if self._curtain is not None:
            self._curtain.text = Texts(snapshot.language)._(spoken.PRIVACY_NOTICE)
        if (snapshot.state, snapshot.language) != self._screen_key:
            self._new_screen(snapshot)
            return
        said = spoken.screen(snapshot)
        if said.choices != (self._said.choices if self._said else ()):
            self._said = said
            self._build_ring(keep=True)
        change = spoken.change(before, snapshot)
        if change:  # after what is being said: the receipt's number is not cut off by "printed"
            self._say(change, interrupt=False)

    def _new_screen(self, snapshot: Snapshot, prefix: str = "") -> None:
        self._screen_key = (snapshot.state, snapshot.language)
        self._said = spoken.screen(snapshot)
        self._build_ring(keep=False)
        self._say(" ".join(p for p in (prefix, self._screen_text(), self._focus_text()) if p))

    def _build_ring(self, *, keep: bool) -> None:
        current = self._ring[self._index][0].control if keep and self._ring else None
        self._ring = []
        assert self._app is not None and self._said is not None
        screen = self._app.current_screen()
        for choice in self._said.choices:
            widget = _widget(screen, choice.control)
            if widget is not None:
                self._ring.append((choice, widget))
        controls = [c.control for c, _w in self._ring]
        self._index = controls.index(current) if current in controls else 0

    # ------------------------------------------------------------------ keys
    def _key_down(
        self, _window: object, key: int, _scancode: object = None, *_args: object
    ) -> bool:
        name = keypad.KEYS.get(key)
        if name is None or self._app is None:
            return False
        self._app.touched()  # a key keeps the session alive as a touch does
        if not self.on:
            self._by_key = True
            self.start()
            return True
        field = bool(self._ring) and self._ring[self._index][0].field
        act = keypad.action(name, on_field=field, typed=field and bool(self._field_value()))
        if act is None:
            self._say(self._texts()._(spoken.HELP))
        elif isinstance(act, keypad.Move):
            if self._ring:
                self._index = (self._index + act.step) % len(self._ring)
            self._say(self._focus_text())
        elif isinstance(act, keypad.Type):
            self._type(act.key)
        else:
            self._simple(act.what)
        return True

    def _simple(self, what: str) -> None:
        texts = self._texts()
        if what == "activate":
            self._activate()
        elif what == "back":
            self._back()
        elif what == "where":
            self._say(self._focus_text())
        elif what == "help":
            self._say(texts._(spoken.HELP) + " " + self._focus_text())
        elif what == "slower":
            self.slow = not self.slow
            self._say(" ".join((self._screen_text(), self._focus_text())))
        else:  # repeat
            self._say(" ".join((self._screen_text(), self._focus_text())))

    def _activate(self) -> None:
        if not self._ring or self._app is None:
            return
        choice, widget = self._ring[self._index]
        if choice.field:
            submit = _widget(self._app.current_screen(), choice.submit)
            if submit is None:
                return
            widget = submit
        if widget.disabled or getattr(widget, "available", True) is False:
            self._say(self._texts()._("Not available now."))
            return
        widget.trigger_action(0)

    def _back(self) -> None:
        assert self._app is not None
        screen = self._app.current_screen()
        for control in ("back", "cancel"):
            widget = _widget(screen, control)
            if widget is not None and not widget.disabled:
                widget.trigger_action(0)
                return
        self._say(self._texts()._("There is no way back from here."))

    def _type(self, key: str) -> None:
        assert self._app is not None
        screen = self._app.current_screen()
        pad = screen.ids.get("keypad")
        texts = self._texts()
        if pad is None or (key == "." and not pad.decimal):
            self._say(texts._("Not available now."))  # an account number has no point
            return
        pad.press(key)
        value = self._field_value()
        if key == "back":
            self._say(texts._("Deleted. Now {value}.").format(value=value or texts._("empty")))
        elif key == ".":
            self._say(texts._("point"))
        else:
            self._say(key)

    def _field_value(self) -> str:
        assert self._app is not None
        screen = self._app.current_screen()
        typed = str(getattr(screen, "typed", ""))
        if self._screen_key is not None and self._screen_key[0] is State.AMOUNT and typed:
            return f"${typed}"
        return " ".join(typed) if typed else ""

    # ------------------------------------------------------------------ saying
    def _texts(self) -> Texts:
        return Texts(self._snapshot.language if self._snapshot is not None else "en")

    def _screen_text(self) -> str:
        """The screen as it is now (said again, it says what changed since)."""
        if self._snapshot is None:
            return ""
        return spoken.screen(self._snapshot).text(self._texts(), private=self.private)

    def _focus_text(self) -> str:
        if not self._ring or self._snapshot is None:
            return ""
        choice = self._ring[self._index][0]
        value = self._field_value() if choice.field else ""
        return spoken.focus(
            choice,
            self._index,
            len(self._ring),
            self._snapshot.language,
            private=self.private,
            value=value,
        )

    def _say(self, text: str, *, interrupt: bool = True) -> None:
        """Say ``text``: at once (a new screen, the answer to a key), or (``interrupt``
        False: a change the resident did not ask for) once what is being said is said."""
        language = self._texts().language
        self.transcript.append((language, text))
        rate = self.slow_rate if self.slow else self.rate
        self.speaker.say(Utterance(text, language, rate), interrupt=interrupt)


def _widget(screen: Widget, control: str) -> Widget | None:
    if control == "top.language":
        top = screen.ids.get("top")
        return top.ids.get("language") if top is not None else None
    widget: Widget | None = screen.ids.get(control)
    if widget is None or widget.opacity == 0:
        return None
    return widget
