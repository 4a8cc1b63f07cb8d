"""Anything a printer prints, as sections or as plain text: a receipt or a collection slip.

Printers take a :data:`~kiosk.ports.Printable` and do not care which kind it is; this is the
one place that picks the layout for it, so a new kind of paper is added here and every
printer (ESC/POS, simulated, the demo's text) prints it.
"""

from __future__ import annotations

from kiosk.ports import CollectionSlip, Printable
from kiosk.receipt_text import Section, receipt_sections, render_sections
from kiosk.slip_text import slip_sections


def sections_of(item: Printable) -> tuple[Section, ...]:
    """The sections ``item`` is printed as, in its own language."""
    if isinstance(item, CollectionSlip):
        return slip_sections(item)
    return receipt_sections(item)


def render_printable(item: Printable) -> list[str]:
    """``item`` as plain lines of at most 42 characters (no QR code: its data is shown)."""
    return render_sections(sections_of(item))
