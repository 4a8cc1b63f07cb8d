"""The demo on the resident's screens: the window with its side panel, or scripts played
headless through the screens with screenshots.

Kivy is imported only here and only when asked for, after :func:`screens.runtime.prepare`,
so the technician's commands never open a window or pay for Kivy's start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from composition.demo_runner import ScriptFailed, describe, journaled_payment
from composition.wiring import Kiosk, data_dir
from devices.simulated import DEMO_ACCOUNTS
from kiosk.bill_stub import make_stub_code
from kiosk.demo_scripts import SCRIPTS, STEP_TIMEOUT_S, in_language
from kiosk.engine.snapshot import Snapshot
from kiosk.money import Money
from kiosk.speech import EmulatedJack

if TYPE_CHECKING:
    from composition.commands.demo_hub import DemoHub
    from screens.audio import AudioMode
    from screens.demo_panel import DemoAction
    from screens.player import PlayResult

DENOMINATIONS = (1, 5, 10, 20, 50, 100)
log = logging.getLogger(__name__)


def _control(kiosk: Kiosk, device: str, name: str, *args: str) -> Callable[[], object]:
    def run() -> object:
        emulator = kiosk.hardware.controls.emulators.get(device)
        if emulator is None:
            return f"{device} is not emulated here"
        controls = emulator.controls()  # type: ignore[attr-defined]
        return controls[name].handler(list(args))

    return run


def audio_mode(kiosk: Kiosk, speech_dir: Path | None = None) -> AudioMode:
    """Speech and the tactile keypad, as the ``[accessibility]`` settings say: espeak-ng into
    the headphones, or (``speech_dir``) every utterance written to a WAV file there. The
    headphone jack is emulated (the demo panel plugs it in)."""
    from kiosk.speech import HeadphoneJack, NullVoice, Speaker, Voice
    from kiosk.speech.espeak import EspeakNg, WavRecorder
    from kiosk.speech.jack import EvdevJack
    from screens.audio import AudioMode

    settings = kiosk.config.accessibility
    voice: Voice
    if speech_dir is not None:
        voice = WavRecorder(speech_dir, settings.voices, command=settings.command)
    elif settings.enabled:
        voice = EspeakNg(settings.voices, command=settings.command)
    else:
        voice = NullVoice()
    jack: HeadphoneJack = EmulatedJack()
    if settings.headphone_jack and speech_dir is None:
        switch = EvdevJack(Path(settings.headphone_jack))
        try:
            switch.start()
            jack = switch
        except OSError as exc:
            log.error("headphone jack %s: %s; a key starts the audio mode", switch.path, exc)
    return AudioMode(Speaker(voice), jack, rate=settings.rate, slow_rate=settings.slow_rate)


def write_speech(audio: AudioMode, speech_dir: Path) -> None:
    """Once the app has stopped: what was said, in order, and which WAV file says it."""
    from kiosk.speech.espeak import WavRecorder

    audio.speaker.close(finish=True)
    lines = [f"{language}\t{text}" for language, text in audio.transcript]
    (speech_dir / "spoken.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    voice = audio.speaker.voice
    if isinstance(voice, WavRecorder):
        rows = [
            f"{r.wav.name}\t{int(r.said)}\t{r.utterance.rate}\t{r.utterance.text}"
            for r in voice.recorded
        ]
        (speech_dir / "wavs.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def demo_actions(
    kiosk: Kiosk, hub: DemoHub | None = None, audio: AudioMode | None = None
) -> list[DemoAction]:
    from screens.demo_panel import DemoAction

    controls = kiosk.hardware.controls
    actions = [
        DemoAction("Insert a bill", f"${d}", partial(controls.insert_bill, d))
        for d in DENOMINATIONS
    ]
    actions.append(
        DemoAction("Insert a bill", "Fake", _control(kiosk, "bill-acceptor", "counterfeit"))
    )
    actions += [
        DemoAction(
            "Card terminal", "Tap an approving card", partial(controls.present_card, "approve")
        ),
        DemoAction(
            "Card terminal", "Tap a declining card", partial(controls.present_card, "decline")
        ),
    ]
    for account in DEMO_ACCOUNTS:
        code = make_stub_code(account.number, account.balance)
        actions.append(
            DemoAction("Scanner", f"Scan bill {account.number}", partial(controls.scan, code))
        )
    actions += [
        DemoAction("Printer", "Paper out", _control(kiosk, "printer", "paper-out")),
        DemoAction("Printer", "New paper roll", _control(kiosk, "printer", "paper-in")),
        # a technician's cash-box collection (service mode) pulls the box and puts one back
        DemoAction("Cash box", "Pull it out", _control(kiosk, "bill-acceptor", "cassette-remove")),
        DemoAction("Cash box", "Put it back", _control(kiosk, "bill-acceptor", "cassette-replace")),
    ]
    if audio is not None and isinstance(audio.jack, EmulatedJack):
        jack = audio.jack

        def toggle_headphones() -> str:
            jack.set(not jack.plugged())
            return "headphones plugged in" if jack.plugged() else "headphones pulled out"

        actions.append(DemoAction("Headphones", "Plug in / pull out", toggle_headphones))
    directory = kiosk.hardware.ports.directory
    if hub is not None:
        link = hub.link

        def toggle_cable() -> str:
            link.set_online(not link.online)
            if kiosk.sync is not None and link.online:
                kiosk.sync.wake()
            return "network cable plugged in" if link.online else "network cable pulled"

        actions.append(DemoAction("Network", "Pull / plug in the cable", toggle_cable))
    elif hasattr(directory, "is_online"):

        def toggle_network() -> str:
            directory.is_online = not directory.is_online
            return "network back" if directory.is_online else "network pulled"

        actions.append(DemoAction("Network", "Pull / restore the network", toggle_network))
    return actions


KIOSK_INI = Path(__file__).resolve().parents[2] / "provisioning" / "deploy" / "kivy-kiosk.ini"


def _prepare(kiosk: Kiosk, panel: bool, kiosk_ini: Path | None = None) -> None:
    from screens import runtime

    runtime.prepare(data_dir(kiosk.config) / "kivy", demo_panel=panel, kiosk_ini=kiosk_ini)


def _status(kiosk: Kiosk) -> dict[str, Any]:
    """What the app asks the kiosk as it runs: entries still to send, whether the hub answers
    (now, not as of the last snapshot), and when large text left on at idle goes back."""
    return {
        "waiting": kiosk.unsent,
        "online": kiosk.hardware.ports.directory.online,
        "large_text_reset_s": kiosk.config.timeouts.idle_screen,
    }


def run_kiosk(kiosk: Kiosk) -> int:
    """The kiosk as residents meet it: full screen, no cursor, no way out by touch."""
    _prepare(kiosk, panel=False, kiosk_ini=KIOSK_INI)
    from composition.service_manager import tell_systemd
    from screens.app import KioskApp
    from screens.bridge import SnapshotBridge

    kiosk.engine.start()
    audio = audio_mode(kiosk)
    app = KioskApp(SnapshotBridge(kiosk.engine), kiosk_mode=True, audio=audio, **_status(kiosk))
    tell_systemd(app, kiosk.engine)
    figures = kiosk.config.metrics
    metrics = None
    if figures.textfile is not None:
        from composition.metrics_file import MetricsFile

        metrics = MetricsFile(kiosk, figures.textfile, figures.interval_s)
        metrics.start()
    disk = None
    if kiosk.config.storage.min_free_mb > 0:
        from composition.disk_watch import DiskWatch

        disk = DiskWatch(kiosk.engine, data_dir(kiosk.config), kiosk.config.storage.min_free_mb)
        disk.start()
    try:
        app.run()
    finally:
        for watcher in (metrics, disk):
            if watcher is not None:
                watcher.stop()
        audio.close()
    return 0


def run_window(kiosk: Kiosk, hub: DemoHub | None = None) -> int:
    """The kiosk in a window with the demo panel, until the window is closed."""
    _prepare(kiosk, panel=True)
    from screens.app import KioskApp
    from screens.bridge import SnapshotBridge
    from screens.demo_panel import DemoPanel

    print("demo accounts (type the number, or use Scan in the demo panel):")
    for account in DEMO_ACCOUNTS:
        code = make_stub_code(account.number, account.balance)
        print(f"  {account.number}  {account.name}, balance {account.balance}, stub {code}")
    kiosk.engine.start()
    audio = audio_mode(kiosk)
    app = KioskApp(
        SnapshotBridge(kiosk.engine),
        demo_panel=lambda: DemoPanel(demo_actions(kiosk, hub, audio)),
        audio=audio,
        **_status(kiosk),
    )
    app.run()
    audio.close()
    return 0


def play_scripts(
    kiosk: Kiosk,
    names: list[str],
    screenshots: Path | None,
    *,
    large_text: bool = False,
    language: str | None = None,
    step_timeout: float = STEP_TIMEOUT_S,
    speech_dir: Path | None = None,
) -> int:
    """Each script through the screens, one after the other; non-zero if one goes wrong.
    ``speech_dir``: what the audio mode says is written there (WAV files and a list)."""
    _prepare(kiosk, panel=False)
    from screens.app import KioskApp
    from screens.bridge import SnapshotBridge
    from screens.player import Script, play_in_turn

    kiosk.engine.start()
    audio = audio_mode(kiosk, speech_dir)
    app = KioskApp(
        SnapshotBridge(kiosk.engine), large_text=large_text, audio=audio, **_status(kiosk)
    )
    lines: list[str] = []
    failures: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)

    def script(name: str) -> Script:
        steps, expect = SCRIPTS[name]
        if language is not None:
            steps = in_language(steps, language)
        first_seq = [0]

        def begin() -> None:
            first_seq[0] = kiosk.journal.last_seq()

        def check(_result: PlayResult) -> str:
            try:
                payment = journaled_payment(kiosk, first_seq[0], expect)
            except ScriptFailed as exc:
                return str(exc)
            if not payment:
                say("  no payment, as the script expects")
                return ""
            amount = Money(int(str(payment["amount_cents"])))
            say(f"  paid {amount} by {payment['method']}, confirmation {payment['confirmation']}")
            return ""

        return Script(name, steps, check, begin)

    def report(played: Script, result: PlayResult, problem: str) -> None:
        say(f"  screens: {' -> '.join(result.screens)}; {result.taps} touches, {result.keys} keys")
        for path in result.screenshots:
            say(f"  screenshot {path}")
        if problem:
            failures.append(f"{played.name}: {problem}")
            say(f"  FAILED: {problem}")

    scripts = [script(name) for name in names]
    app.watch(lambda s, _name: _describe_once(s, lines, say))
    play_in_turn(
        app,
        scripts,
        kiosk.hardware.controls,
        screenshots=screenshots,
        out=say,
        on_each=report,
        step_timeout=step_timeout,
    )
    app.run()
    if speech_dir is not None:
        write_speech(audio, speech_dir)
    else:
        audio.close()
    for failure in failures:
        print(f"demo failed: {failure}")
    return 1 if failures else 0


def _describe_once(snapshot: Snapshot, lines: list[str], say: Callable[[str], None]) -> None:
    line = describe(snapshot)
    if not lines or lines[-1] != line:
        lines.append(line)
        say(f"  -> {line}")
