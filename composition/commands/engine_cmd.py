"""``kiosk engine table|diagram``: the session's state table, for people."""

from __future__ import annotations

import argparse

from kiosk.engine.states import STAY, TRANSITIONS, diagram


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    engine = sub.add_parser("engine", help="show the payment session's state table")
    inner = engine.add_subparsers(dest="engine_command", required=True, metavar="WHAT")
    inner.add_parser("table", help="one line per transition").set_defaults(handler=print_table)
    inner.add_parser("diagram", help="Graphviz DOT").set_defaults(handler=print_diagram)


def table_lines() -> list[str]:
    lines = []
    for t in TRANSITIONS:
        target = "(stay)" if t.target is STAY else t.target.value
        guard = f" if {t.guard}" if t.guard else ""
        action = f" / {t.action}" if t.action else ""
        row = f"{t.source.value:<16} {t.event.__name__:<16} -> {target:<16}{guard}{action}"
        lines.append(row.rstrip())
    return lines


def print_table(_args: argparse.Namespace) -> int:
    print("\n".join(table_lines()))
    return 0


def print_diagram(_args: argparse.Namespace) -> int:
    print(diagram())
    return 0
