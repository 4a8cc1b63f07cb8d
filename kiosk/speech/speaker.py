"""A voice on its own thread: :meth:`Speaker.say` returns at once, and the newest
utterance interrupts whatever is being said (a resident pressing on does not wait for the
old sentence to end)."""

from __future__ import annotations

import logging
import threading
from collections import deque

from kiosk.speech.port import Utterance, Voice

log = logging.getLogger(__name__)


class Speaker:
    def __init__(self, voice: Voice) -> None:
        self.voice = voice
        self._cond = threading.Condition()
        self._pending: deque[Utterance] = deque()
        self._stop = threading.Event()  # set: the utterance being said ends now
        self._speaking = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="speech", daemon=True)
        self._thread.start()

    def say(self, utterance: Utterance, *, interrupt: bool = True) -> None:
        """Say ``utterance`` after what is queued, or (``interrupt``) instead of it all."""
        with self._cond:
            if self._closed:
                return
            if interrupt:
                self._pending.clear()
                self._stop.set()
            self._pending.append(utterance)
            self._cond.notify_all()

    def silence(self) -> None:
        """Stop talking, and forget what was still to be said."""
        with self._cond:
            self._pending.clear()
            self._stop.set()
            self._cond.notify_all()

    def idle(self) -> bool:
        """Nothing being said and nothing waiting."""
        with self._cond:
            return not self._speaking and not self._pending

    def wait_idle(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._speaking and not self._pending, timeout=timeout
            )

    def close(self, *, finish: bool = False) -> None:
        """End the thread: at once, or (``finish``) once what is queued has been said."""
        with self._cond:
            if not finish:
                self._pending.clear()
                self._stop.set()
            self._closed = True
            self._cond.notify_all()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                if not self._pending:
                    return  # closed, nothing left
                utterance = self._pending.popleft()
                self._stop = stop = threading.Event()
                self._speaking = True
            try:
                self.voice.speak(utterance, stop)
            except Exception:  # a broken engine must not end speech for good
                log.exception("speech engine failed on %r", utterance.text)
            finally:
                with self._cond:
                    self._speaking = False
                    self._cond.notify_all()
