"""espeak-ng (https://github.com/espeak-ng/espeak-ng), run once per utterance.

:class:`EspeakNg` plays through the sound card (the headphones); :class:`WavRecorder` writes
each utterance to a numbered WAV file instead (``espeak-ng -w``) and keeps what it was
asked to say, for the tests and the scripted demo. Either runs espeak-ng as a child process
that is killed when the utterance is interrupted.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.speech.port import Utterance

log = logging.getLogger(__name__)

DEFAULT_VOICES: Mapping[Any, str] = {"en": "en-us", "es": "es-419"}
POLL_S = 0.05
"""How often a running espeak-ng is checked for an interruption."""


class EspeakNg:
    def __init__(
        self, voices: Mapping[Any, str] = DEFAULT_VOICES, *, command: str = "espeak-ng"
    ) -> None:
        self.voices = dict(voices)
        self.command = command
        self._missing_said = False

    def argv(self, utterance: Utterance) -> list[str]:
        voice = str(self.voices.get(utterance.language) or self.voices.get("en") or "en")
        return [self.command, "-v", voice, "-s", str(utterance.rate)]

    def speak(self, utterance: Utterance, stop: threading.Event) -> None:
        self._run(self.argv(utterance), utterance, stop)

    def _run(self, argv: list[str], utterance: Utterance, stop: threading.Event) -> bool:
        """True if espeak-ng ran to its end and said it all."""
        if stop.is_set():
            return False
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            if not self._missing_said:
                log.error("speech: can not run %s (%s); install espeak-ng", argv[0], exc)
                self._missing_said = True
            return False
        assert proc.stdin is not None
        try:
            proc.stdin.write(utterance.text.encode("utf-8"))
            proc.stdin.close()
        except OSError:
            pass  # it died already: its exit status says so below
        while True:
            try:
                proc.wait(timeout=POLL_S)
                break
            except subprocess.TimeoutExpired:
                if stop.is_set():
                    proc.kill()
                    proc.wait()
                    return False
        assert proc.stderr is not None
        errors = proc.stderr.read().decode("utf-8", "replace").strip()
        proc.stderr.close()
        if proc.returncode != 0:
            log.warning("speech: %s exited with %s: %s", argv[0], proc.returncode, errors)
            return False
        return True


@dataclass(frozen=True, slots=True)
class Recorded:
    utterance: Utterance
    wav: Path
    said: bool  # False: interrupted (its file may be short or missing) or failed


class WavRecorder(EspeakNg):
    """Writes ``NNN-<language>.wav`` in ``directory`` for each utterance, and lists them."""

    def __init__(
        self,
        directory: Path,
        voices: Mapping[Any, str] = DEFAULT_VOICES,
        *,
        command: str = "espeak-ng",
    ) -> None:
        super().__init__(voices, command=command)
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.recorded: list[Recorded] = []

    def speak(self, utterance: Utterance, stop: threading.Event) -> None:
        with self._lock:
            number = len(self.recorded) + 1
        wav = self.directory / f"{number:03d}-{utterance.language}.wav"
        said = self._run([*self.argv(utterance), "-w", str(wav)], utterance, stop)
        with self._lock:
            self.recorded.append(Recorded(utterance, wav, said))
