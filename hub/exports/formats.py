"""Amounts and times as the exports show them: the edge where cents become dollars.

Amounts stay integer cents until here, and become dollars by integer arithmetic (a
``Decimal`` scaled by -2), never through a float.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo


def dollars(cents: int) -> Decimal:
    """``4317`` -> ``Decimal('43.17')``: a number a spreadsheet adds up."""
    return Decimal(cents).scaleb(-2)


def money(cents: int) -> str:
    """``-123456`` -> ``-$1,234.56``, for a printed report."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{part:02d}"


def signed_money(cents: int) -> str:
    """A variance: ``+$5.00`` over, ``-$20.00`` short, ``$0.00`` even."""
    return ("+" if cents > 0 else "") + money(cents)


def note(denomination_cents: int) -> str:
    """A bill's face value: ``2000`` -> ``$20``, ``200`` -> ``$2``."""
    whole, part = divmod(denomination_cents, 100)
    return f"${whole:,}" if not part else money(denomination_cents)


def local_time(moment: str | datetime | None, zone: ZoneInfo) -> str:
    """A kiosk's ISO-8601 text or a hub time, in the hub's zone: ``2025-03-01 08:05 CST``."""
    if moment is None:
        return ""
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def iso_local(moment: str | datetime | None, zone: ZoneInfo) -> str:
    """A kiosk's ISO-8601 text or a hub time in the hub's zone, ISO-8601 with its offset, to
    the second (for a CSV)."""
    if moment is None:
        return ""
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return when.astimezone(zone).isoformat(timespec="seconds")
