"""The dependency rule of DESIGN.md, kept by a test.

The core (``kiosk/``) talks to ports only: it never imports Kivy, pyserial, python-escpos or
requests, and never the adapter packages, except in the composition root that assembles a
running kiosk from its adapters (the CLI, ``kiosk/wiring.py``, ``kiosk/hardware.py`` and the
command modules).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "kiosk"
FORBIDDEN_LIBRARIES = {"kivy", "serial", "escpos", "requests"}
ADAPTER_PACKAGES = {"devices", "screens", "sync", "provisioning", "hub"}


def _is_composition_root(path: Path) -> bool:
    relative = path.relative_to(CORE).as_posix()
    return relative in {"cli.py", "wiring.py", "hardware.py"} or relative.startswith("commands/")


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
        elif top in ADAPTER_PACKAGES and not _is_composition_root(path):
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


def test_composition_root_is_narrow() -> None:
    assert _is_composition_root(CORE / "cli.py")
    assert _is_composition_root(CORE / "wiring.py")
    assert _is_composition_root(CORE / "commands" / "demo_cmd.py")
    assert not _is_composition_root(CORE / "engine" / "machine.py")
    assert not _is_composition_root(CORE / "recovery.py")
    assert not _is_composition_root(CORE / "commands_helper.py")
