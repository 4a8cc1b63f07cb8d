"""The resident's touchscreen: one Kivy app that draws whatever the engine says.

Routing is by the snapshot's state alone (:data:`ROUTES`): screens never switch each other,
so what is on the glass is always what the engine is doing. Any touch anywhere is also sent
as :class:`~kiosk.engine.inputs.Touch` first, which keeps the inactivity time-out from
interrupting a resident who is reading.

Screens switch without animation: the next screen is drawn in the frame after the engine
publishes, which is what a resident in a hurry (and ``bench/ui.py``) wants.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager
from kivy.uix.widget import Widget

from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from kiosk.engine.states import State
from screens import widgets  # the kv rules name its classes
from screens.amount import AmountScreen
from screens.audio import AudioMode
from screens.base import KioskScreen
from screens.bridge import SnapshotBridge
from screens.card import CardScreen
from screens.card_declined import CardDeclinedScreen
from screens.cash import CashScreen
from screens.collection import CollectionScreen
from screens.confirm_account import ConfirmAccountScreen
from screens.find_account import FindAccountScreen
from screens.idle import IdleScreen
from screens.method import MethodScreen
from screens.out_of_service import OutOfServiceScreen
from screens.receipt import ReceiptScreen
from screens.service_menu import ServiceMenuScreen
from screens.service_paper import ServicePaperScreen
from screens.service_pin import ServicePinScreen
from screens.service_status import ServiceStatusScreen
from screens.service_tests import ServiceTestsScreen
from screens.still_there import StillThereScreen
from screens.texts import Texts
from screens.theme import LARGE_TEXT_SCALE

HERE = Path(__file__).resolve().parent

ROUTES: dict[State, tuple[str, type[KioskScreen]]] = {
    State.IDLE: ("idle", IdleScreen),
    State.FIND_ACCOUNT: ("find_account", FindAccountScreen),
    State.CONFIRM_ACCOUNT: ("confirm_account", ConfirmAccountScreen),
    State.AMOUNT: ("amount", AmountScreen),
    State.METHOD: ("method", MethodScreen),
    State.CASH: ("cash", CashScreen),
    State.CARD: ("card", CardScreen),
    State.CARD_CHECKING: ("card", CardScreen),  # the terminal's prompt says it is checking
    State.CARD_DECLINED: ("card_declined", CardDeclinedScreen),
    State.RECEIPT: ("receipt", ReceiptScreen),
    State.STILL_THERE: ("still_there", StillThereScreen),
    State.OUT_OF_SERVICE: ("out_of_service", OutOfServiceScreen),
    # the technician's pages (service mode)
    State.SERVICE_PIN: ("service_pin", ServicePinScreen),
    State.SERVICE_MENU: ("service_menu", ServiceMenuScreen),
    State.SERVICE_STATUS: ("service_status", ServiceStatusScreen),
    State.SERVICE_TESTS: ("service_tests", ServiceTestsScreen),
    State.SERVICE_PAPER: ("service_paper", ServicePaperScreen),
    State.COLLECTION: ("collection", CollectionScreen),
}

WaitingCount = Callable[[], int | None]
"""Journal entries not yet acknowledged by the hub; None when the kiosk has no hub."""
Online = Callable[[], bool]
"""Whether the hub answered lately, asked now (not as of the engine's last snapshot, which
is not published again while the kiosk stands idle)."""
LARGE_TEXT_RESET_S = 60.0
"""Large text switched on at the idle screen by someone who then left goes back to standard
after this long without a touch (a session's ends when the session does)."""
Shown = Callable[[Snapshot, str], None]

_kv_loaded = False
__all__ = ["KioskApp", "widgets"]


def load_kv() -> None:
    global _kv_loaded
    if _kv_loaded:
        return
    Builder.load_file(str(HERE / "widgets.kv"))
    for name in screen_names():
        Builder.load_file(str(HERE / f"{name}.kv"))
    Builder.load_file(str(HERE / "demo_panel.kv"))
    Builder.load_file(str(HERE / "app.kv"))
    _kv_loaded = True


class KioskRoot(BoxLayout):
    """The window's content; it hears every touch before the widget under it does."""

    def on_touch_down(self, touch: Any) -> bool:
        App.get_running_app().touched()
        return bool(super().on_touch_down(touch))


class KioskApp(App):
    text_scale = NumericProperty(1.0)
    key_scale = NumericProperty(1.0)
    large_text = BooleanProperty(False)
    language_label = StringProperty("Español")
    larger_label = StringProperty("Larger text")
    status_text = StringProperty("")

    def __init__(
        self,
        bridge: SnapshotBridge,
        *,
        waiting: WaitingCount | None = None,
        online: Online | None = None,
        large_text_reset_s: float = LARGE_TEXT_RESET_S,
        demo_panel: Callable[[], Widget] | None = None,
        kiosk_mode: bool = False,
        large_text: bool = False,
        audio: AudioMode | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.title = "Utility payment kiosk"
        self.bridge = bridge
        self.waiting = waiting
        self.online = online
        self.large_text_reset_s = large_text_reset_s
        self._touched_at = time.monotonic()
        self.demo_panel = demo_panel
        self.kiosk_mode = kiosk_mode
        self.large_text_default = large_text
        self.set_large_text(large_text)
        self.manager: ScreenManager | None = None
        self.screens: dict[str, KioskScreen] = {}
        self.shown: Snapshot | None = None
        self.current_texts = Texts("en")
        self._observers: list[Shown] = []
        self.audio = audio  # speech and the tactile keypad (screens/audio.py)

    # ------------------------------------------------------------------ building
    def build(self) -> KioskRoot:
        load_kv()
        root = KioskRoot()
        manager: ScreenManager = root.ids["manager"]
        manager.transition = NoTransition()
        for name, cls in dict(ROUTES.values()).items():
            screen = cls(name=name)
            self.screens[name] = screen
            manager.add_widget(screen)
        self.manager = manager
        if self.demo_panel is not None:  # built here: its kv rules need the running app
            root.add_widget(self.demo_panel())
        if self.kiosk_mode:
            Window.bind(on_request_close=lambda *_args, **_kw: True)  # no way out by touch
        for number in (signal.SIGTERM, signal.SIGINT):  # systemd stop, Ctrl-C: a clean end
            signal.signal(number, lambda *_args: Clock.schedule_once(lambda _dt: self.stop()))
        Clock.schedule_interval(self._refresh_status, 2.0)
        self.bridge.connect(self.show)
        if self.audio is not None:
            self.audio.attach(self)
        return root

    def watch(self, observer: Shown) -> None:
        """Called with each snapshot after it is on screen, and the screen's name."""
        self._observers.append(observer)

    def unwatch(self, observer: Shown) -> None:
        if observer in self._observers:
            self._observers.remove(observer)

    # ------------------------------------------------------------------ drawing
    def show(self, snapshot: Snapshot) -> None:
        assert self.manager is not None
        texts = Texts(snapshot.language)
        previous = self.shown
        if (
            snapshot.state is State.IDLE
            and previous is not None
            and previous.session_id is not None
            and self.large_text != self.large_text_default
        ):
            self.set_large_text(self.large_text_default)  # as the next resident expects
        self.shown, self.current_texts = snapshot, texts
        self.language_label = "English" if texts.language == "es" else "Español"
        self.larger_label = texts._("Standard text") if self.large_text else texts._("Larger text")
        name, _cls = ROUTES[snapshot.state]
        screen = self.screens[name]
        screen.show(snapshot, texts)
        if self.manager.current != name:
            self.manager.current = name
        self._refresh_status()
        for observer in list(self._observers):
            observer(snapshot, name)

    def redraw(self) -> None:
        if self.shown is not None:
            self.show(self.shown)

    def _refresh_status(self, *_args: object) -> None:
        """The corner mark, in a resident's words: only that the kiosk works without its
        network now, and that payments still count. How many entries wait for the hub, and
        why, is the technician's (the service pages, ``kiosk sync status``)."""
        if self.online is not None:
            offline = not self.online()
        else:
            offline = self.shown.offline if self.shown is not None else False
        self.status_text = (
            self.current_texts._("No network right now: payments are saved and sent later.")
            if offline
            else ""
        )
        self.reset_large_text_if_idle(time.monotonic())

    def reset_large_text_if_idle(self, now: float) -> None:
        """Back to the kiosk's own text size when the idle screen has gone untouched for
        :attr:`large_text_reset_s` (``now`` on ``time.monotonic``)."""
        if (
            self.shown is not None
            and self.shown.state is State.IDLE
            and self.large_text != self.large_text_default
            and now - self._touched_at >= self.large_text_reset_s
        ):
            self.set_large_text(self.large_text_default)
            self.redraw()

    # ------------------------------------------------------------------ input
    def send(self, event: object) -> None:
        self.bridge.send(event)

    def touched(self) -> None:
        self._touched_at = time.monotonic()
        self.bridge.send(ui.Touch())

    def switch_language(self) -> None:
        current = self.shown.language if self.shown is not None else "en"
        self.send(ui.SetLanguage("en" if current == "es" else "es"))

    def toggle_large_text(self) -> None:
        self.set_large_text(not self.large_text)
        self.redraw()

    def set_large_text(self, on: bool) -> None:
        self.large_text = on
        self.text_scale = LARGE_TEXT_SCALE if on else 1.0
        self.key_scale = 1.1 if on else 1.0

    def current_screen(self) -> KioskScreen:
        assert self.manager is not None
        screen: KioskScreen = self.manager.current_screen
        return screen


def screen_names() -> Sequence[str]:
    """Each screen once (two states may share one)."""
    return list(dict(ROUTES.values()))
