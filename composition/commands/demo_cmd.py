"""``kiosk run``, ``kiosk demo`` and ``kiosk recover``: the kiosk, its demo, its recovery."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from composition import logs
from composition.commands.common import add_location_options, config_from
from composition.commands.demo_hub import DemoHub, DemoHubError
from composition.demo_runner import ScriptFailed, ScriptRunner
from composition.wiring import Kiosk, build_kiosk, data_dir
from contract.pins import hash_pin
from kiosk.config import DEMO_CONTACT, DEMO_RECEIPT, Contact, KioskConfig, Technician
from kiosk.demo_scripts import DEMO_PIN, SCRIPTS, STEP_TIMEOUT_S
from kiosk.money import Money
from kiosk.store.journal import JournalError
from kiosk.store.lock import DataDirError, DataDirLock
from sync.credentials import CredentialsError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="run the kiosk on simulated devices")
    add_location_options(demo)
    demo.add_argument(
        "--script",
        choices=sorted(SCRIPTS),
        action="append",
        help="play a scripted session headless through the screens (repeatable); without"
        " it, the kiosk opens in a window with the demo panel",
    )
    demo.add_argument(
        "--screenshots",
        type=Path,
        default=None,
        metavar="DIR",
        help="save a PNG of every screen a script passes, in DIR",
    )
    demo.add_argument(
        "--speech-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="write what the audio mode says to WAV files in DIR (espeak-ng -w), with a list",
    )
    demo.add_argument(
        "--large-text",
        action="store_true",
        help="draw the screens in the large-text mode residents can switch on",
    )
    demo.add_argument(
        "--language",
        default=None,
        help="play the scripts as a resident who speaks this language (en, es)",
    )
    demo.add_argument(
        "--no-hub",
        action="store_true",
        help="no demo hub: accounts come from the simulated directory, nothing is synced",
    )
    demo.add_argument(
        "--no-screens",
        action="store_true",
        help="play scripts against the engine alone (no Kivy, no demo hub; fast, for crash tests)",
    )
    demo.add_argument(
        "--devices",
        choices=["emulated", "simulated"],
        default=None,
        help="protocol emulators on ptys (default) or file-backed simulations",
    )
    demo.add_argument(
        "--step-timeout",
        type=float,
        default=STEP_TIMEOUT_S,
        metavar="S",
        help=f"how long a script step may wait for its screen (default {STEP_TIMEOUT_S:g} s)",
    )
    demo.set_defaults(handler=run_demo)
    run = sub.add_parser("run", help="run the kiosk full screen on its configured devices")
    add_location_options(run)
    run.set_defaults(handler=run_kiosk)
    rec = sub.add_parser("recover", help="settle what a crash left open, then exit")
    add_location_options(rec)
    rec.add_argument("--devices", choices=["emulated", "simulated"], default=None)
    rec.set_defaults(handler=run_recover)


DEMO_TECHNICIAN = "Demo Technician"


def with_demo_technician(config: KioskConfig) -> KioskConfig:
    """``config`` with a technician who may enter service mode (PIN 2468), unless it names
    technicians of its own. The PIN is hashed here, at every start, as ``kiosk service
    pin-hash`` would: the demo's files hold no hash made elsewhere."""
    if config.service.technicians:
        return config
    demo = Technician(name=DEMO_TECHNICIAN, pin_hash=hash_pin(DEMO_PIN))
    service = config.service.model_copy(update={"technicians": [demo]})
    return config.model_copy(update={"service": service})


def with_demo_settings(config: KioskConfig) -> KioskConfig:
    """``config`` with the demo city's customer service and receipt link, where it gives
    none of its own (a real kiosk's file names its city's)."""
    changes: dict[str, object] = {}
    if config.contact == Contact():
        changes["contact"] = DEMO_CONTACT
    if not config.receipt.lookup_url:
        changes["receipt"] = DEMO_RECEIPT
    return config.model_copy(update=changes) if changes else config


def _start(
    args: argparse.Namespace,
    hub: DemoHub | None = None,
    lock: DataDirLock | None = None,
    *,
    demo: bool = False,
) -> Kiosk | None:
    config = config_from(args)
    if demo:  # a person at a terminal, reading the demo's own lines: warnings only
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if demo:
        config = with_demo_settings(with_demo_technician(config))
    if hub is not None:
        config = hub.kiosk_config(config)
    try:
        kiosk = build_kiosk(config, hub_url=hub.url if hub is not None else None, lock=lock)
    except (DataDirError, JournalError, CredentialsError, ValueError, OSError) as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return None
    print(f"kiosk {config.identity.kiosk_id}: data in {data_dir(config)}")
    for line in kiosk.recovery.lines():
        print(f"  recovered: {line}")
    return kiosk


