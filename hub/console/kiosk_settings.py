"""A kiosk's own page, ``/console/fleet/{kiosk}``: its settings, and a form for a technician
or admin to change them (location, payment limits, the card fee, the notes it takes, the
banner in each language), as ``kiosk-hub set-kiosk`` does.

People type dollars and percents; the hub keeps cents and basis points, parsed here without
floating point. The change goes through :func:`hub.kiosk_config.update_settings`, which
validates it as the kiosk will; the audit entry (before and after) is written in the same
transaction. Anything it or this form refuses is shown with why, and nothing changes. The
form carries the settings' version: a page from before someone else's change is refused.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Connection, select

from contract.wire import KioskSettings
from hub import kiosk_config
from hub.api.deps import Hub
from hub.console import render
from hub.console.guard import Form, allowed, permitted, refused
from hub.errors import HubError, Invalid, NotFound
from hub.models import Kiosk
from hub.staff import audit
from hub.staff.roles import may_do
from hub.staff.sessions import SignedIn

router = APIRouter(prefix="/console/fleet", include_in_schema=False)
BILLS = (100, 200, 500, 1000, 2000, 5000, 10000)
LANGUAGES = {"en": "English", "es": "Spanish"}
LIMITS = {
    "min_payment_cents": "Smallest payment",
    "max_payment_cents": "Largest payment",
    "max_overpayment_cents": "Most credited over the balance",
    "max_cash_cents": "Most cash in one payment",
}
FEES = {
    "flat_cents": "Card fee, flat",
    "minimum_cents": "Card fee, at least",
    "maximum_cents": "Card fee, at most",
}
_DOLLARS = re.compile(r"^\$?(\d{1,7})(?:\.(\d{1,2}))?$")
_PERCENT = re.compile(r"^(\d{1,2})(?:\.(\d{1,2}))?%?$")


def dollars_to_cents(text: str, what: str) -> int:
    """``12``, ``12.5``, ``$12.50`` -> 1250; anything else is refused, naming the field."""
    found = _DOLLARS.match(text.strip().replace(",", ""))
    if found is None:
        raise Invalid(f"{what}: {text!r} is not an amount in dollars, like 12.50")
    return int(found.group(1)) * 100 + int((found.group(2) or "0").ljust(2, "0"))


def percent_to_bp(text: str) -> int:
    """``2.5`` or ``2.50%`` -> 250 basis points."""
    found = _PERCENT.match(text.strip())
    if found is None:
        raise Invalid(f"card fee percent: {text!r} is not a percent, like 2.50")
    return int(found.group(1)) * 100 + int((found.group(2) or "0").ljust(2, "0"))


def _location(hub: Hub, kiosk_id: str) -> str:
    with hub.db.read() as conn:
        location = conn.execute(select(Kiosk.location).where(Kiosk.id == kiosk_id)).scalar()
    if location is None:
        raise NotFound(f"no kiosk named {kiosk_id!r}")
    return str(location)


def _page(
    request: Request,
    hub: Hub,
    person: SignedIn,
    kiosk_id: str,
    message: str = "",
    status: int = 200,
) -> HTMLResponse:
    try:
        settings = kiosk_config.get_settings(hub.db, kiosk_id)
        location = _location(hub, kiosk_id)
    except NotFound as exc:
        return render.page(
            request, "refused.html", person, 404, message=exc.message, title="Not found"
        )
    return render.page(
        request,
        "kiosk.html",
        person,
        status,
        current="fleet",
        kiosk_id=kiosk_id,
        location=location,
        settings=settings,
        bills=BILLS,
        languages=LANGUAGES,
        limit_fields=LIMITS,
        fee_fields=FEES,
        may_configure=may_do(person.role, "configure"),
        message=message,
    )


@router.get("/{kiosk_id}")
def kiosk_page(
    request: Request,
    hub: Hub,
    person: Annotated[SignedIn, Depends(allowed("fleet"))],
    kiosk_id: str,
) -> HTMLResponse:
    return _page(request, hub, person, kiosk_id)


def _change(form: dict[str, str]) -> kiosk_config.SettingsChange:
    """What the form asks for; every field is sent, so a blank one means "none" only where
    that is allowed (the fee's cap); a bad field is refused by name."""
    limits: dict[str, Any] = {
        name: dollars_to_cents(form.get(name, ""), label) for name, label in LIMITS.items()
    }
    limits["accepted_bills_cents"] = [b for b in BILLS if form.get(f"bill-{b}") == "on"]
    if not limits["accepted_bills_cents"]:
        raise Invalid("a kiosk must take at least one note value")
    fee: dict[str, Any] = {"percent_bp": percent_to_bp(form.get("percent", ""))}
    for name, label in FEES.items():
        text = form.get(name, "").strip()
        fee[name] = None if not text and name == "maximum_cents" else dollars_to_cents(text, label)
    location = " ".join(form.get("location", "").split())
    if not location:
        raise Invalid("say where the kiosk stands")
    messages = {lang: {"banner": form.get(f"banner-{lang}", "").strip()} for lang in LANGUAGES}
    return kiosk_config.SettingsChange(
        location=location, limits=limits, card_fee=fee, messages=messages
    )


def _state(settings: KioskSettings) -> dict[str, Any]:
    return settings.model_dump(mode="json", include={"version", "limits", "card_fee", "messages"})


@router.post("/{kiosk_id}/settings")
def change_settings(
    request: Request,
    hub: Hub,
    person: Annotated[SignedIn, Depends(permitted("configure"))],
    form: Form,
    kiosk_id: str,
) -> HTMLResponse:
    def record(conn: Connection, before: KioskSettings, after: KioskSettings) -> None:
        audit.record(
            conn,
            hub.clock(),
            person.name,
            "kiosk.settings",
            kiosk_id,
            before=_state(before),
            after=_state(after) | {"location": change.location},
        )

    try:
        change = _change(form)
        version = form.get("version", "").strip()
        if not version.isdigit():
            raise Invalid("the form had no version of the settings; reload the page")
        saved = kiosk_config.update_settings(
            hub.db, kiosk_id, change, on_change=record, expected_version=int(version)
        )
    except HubError as exc:
        told = refused(hub, person, "kiosk.settings", kiosk_id, exc)
        return _page(request, hub, person, kiosk_id, told, exc.status)
    message = (
        f"Kiosk {kiosk_id}'s settings saved (version {saved.version}); "
        "it applies them when it next asks."
    )
    return _page(request, hub, person, kiosk_id, message)
