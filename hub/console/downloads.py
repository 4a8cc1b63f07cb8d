"""Downloads under ``/console/exports``: the CSV and PDF files of :mod:`hub.exports`.

Each file is made from the database alone, so a day downloaded twice is the same file; each
download is audited (who took which file), and only the roles that may export get one.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from hub import counts, exports
from hub.api.deps import Hub
from hub.console.guard import allowed, permitted
from hub.errors import Forbidden, Invalid
from hub.staff import audit
from hub.staff.roles import SEES_EXPECTED_CASH
from hub.staff.sessions import SignedIn

router = APIRouter(prefix="/console/exports", include_in_schema=False)
Exporter = Annotated[SignedIn, Depends(permitted("export"))]
CSV = "text/csv; charset=utf-8"
PDF = "application/pdf"


def _day(text: str | None) -> date:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        raise Invalid(f"{text!r} is not a day (YYYY-MM-DD)") from None


def _file(hub: Hub, person: SignedIn, name: str, body: bytes, media_type: str) -> Response:
    with hub.db.write() as conn:
        audit.record(conn, hub.clock(), person.name, "export", name, detail=f"{len(body)} bytes")
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media_type, headers=headers)


@router.get("/payments.csv")
def payments(hub: Hub, person: Exporter, day: str = "", kiosk: str = "") -> Response:
    when, kiosk_id = _day(day), kiosk or None
    body = exports.payments_csv(hub.db, hub.zone, when, kiosk_id)
    name = exports.file_name("payments", day=when, kiosk_id=kiosk_id)
    return _file(hub, person, name, body, CSV)


@router.get("/batches.csv")
def batches(hub: Hub, person: Exporter, day: str = "", kiosk: str = "") -> Response:
    when, kiosk_id = _day(day), kiosk or None
    body = exports.batches_csv(hub.db, hub.zone, when, kiosk_id)
    name = exports.file_name("batches", day=when, kiosk_id=kiosk_id)
    return _file(hub, person, name, body, CSV)


@router.get("/over-short.csv")
def over_short(hub: Hub, person: Exporter) -> Response:
    body = exports.over_short_csv(hub.db, hub.zone)
    return _file(hub, person, exports.file_name("over-short"), body, CSV)


@router.get("/deposit-slip.pdf")
def deposit_slip(hub: Hub, person: Exporter, day: str = "") -> Response:
    when = _day(day)
    body = exports.deposit_slip_pdf(hub.db, hub.zone, when)
    return _file(hub, person, exports.file_name("deposit-slip", day=when), body, PDF)


@router.get("/batch-report/{kiosk_id}/{batch_id}.pdf")
def batch_report(hub: Hub, person: Exporter, kiosk_id: str, batch_id: str) -> Response:
    """The report shows the cash the kiosk expects: a counter gets it once the count is in."""
    counted = counts.reconciliation(hub.db, kiosk_id, batch_id) is not None
    if not counted and person.role not in SEES_EXPECTED_CASH:
        raise Forbidden(f"batch {batch_id} is not counted yet: its report would show the count")
    body = exports.batch_report_pdf(hub.db, hub.zone, kiosk_id, batch_id)
    name = exports.file_name("batch-report", kiosk_id=kiosk_id, batch_id=batch_id)
    return _file(hub, person, name, body, PDF)


@router.get("/audit.csv")
def audit_log(hub: Hub, person: Annotated[SignedIn, Depends(allowed("audit"))]) -> Response:
    """Whoever may read the audit log may take it away too (its own download is audited)."""
    body = exports.audit_csv(hub.db, hub.zone)
    return _file(hub, person, exports.file_name("audit"), body, CSV)