def run_kiosk(args: argparse.Namespace) -> int:
    correlation = logs.configure(config_from(args))
    kiosk = _start(args)
    if kiosk is None:
        return 2
    from composition.commands import ui_demo

    correlation.session = lambda: kiosk.engine.snapshot.session_id
    logs.reload_level_on_sighup(args.config)

    try:
        return ui_demo.run_kiosk(kiosk)
    finally:
        kiosk.close()


def run_recover(args: argparse.Namespace) -> int:
    logs.configure(config_from(args))
    kiosk = _start(args)
    if kiosk is None:
        return 2
    if not kiosk.recovery.anything:
        print("nothing to recover")
    kiosk.journal.close()
    kiosk.release()
    return 0


NO_DISPLAY = """kiosk demo: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set), so the
demo's window would open where no one can see it. Run it
  - in a desktop session (a terminal on the desktop, or ssh -X),
  - under a virtual display: xvfb-run -a make demo (Debian: apt-get install xvfb),
  - or headless, playing a scripted session through the screens:
      kiosk demo --script cash --screenshots shots/   (scripts: {scripts})
To open the window anyway (off screen, for tests), set SDL_VIDEODRIVER=offscreen."""


def no_display(env: Mapping[str, str], platform: str) -> bool:
    """Whether a window opened now would be seen by no one: on Linux, no X or Wayland
    display is named and no SDL video driver was chosen. (SDL then falls back to drawing off
    screen, which the headless tests and screenshots rely on, asking for it by name or with
    ``--script``.) Other systems always have their own display."""
    if not platform.startswith("linux"):
        return False
    return not any(env.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"))


def run_demo(args: argparse.Namespace) -> int:
    if args.no_screens:
        return _engine_only(args)
    if not args.script and no_display(os.environ, sys.platform):
        print(NO_DISPLAY.format(scripts=", ".join(sorted(SCRIPTS))), file=sys.stderr)
        return 2
    # the demo hub enrolls the kiosk into the data directory: no hub before the lock
    lock = DataDirLock(data_dir(config_from(args)))
    try:
        lock.acquire()
        hub = _demo_hub(args)
    except (DataDirError, DemoHubError, OSError) as exc:
        lock.release()
        print(f"kiosk demo: {exc}", file=sys.stderr)
        return 2
    try:
        kiosk = _start(args, hub, lock, demo=True)
        if kiosk is None:
            lock.release()
            return 2
        from composition.commands import ui_demo

        if hub is not None:
            kiosk.hardware.controls.network = hub.set_online
            if not hub.wait_ready(kiosk):
                print("WARNING: the kiosk has not heard from the demo hub yet", file=sys.stderr)
        try:
            if not args.script:
                return ui_demo.run_window(kiosk, hub)
            return _verified(
                kiosk,
                ui_demo.play_scripts(
                    kiosk,
                    args.script,
                    args.screenshots,
                    large_text=args.large_text,
                    language=args.language,
                    step_timeout=args.step_timeout,
                    speech_dir=args.speech_dir,
                ),
            )
        finally:
            kiosk.close()
    finally:
        if hub is not None:
            hub.stop()


def _demo_hub(args: argparse.Namespace) -> DemoHub | None:
    """The demo's own hub, unless told not to or the configuration names a hub already."""
    config = config_from(args)
    if args.no_hub or config.hub.enabled:
        return None
    hub = DemoHub.start(data_dir(config))
    print(f"demo hub on {hub.hub_url} (kiosk-hub --db {hub.folder / 'hub.sqlite'})")
    print(f"finance console: {hub.console_url} (sign in with a password and an authenticator code)")
    for login in hub.logins:
        print(f"  {login.name:<17} password {login.password!r}  TOTP secret {login.totp_secret}")
        print(f"    {login.uri}")
    return hub


def _engine_only(args: argparse.Namespace) -> int:
    kiosk = _start(args, demo=True)
    if kiosk is None:
        return 2
    try:
        for name in args.script or ["cash", "card"]:
            steps, expect = SCRIPTS[name]
            print(f"script {name}:")
            # each script runs on a fresh engine thread over the same journal and devices
            kiosk.fresh_engine()
            payment = ScriptRunner(kiosk, print).run(steps, expect)
            if not payment:
                print("  no payment, as the script expects")
                continue
            amount = Money(int(str(payment["amount_cents"])))
            print(f"  paid {amount} by {payment['method']}, confirmation {payment['confirmation']}")
            print("  receipt:")
            for line in kiosk.hardware.controls.receipt_text():
                print(f"    | {line}")
    except ScriptFailed as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        kiosk.close()
    return _verified(kiosk, 0)


def _verified(kiosk: Kiosk, code: int) -> int:
    verify = kiosk.journal.verify()
    print(f"journal: {verify.problem or 'OK'} ({verify.checked} entries)")
    return code if verify.ok else 1
