"""DESIGN.md: kiosk and hub share one contract (``contract/``) and nothing else."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HUB_FILES = sorted((ROOT / "hub").rglob("*.py"))
CONTRACT_FILES = sorted((ROOT / "contract").rglob("*.py"))
KIOSK_SIDE = {"kiosk", "devices", "screens", "provisioning", "sync"}
PROJECT = KIOSK_SIDE | {"hub"}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


@pytest.mark.parametrize("path", HUB_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_hub_imports_nothing_of_the_kiosk_but_the_contract(path: Path) -> None:
    wrong = [f"line {n}: {name}" for n, name in _imports(path) if name.split(".")[0] in KIOSK_SIDE]
    assert wrong == []


@pytest.mark.parametrize("path", CONTRACT_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_contract_imports_nothing_else_of_the_project(path: Path) -> None:
    wrong = [f"line {n}: {name}" for n, name in _imports(path) if name.split(".")[0] in PROJECT]
    assert wrong == []


def test_the_hub_does_use_the_contract() -> None:
    used = {name for path in HUB_FILES for _, name in _imports(path) if name.startswith("contract")}
    assert {"contract.wire", "contract.signing", "contract.payloads"} <= used
