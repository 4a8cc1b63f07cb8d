"""The dependency rule of DESIGN.md, kept by a test.

The core (``kiosk/``) talks to ports only: it never imports Kivy, pyserial, python-escpos or
requests, and never the adapter packages. The composition root that assembles a running
kiosk from its adapters (the CLI, its commands, the wiring, the demo) is a package of its own,
``composition/``, and nothing but it imports all of them; nothing imports it back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "kiosk"
FORBIDDEN_LIBRARIES = {"kivy", "serial", "escpos", "requests"}
ADAPTER_PACKAGES = {"devices", "screens", "sync", "provisioning", "hub"}


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every absolute module an import statement names (``import a.b``, ``from a import b``)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            # ``from importlib import import_module`` and friends are not imports of a package
    return found


def _dynamic_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """``importlib.import_module("x")`` / ``__import__("x")`` with a literal name."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        first = node.args[0]
        if name in {"import_module", "__import__"} and isinstance(first, ast.Constant):
            found.append((node.lineno, str(first.value)))
    return found


CORE_FILES = sorted(CORE.rglob("*.py"))


def test_the_core_has_python_files() -> None:
    names = {p.relative_to(CORE).as_posix() for p in CORE_FILES}
    assert {"engine/machine.py", "recovery.py", "ports.py"} <= names


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.relative_to(CORE).as_posix())
def test_core_module_respects_the_dependency_rule(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    problems = []
    for line, module in _imported_modules(tree) + _dynamic_imports(tree):
        top = module.split(".")[0]
        if top in FORBIDDEN_LIBRARIES:
            problems.append(f"line {line}: imports {module} (hardware/UI/HTTP library)")
        elif top in ADAPTER_PACKAGES | {"composition"}:
            problems.append(f"line {line}: imports the adapter package {module}")
    assert problems == [], f"{path.relative_to(ROOT)}: " + "; ".join(problems)


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("import serial", True),
        ("import serial.tools.list_ports", True),
        ("from escpos.printer import Usb", True),
        ("from kivy.app import App", True),
        ("import requests as r", True),
        ("import importlib\nimportlib.import_module('kivy.core')", True),
        ("from devices.simulated import SimulatedAcceptor", True),
        ("from sync import push", True),
        ("from kiosk.money import Money", False),
        ("import serialize_helpers", False),
        ("from . import serial", False),  # relative: kiosk's own module of that name
    ],
)
def test_the_checker_itself(source: str, bad: bool) -> None:
    tree = ast.parse(source)
    tops = {m.split(".")[0] for _, m in _imported_modules(tree) + _dynamic_imports(tree)}
    assert bool(tops & (FORBIDDEN_LIBRARIES | ADAPTER_PACKAGES)) is bad


COMPOSITION = ROOT / "composition"
OTHER_PACKAGES = ("contract", "kiosk", "devices", "screens", "sync", "provisioning", "hub")


def test_the_composition_root_is_its_own_package() -> None:
    names = {p.relative_to(COMPOSITION).as_posix() for p in COMPOSITION.rglob("*.py")}
    assert {"cli.py", "wiring.py", "hardware.py", "demo_runner.py", "commands/demo_cmd.py"} <= names
    assert not any((CORE / n).exists() for n in ("cli.py", "wiring.py", "hardware.py", "commands"))


@pytest.mark.parametrize(
    "path",
    [p for package in OTHER_PACKAGES for p in sorted((ROOT / package).rglob("*.py"))],
    ids=lambda p: p.relative_to(ROOT).as_posix(),
)
def test_nothing_imports_the_composition_root_back(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    back = [
        f"line {line}: {module}"
        for line, module in _imported_modules(tree) + _dynamic_imports(tree)
        if module.split(".")[0] == "composition"
    ]
    assert back == [], f"{path.relative_to(ROOT)}: " + "; ".join(back)


# ---------------------------------------------------------------------------- codecs
# The device protocol codecs (frames, messages, codes) import nothing from ``kiosk/``, not even
# through another module (or a package ``__init__``) they import, so they could be published
# as a library; the drivers adapt them to the kiosk's ports. docs/protocols/README.md lists
# them and says why the other device modules are not codecs.

DEVICES = ROOT / "devices"
CODECS = (
    "devices/ebds/framing.py",
    "devices/ebds/messages.py",
    "devices/zvt/framing.py",
    "devices/zvt/tlv.py",
    "devices/zvt/bmp.py",
    "devices/zvt/apdu.py",
    "devices/zvt/codes.py",
    "devices/escpos/status.py",
    "devices/scanner_lines.py",
)


def _module_file(module: str) -> Path | None:
    """The file of a module of this project (``devices.zvt.apdu`` -> devices/zvt/apdu.py)."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _loaded_with(path: Path) -> list[Path]:
    """The package ``__init__`` files Python runs before ``path`` (devices/, devices/zvt/)."""
    inits = []
    for parent in reversed(path.relative_to(ROOT).parents):
        init = ROOT / parent / "__init__.py"
        if parent != Path(".") and init.is_file() and init != path:
            inits.append(init)
    return inits


def _project_imports(path: Path) -> list[tuple[str, Path | None]]:
    """(module, its file) for each absolute import in ``path``; ``from a import b`` may name a
    submodule ``a.b``, which counts too."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, Path | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, _module_file(node.module)))
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if (sub_file := _module_file(sub)) is not None:
                    found.append((sub, sub_file))
        elif isinstance(node, ast.Import):
            found += [(alias.name, _module_file(alias.name)) for alias in node.names]
    return found


def kiosk_imports_behind(path: Path) -> list[str]:
    """Every chain of imports from ``path`` that ends in ``kiosk`` (empty when there is none)."""
    chains: list[str] = []
    seen: set[Path] = set()
    todo: list[tuple[Path, str]] = [(path, path.relative_to(ROOT).as_posix())]
    while todo:
        current, chain = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for init in _loaded_with(current):
            todo.append((init, f"{chain} -> {init.relative_to(ROOT).as_posix()}"))
        for module, file in _project_imports(current):
            if module.split(".")[0] == "kiosk":
                chains.append(f"{chain} imports {module}")
            elif file is not None:
                todo.append((file, f"{chain} -> {file.relative_to(ROOT).as_posix()}"))
    return sorted(chains)


def test_the_codecs_exist() -> None:
    assert [c for c in CODECS if not (ROOT / c).is_file()] == []


@pytest.mark.parametrize("codec", CODECS)
def test_a_codec_imports_nothing_from_kiosk(codec: str) -> None:
    assert kiosk_imports_behind(ROOT / codec) == []


def test_the_codec_rule_sees_an_import_through_another_module(tmp_path: Path) -> None:
    # the drivers do import kiosk, directly or through the modules they use
    driver = kiosk_imports_behind(DEVICES / "zvt" / "driver.py")
    assert any(c.endswith("imports kiosk.ports") for c in driver)
    tracker = kiosk_imports_behind(DEVICES / "ebds" / "tracker.py")
    assert "devices/ebds/tracker.py imports kiosk.money" in tracker
    # and a codec that used a driver module would be caught through it
    assert any(
        " -> devices/serial_link.py" in c
        for c in kiosk_imports_behind(DEVICES / "zvt" / "transport.py")
    )
