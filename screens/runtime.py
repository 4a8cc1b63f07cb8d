"""Kivy's process-wide settings, made before Kivy creates its window.

Kivy reads its environment and configuration once, on first import, and the window's size
and behaviour when :mod:`kivy.core.window` is first imported; so the composition root calls
:func:`prepare` before it imports :mod:`screens.app`. On a kiosk the deployment's Kivy file
(``provisioning/deploy/kivy-kiosk.ini``: full screen, no cursor, Escape does nothing) is
read on top; window close is refused by the app itself.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from screens.theme import DEMO_PANEL_WIDTH, WINDOW_SIZE


def prepare(home: Path, *, kiosk_ini: Path | None = None, demo_panel: bool = False) -> None:
    """Set Kivy up for this process. ``home`` keeps Kivy's own files out of ``~/.kivy``."""
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # the kiosk's argv is the kiosk's
    os.environ.setdefault("KIVY_NO_FILELOG", "1")  # logs go to the journal and journald
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # leave sys.stderr and logging alone
    # SDL would turn SIGTERM into a window-close request, which a kiosk refuses: systemd
    # could then never stop it. The app handles the signals itself (KioskApp.build).
    os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
    os.environ.setdefault("KIVY_HOME", str(home))
    kivy_log = logging.getLogger("kivy")
    kivy_log.setLevel(logging.WARNING)
    kivy_log.addFilter(_QuietKivy())
    from kivy.config import Config

    kivy_log.setLevel(logging.WARNING)

    width, height = WINDOW_SIZE
    if demo_panel:
        width += DEMO_PANEL_WIDTH
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "resizable", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "0")
    if kiosk_ini is not None:
        Config.read(str(kiosk_ini))


class _QuietKivy(logging.Filter):
    """Kivy's start-up chatter that says nothing about the kiosk: no multitouch library
    (libmtdev) on a machine whose touchscreen speaks through SDL anyway, and the note that
    it wrote its configuration file the first time; and its INFO lines."""

    NOISE = ("Input: MTDev is not supported", "Config: Older configuration", "Config: Upgrading")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:  # Kivy sets its own level as it starts
            return False
        return not record.getMessage().startswith(self.NOISE)
