"""Staff endpoints (admin token): alerts, postings, payments, batches, kiosk health.

The finance console will sit on these; until then they are how an operator sees what the
hub refused, what failed to post, and which kiosk has gone quiet.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from contract.wire import ErrorBody
from hub import queries
from hub.api.deps import Admin, Hub
from hub.schemas import AlertView, BatchView, KioskView, PaymentView, PostingStatus, PostingView

router = APIRouter(prefix="/v1", tags=["staff"], dependencies=[Admin])

KIOSK_ID = r"^[a-z0-9][a-z0-9-]{0,62}$"
KioskFilter = Annotated[str | None, Query(pattern=KIOSK_ID)]
Limit = Annotated[int, Query(ge=1, le=5000)]
_errors: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no or wrong admin token"},
    403: {"model": ErrorBody, "description": "the admin API is disabled"},
}


@router.get("/alerts", response_model=list[AlertView], responses=_errors)
def list_alerts(
    hub: Hub,
    kiosk_id: KioskFilter = None,
    include_resolved: bool = False,
    limit: Limit = 500,
) -> list[AlertView]:
    """Conflicts on kiosks' journals and entries that could not be projected, newest first."""
    return queries.alerts(hub.db, kiosk_id, include_resolved, limit)


@router.get("/postings", response_model=list[PostingView], responses=_errors)
def list_postings(
    hub: Hub,
    status: PostingStatus | None = None,
    kiosk_id: KioskFilter = None,
    limit: Limit = 500,
) -> list[PostingView]:
    """Postings to the CIS; ``?status=failed`` lists what needs attention."""
    return queries.postings(hub.db, status, kiosk_id, limit)


@router.get("/payments", response_model=list[PaymentView], responses=_errors)
def list_payments(hub: Hub, kiosk_id: KioskFilter = None, limit: Limit = 500) -> list[PaymentView]:
    """Payments with their effective date and posting status."""
    return queries.payments(hub.db, kiosk_id, limit)


@router.get("/batches", response_model=list[BatchView], responses=_errors)
def list_batches(hub: Hub, kiosk_id: KioskFilter = None, limit: Limit = 500) -> list[BatchView]:
    """Each kiosk's batches (cash-box periods) with their totals."""
    return queries.batches(hub.db, kiosk_id, limit)


@router.get("/kiosks", response_model=list[KioskView], responses=_errors)
def list_kiosks(hub: Hub) -> list[KioskView]:
    """Every kiosk: last contact and push, devices' last faults and notices, open alerts."""
    return queries.kiosks(hub.db)
