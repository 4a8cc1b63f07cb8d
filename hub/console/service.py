"""The fleet page and what a technician does from it: add a kiosk, take one out of service
and back, and issue a new enrollment code (for a new unit, or one whose disk was replaced).
The page lists the open alerts under the kiosks, as ``kiosk-hub alerts`` does.

The same functions as ``kiosk-hub set-kiosk`` (:mod:`hub.kiosk_config`, :mod:`hub.enrollment`)
do the change; the console's audit entry is written in the change's own transaction, with
the kiosk's service state before and after. An enrollment code is shown once, on the answer
to the form; only its expiry goes into the audit log, never the code.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Connection

from contract.wire import KioskSettings
from hub import enrollment, finance, kiosk_config, queries
from hub.api.deps import Hub
from hub.console import render
from hub.console.guard import Form, allowed, permitted, refused
from hub.errors import HubError, Invalid
from hub.staff import audit
from hub.staff.roles import may_do
from hub.staff.sessions import SignedIn

router = APIRouter(prefix="/console", include_in_schema=False)
MAX_REASON = 200


def fleet_page(
    request: Request,
    hub: Hub,
    person: SignedIn,
    message: str = "",
    status: int = 200,
    issued: enrollment.IssuedCode | None = None,
) -> HTMLResponse:
    return render.page(
        request,
        "fleet.html",
        person,
        status,
        current="fleet",
        kiosks=queries.kiosks(hub.db),
        alerts=queries.alerts(hub.db),
        collections=finance.last_collections(hub.db),
        may_service=may_do(person.role, "service"),
        may_enroll=may_do(person.role, "enroll"),
        message=message,
        issued=issued,
    )


@router.get("/fleet")
def fleet(
    request: Request, hub: Hub, person: Annotated[SignedIn, Depends(allowed("fleet"))]
) -> HTMLResponse:
    return fleet_page(request, hub, person)


def _service(state: KioskSettings) -> dict[str, Any]:
    return {"out_of_service": state.out_of_service, "reason": state.out_of_service_reason}


def _refused(
    request: Request, hub: Hub, person: SignedIn, action: str, kiosk_id: str, exc: HubError
) -> HTMLResponse:
    return fleet_page(request, hub, person, refused(hub, person, action, kiosk_id, exc), exc.status)


@router.post("/fleet/{kiosk_id}/service")
def set_service(
    request: Request,
    hub: Hub,
    person: Annotated[SignedIn, Depends(permitted("service"))],
    form: Form,
    kiosk_id: str,
) -> HTMLResponse:
    """``out`` with a reason the kiosk shows, or ``in``: what the hub holds the kiosk to."""
    wanted, reason = form.get("service", ""), " ".join(form.get("reason", "").split())

    def record(conn: Connection, before: KioskSettings, after: KioskSettings) -> None:
        audit.record(
            conn,
            hub.clock(),
            person.name,
            "kiosk.service",
            kiosk_id,
            before=_service(before),
            after=_service(after),
        )

    try:
        if wanted == "out":
            if not reason:
                raise Invalid("say why the kiosk is out of service (residents see it)")
            if len(reason) > MAX_REASON:
                raise Invalid(f"the reason is longer than {MAX_REASON} characters")
            change = kiosk_config.SettingsChange(out_of_service_reason=reason)
        elif wanted == "in":
            if not kiosk_config.get_settings(hub.db, kiosk_id).out_of_service:
                raise Invalid(f"kiosk {kiosk_id} is not held out of service by the hub")
            change = kiosk_config.SettingsChange(in_service=True)
        else:
            raise Invalid("choose to take the kiosk out of service or put it back")
        kiosk_config.update_settings(hub.db, kiosk_id, change, on_change=record)
    except HubError as exc:
        return _refused(request, hub, person, "kiosk.service", kiosk_id, exc)
    told = f"out of service: {reason}" if wanted == "out" else "back in service"
    return fleet_page(request, hub, person, f"Kiosk {kiosk_id} is {told}.")


@router.post("/fleet")
def add_kiosk(
    request: Request,
    hub: Hub,
    person: Annotated[SignedIn, Depends(permitted("enroll"))],
    form: Form,
) -> HTMLResponse:
    """A new kiosk and its first enrollment code, as ``kiosk-hub create-kiosk``."""
    name, location = form.get("kiosk", "").strip(), " ".join(form.get("location", "").split())

    def record(conn: Connection, issued: enrollment.IssuedCode) -> None:
        audit.record(
            conn,
            hub.clock(),
            person.name,
            "kiosk.created",
            name,
            after={"location": location, "code_expires_at": issued.expires_at.isoformat()},
        )

    try:
        issued = enrollment.create_kiosk(
            hub.db, name, location, hub.clock(), hub.settings.enrollment_ttl, on_change=record
        )
    except HubError as exc:
        return _refused(request, hub, person, "kiosk.created", name, exc)
    message = f"Kiosk {name} added; type its enrollment code on the kiosk."
    return fleet_page(request, hub, person, message, issued=issued)


@router.post("/fleet/{kiosk_id}/enrollment-code")
def new_code(
    request: Request,
    hub: Hub,
    person: Annotated[SignedIn, Depends(permitted("enroll"))],
    _form: Form,
    kiosk_id: str,
) -> HTMLResponse:
    """A new one-time code for ``kiosk provision``; any earlier code stops working."""

    def record(conn: Connection, issued: enrollment.IssuedCode) -> None:
        audit.record(
            conn,
            hub.clock(),
            person.name,
            "kiosk.enrollment_code",
            kiosk_id,
            after={"expires_at": issued.expires_at.isoformat()},
        )

    try:
        issued = enrollment.issue_code(
            hub.db, kiosk_id, hub.clock(), hub.settings.enrollment_ttl, on_change=record
        )
    except HubError as exc:
        return _refused(request, hub, person, "kiosk.enrollment_code", kiosk_id, exc)
    message = f"A new enrollment code for {kiosk_id}; any earlier one no longer works."
    return fleet_page(request, hub, person, message, issued=issued)
