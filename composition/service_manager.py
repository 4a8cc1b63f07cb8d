"""``kiosk run`` under systemd (``Type=notify``, ``WatchdogSec=``): ready once the window is
up and the engine turns; alive while both the screen's loop and the engine's thread turn.

The ping is scheduled on Kivy's clock, so a hung screen stops it; it is sent only while the
engine's thread has come round its loop within the watchdog's period, so a hung engine stops
it too. Either way systemd restarts the kiosk, and recovery settles what was under way.
"""

from __future__ import annotations

import logging
from typing import Any

from hub.systemd import Notifier, ping_interval
from kiosk.engine.machine import PaymentEngine

log = logging.getLogger(__name__)


def tell_systemd(app: Any, engine: PaymentEngine, notifier: Notifier | None = None) -> None:
    """Bind ``app``'s start and stop to the notifications (nothing outside systemd)."""
    notifier = notifier or Notifier()
    if not notifier.enabled:
        return
    period = notifier.watchdog_s

    def alive(_dt: float) -> None:
        if period is not None and engine.responsive(within=period):
            notifier.alive()
        else:
            log.error("the payment engine has not turned for %s s: no watchdog ping", period)

    def started(*_args: object) -> None:
        from kivy.clock import Clock

        notifier.ready("taking payments" if engine.running else "started")
        if period is not None:
            Clock.schedule_interval(alive, ping_interval(period))

    app.bind(on_start=started, on_stop=lambda *_args: notifier.stopping())
