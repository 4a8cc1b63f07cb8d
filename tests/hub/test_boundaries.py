"""DESIGN.md: the hub shares only the wire schemas (and request signing) with the kiosk."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HUB_FILES = sorted((ROOT / "hub").rglob("*.py"))
SHARED = {"contract.wire", "contract.signing"}
KIOSK_SIDE = {"kiosk", "devices", "screens", "provisioning", "sync"}


@pytest.mark.parametrize("path", HUB_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_hub_imports_nothing_of_the_kiosk_but_the_wire(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    wrong = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            if name.split(".")[0] in KIOSK_SIDE and name not in SHARED:
                wrong.append(f"line {node.lineno}: {name}")
    assert wrong == []


def test_the_wire_depends_only_on_the_chain() -> None:
    tree = ast.parse((ROOT / "sync" / "wire.py").read_text(encoding="utf-8"))
    modules = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kiosk")
    }
    assert modules == {"contract.chain"}
