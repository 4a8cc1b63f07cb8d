"""One driver thread: a step run over and over until stopped, a failing step logged, not fatal.

Every driver has a thread that must outlive a bad reply or a bug in one exchange (the engine
waits on what it reports), can be woken early (a command was queued), sleeps in between (a
poll interval, a reconnect interval) and is stopped and joined by ``close``. That loop,
its start/stop/join and its exception logging live here once, after pyserial's
``ReaderThread``; a driver supplies only the step.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Worker:
    """Runs ``step`` on a daemon thread named ``name`` until :meth:`stop`.

    ``finish`` runs once on the thread after the last step (to answer callers still waiting
    on work the thread will not do now). A step that raises is logged with its traceback and
    the loop goes on. A step waits with :meth:`sleep`, which :meth:`wake` and :meth:`stop`
    cut short.
    """

    def __init__(
        self,
        name: str,
        step: Callable[[], None],
        *,
        finish: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self._step = step
        self._finish = finish
        self._running = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True from :meth:`start` until a stop is asked for."""
        return self._running.is_set()

    def start(self) -> None:
        if self._running.is_set():
            return
        self._running.set()
        self._wake.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """End the step's current :meth:`sleep` now (work was queued for it)."""
        self._wake.set()

    def sleep(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; True when woken (or stopped) before that."""
        return self._wake.wait(max(0.0, timeout))

    def request_stop(self) -> None:
        """End the loop after the step under way, without waiting for it."""
        self._running.clear()
        self._wake.set()

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the thread to end; True if it has."""
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop after the step under way and wait up to ``timeout`` s; True if it ended."""
        self.request_stop()
        return self.join(timeout)

    def _run(self) -> None:
        while self._running.is_set():
            self._wake.clear()
            try:
                self._step()
            except Exception:  # one bad step must not end the driver's thread
                log.exception("%s: step failed; the thread goes on", self.name)
        if self._finish is not None:
            try:
                self._finish()
            except Exception:
                log.exception("%s: finishing failed", self.name)
