"""The speech port: a speaker that never blocks its caller and lets a new utterance interrupt
the old, espeak-ng writing real WAV files (checked with sox), and the headphone jack."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from kiosk.speech import EmulatedJack, NullVoice, Speaker, Utterance
from kiosk.speech.espeak import EspeakNg, WavRecorder

WAIT = 30.0  # a generous bound for a loaded machine; the tests wait for events, not time


class HeldVoice:
    """Says each utterance until it is stopped: every utterance is interrupted or held."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.ended: list[tuple[str, bool]] = []  # (text, interrupted)
        self.speaking = threading.Event()
        self.release = threading.Event()

    def speak(self, utterance: Utterance, stop: threading.Event) -> None:
        self.started.append(utterance.text)
        self.speaking.set()
        while not stop.wait(0.01):
            if self.release.is_set():
                self.ended.append((utterance.text, False))
                return
        self.ended.append((utterance.text, True))


def test_saying_returns_at_once_and_a_new_utterance_interrupts_the_old() -> None:
    voice = HeldVoice()
    speaker = Speaker(voice)
    try:
        speaker.say(Utterance("first screen", "en"))  # the voice never ends it by itself
        assert voice.speaking.wait(WAIT)
        assert not speaker.idle()
        voice.speaking.clear()
        speaker.say(Utterance("queued", "en"), interrupt=False)
        speaker.say(Utterance("a key was pressed", "en"))  # drops "queued", stops "first"
        assert voice.speaking.wait(WAIT)
        voice.release.set()
        assert speaker.wait_idle(WAIT)
    finally:
        speaker.close()
    assert voice.started == ["first screen", "a key was pressed"]
    assert voice.ended == [("first screen", True), ("a key was pressed", False)]


def test_queued_utterances_are_said_in_turn_and_close_can_finish_them() -> None:
    said: list[str] = []

    class Quick:
        def speak(self, utterance: Utterance, stop: threading.Event) -> None:
            said.append(utterance.text)

    speaker = Speaker(Quick())
    for text in ("one", "two", "three"):
        speaker.say(Utterance(text, "en"), interrupt=False)
    speaker.close(finish=True)
    assert said == ["one", "two", "three"]


def test_a_failing_voice_does_not_end_speech() -> None:
    said: list[str] = []

    class Flaky:
        def speak(self, utterance: Utterance, stop: threading.Event) -> None:
            if utterance.text == "boom":
                raise RuntimeError("sound card gone")
            said.append(utterance.text)

    speaker = Speaker(Flaky())
    speaker.say(Utterance("boom", "en"), interrupt=False)
    speaker.say(Utterance("still here", "en"), interrupt=False)
    speaker.close(finish=True)
    assert said == ["still here"]


def test_the_null_voice_and_a_missing_espeak_say_nothing_and_do_not_raise() -> None:
    NullVoice().speak(Utterance("x", "en"), threading.Event())
    EspeakNg(command="/nonexistent/espeak-ng").speak(Utterance("x", "en"), threading.Event())


def needs(program: str) -> None:
    if shutil.which(program) is None:
        pytest.fail(f"{program} is not installed: `make setup` as root installs it")


def sox_stat(wav: Path) -> tuple[float, float]:
    """(length in seconds, RMS amplitude) as ``sox FILE -n stat`` reports them."""
    proc = subprocess.run(["sox", str(wav), "-n", "stat"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    length = re.search(r"Length \(seconds\):\s+([\d.]+)", proc.stderr)
    rms = re.search(r"RMS\s+amplitude:\s+([\d.]+)", proc.stderr)
    assert length and rms, proc.stderr
    return float(length.group(1)), float(rms.group(1))


def length_fits(text: str, rate: int, seconds: float) -> bool:
    """Whether ``seconds`` of speech can be ``text`` said at ``rate`` words per minute: at
    least the words at that rate, at most four times as long (an amount such as "$43.17" is
    said in six words, a stop is a pause) and a second of silence around it."""
    words = len(text.split()) * 60.0 / rate
    return 0.8 * words <= seconds <= 4 * words + 1.0


def test_espeak_writes_a_wav_of_the_right_length_per_utterance_in_each_language(
    tmp_path: Path,
) -> None:
    needs("espeak-ng")
    needs("sox")
    recorder = WavRecorder(tmp_path)
    english = "Insert your bills. Amount to pay: $43.17. Inserted: $20.00."
    spanish = "Inserte sus billetes. Monto a pagar: $43.17. Insertado: $20.00."
    for utterance in (
        Utterance(english, "en", 160),
        Utterance(spanish, "es", 160),
        Utterance(english, "en", 110),
    ):
        recorder.speak(utterance, threading.Event())
    assert [r.said for r in recorder.recorded] == [True, True, True]
    assert [r.wav.name for r in recorder.recorded] == ["001-en.wav", "002-es.wav", "003-en.wav"]
    stats = [sox_stat(r.wav) for r in recorder.recorded]
    for (length, rms), recorded in zip(stats, recorder.recorded, strict=True):
        said = recorded.utterance
        assert length_fits(said.text, said.rate, length), (recorded, length)
        assert rms > 0.01, f"{recorded.wav.name} is silent (RMS {rms})"
    assert 1.3 < stats[2][0] / stats[0][0] < 1.7  # 110 words a minute against 160


def test_an_utterance_stopped_before_it_starts_writes_nothing(tmp_path: Path) -> None:
    stop = threading.Event()
    stop.set()
    recorder = WavRecorder(tmp_path)
    recorder.speak(Utterance("never said", "en"), stop)
    assert [r.said for r in recorder.recorded] == [False]
    assert not recorder.recorded[0].wav.exists()


def test_the_jack_tells_its_listeners_of_each_change_only() -> None:
    jack = EmulatedJack()
    heard: list[bool] = []
    jack.watch(heard.append)
    jack.set(True)
    jack.set(True)
    jack.set(False)
    assert heard == [True, False]
    assert not jack.plugged()


def test_the_linux_headphone_switch_is_read_from_its_input_events(tmp_path: Path) -> None:
    import os
    import queue
    import struct

    from kiosk.speech.jack import EV_SW, SW_HEADPHONE_INSERT, EvdevJack

    device = tmp_path / "event7"
    os.mkfifo(device)
    jack = EvdevJack(device)
    heard: queue.Queue[bool] = queue.Queue()
    jack.watch(heard.put)
    opened = threading.Thread(target=jack.start)  # a FIFO opens once both ends are open
    opened.start()
    with device.open("wb", buffering=0) as kernel:
        opened.join()
        assert not jack.plugged()

        def event(type_: int, code: int, value: int) -> bytes:
            return struct.pack("llHHi", 0, 0, type_, code, value)

        kernel.write(event(EV_SW, SW_HEADPHONE_INSERT, 1) + event(0, 0, 0))
        assert heard.get(timeout=WAIT) is True
        kernel.write(event(EV_SW, 4, 1))  # another switch (line out): not the headphones
        kernel.write(event(EV_SW, SW_HEADPHONE_INSERT, 0))
        assert heard.get(timeout=WAIT) is False
    assert heard.empty() and not jack.plugged()
