"""Jinja2 for the console: autoescaped templates, and filters that show times in the hub's
zone (DESIGN.md rule 6: store UTC, show local) and cents as dollars."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from hub.staff.roles import LABELS

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def local_time(moment: datetime | str | None, zone: ZoneInfo) -> str:
    """A stored UTC time (or a kiosk's ISO-8601 text) as ``2025-03-01 08:05 CST``."""
    if moment is None or moment == "":
        return "—"
    if isinstance(moment, str):
        text = moment
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def dollars(cents: int | None) -> str:
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def templates(zone: ZoneInfo) -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = lambda moment: local_time(moment, zone)
    env.filters["dollars"] = dollars
    env.globals["zone_name"] = str(zone)
    env.globals["labels"] = LABELS
    return Jinja2Templates(env=env)
