"""Cells for the CSV files the hub writes, safe to open in a spreadsheet.

Text in a hub CSV comes from kiosks (a confirmation, a card brand, a time) and from staff;
a spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=HYPERLINK(...)`` sends whoever clicks it anywhere), and a leading tab or carriage
return can hide such a start. Every text cell that begins with one of them gets a single
quote in front (OWASP's advice): shown as text, the rest readable as it was.

Numbers are exempt, and they are told apart by type, never by how a text looks: an ``int``
or a ``Decimal`` the hub computed itself (cents, a dollar figure made from cents, a journal
seq) can not be a formula, and a negative one must stay a number a spreadsheet adds up.
Every CSV writer of the hub writes its rows through :func:`row`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

#: first characters a spreadsheet may take as the start of a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | Decimal


def cell(value: Cell) -> str:
    """One cell as written: a number as it is, text neutralised when it could be a formula."""
    if isinstance(value, bool):
        raise TypeError("write a flag as text ('1'/'0'), not as a bool")
    if isinstance(value, int | Decimal):
        return str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def row(values: Iterable[Cell]) -> list[str]:
    """A row for ``csv.writer.writerow``, every cell through :func:`cell`."""
    return [cell(value) for value in values]
