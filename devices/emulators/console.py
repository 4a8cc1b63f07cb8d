"""The operator's console for any emulator: ``kiosk emulate NAME`` reads commands from stdin.

One loop serves every emulator because they all offer the same surface
(:class:`devices.emulators.base.Emulator`): a port path, named controls and counters. The
loop reads one command per line, so it works typed by hand, piped from ``echo`` and driven
by tests; a bad command is answered with a message, never a traceback, and the end of
stdin stops the emulator cleanly (the port link is removed).

Emulators are registered by name in :data:`EMULATORS`. Each factory imports its module
only when called, so an emulator whose module is missing or broken makes only its own name
unavailable, not the console.
"""

from __future__ import annotations

import importlib
import json
import os
import shlex
import tempfile
from pathlib import Path
from typing import Any, Protocol, TextIO

from devices.emulators.base import Control, Emulator


class EmulatorFactory(Protocol):
    """Builds an emulator on ``link``; ``options`` name a model to play where there are several."""

    def __call__(self, link: Path, **options: Any) -> Emulator: ...


BUILT_IN = ("help", "counters", "quit")


class EmulatorUnavailable(RuntimeError):
    """The emulator's module can not be imported (not written yet, or broken)."""


def lazy(module: str, class_name: str, name: str) -> EmulatorFactory:
    """A factory that imports ``module`` when called and builds ``class_name(link,
    **options)`` (options: a model to play, such as an EBDS acceptor's ``flavour``)."""

    def build(link: Path, **options: Any) -> Emulator:
        try:
            loaded = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (module + ".").startswith(exc.name + "."):
                raise EmulatorUnavailable(f"the {name} emulator is not available yet") from exc
            raise EmulatorUnavailable(f"the {name} emulator can not be loaded: {exc}") from exc
        except ImportError as exc:
            raise EmulatorUnavailable(f"the {name} emulator can not be loaded: {exc}") from exc
        cls = getattr(loaded, class_name, None)
        if cls is None:
            raise EmulatorUnavailable(f"the {name} emulator is not available yet ({class_name})")
        emulator: Emulator = cls(link, **options)
        return emulator

    return build


EMULATORS: dict[str, EmulatorFactory] = {
    "bill_acceptor": lazy("devices.emulators.ebds_emulator", "EbdsEmulator", "bill_acceptor"),
    "card_terminal": lazy("devices.emulators.zvt_emulator", "ZvtEmulator", "card_terminal"),
    "receipt_printer": lazy(
        "devices.emulators.escpos_emulator", "EscposEmulator", "receipt_printer"
    ),
    "barcode_scanner": lazy(
        "devices.emulators.scanner_emulator", "ScannerEmulator", "barcode_scanner"
    ),
}
"""By the device's name in the kiosk's ``[devices]`` section."""

ACCEPTOR_PROTOCOLS: dict[str, EmulatorFactory] = {
    "ebds": EMULATORS["bill_acceptor"],
    "id003": lazy("devices.emulators.id003_emulator", "Id003Emulator", "bill_acceptor"),
}
"""The bill acceptor's emulator by ``bill_acceptor_protocol``: the protocol the acceptor
speaks is a setting of the device, not another device."""


def default_link(name: str) -> Path:
    """Where ``kiosk emulate NAME`` puts its port link when ``--link`` is not given.

    The user's runtime directory when there is one, else a private directory in the temp
    dir; either way only this user can write there, so nobody can swap the link.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and Path(runtime).is_dir():
        base = Path(runtime) / "utility-kiosk"
    else:
        base = Path(tempfile.gettempdir()) / f"utility-kiosk-{os.getuid()}"
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    if base.stat().st_uid != os.getuid():
        raise PermissionError(f"{base} belongs to another user; pass --link PATH")
    return base / name


def help_lines(controls: dict[str, Control]) -> list[str]:
    lines = [f"  {control.help}" for control in controls.values()]
    lines += [
        "  help: this list",
        "  counters: the emulator's counters as JSON",
        "  quit: stop the emulator (so does the end of input)",
    ]
    return lines


def run_console(emulator: Emulator, stdin: TextIO, stdout: TextIO) -> int:
    """Start ``emulator``, answer commands from ``stdin`` until quit or EOF, stop it.

    The first line printed is ``NAME: port PATH``: what to give the driver (``[devices]``).
    """

    def say(text: str) -> None:
        print(text, file=stdout, flush=True)

    controls = emulator.controls()
    emulator.start()
    try:
        say(f"{emulator.name}: port {emulator.port.path}")
        say(f"commands: {', '.join([*controls, *BUILT_IN])} (help for details)")
        for raw in stdin:
            try:
                words = shlex.split(raw)
            except ValueError as exc:
                say(f"error: can not read the command: {exc}")
                continue
            if not words:
                continue
            command, args = words[0], words[1:]
            if command in ("quit", "exit"):
                break
            say(_answer(emulator, controls, command, args))
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        say(f"{emulator.name}: stopped")
    return 0


def _answer(emulator: Emulator, controls: dict[str, Control], command: str, args: list[str]) -> str:
    if command == "help":
        return "\n".join(help_lines(controls))
    if command == "counters":
        return json.dumps(emulator.counters(), sort_keys=True, default=str)
    control = controls.get(command)
    if control is None:
        return f"error: unknown command {command!r}; try help"
    try:
        return control.handler(args)
    except ValueError as exc:
        return f"error: {exc}"
    except Exception as exc:  # the operator sees why; the emulator stays up
        return f"error: {command} failed: {type(exc).__name__}: {exc}"
