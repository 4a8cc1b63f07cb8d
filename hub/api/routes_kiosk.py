"""Endpoints kiosks call: enroll, push and resume the journal, pull settings and accounts.

Everything but enrollment and health is signed (:mod:`contract.signing`); a kiosk acts only on
its own journal and settings (403 otherwise), but may look up any account.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request
from fastapi.responses import JSONResponse

from contract.wire import (
    Account,
    AccountDelta,
    AccountSnapshot,
    AckResponse,
    Conflict,
    EnrollRequest,
    EnrollResponse,
    ErrorBody,
    Health,
    KioskSettings,
    PushRequest,
    PushResponse,
)
from hub import __version__, accounts, enrollment, ingest, kiosk_config
from hub.api.deps import Hub, SignedFirstRoute, SignedKiosk
from hub.errors import NotFound
from hub.security import require_own

router = APIRouter(prefix="/v1", route_class=SignedFirstRoute)

KIOSK_ID = r"^[a-z0-9][a-z0-9-]{0,62}$"
ACCOUNT = r"^[A-Za-z0-9-]{1,64}$"
KioskIdPath = Annotated[str, Path(pattern=KIOSK_ID, description="the kiosk's id")]

_errors: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "bad, stale or replayed signature; unknown kiosk"},
    403: {"model": ErrorBody, "description": "a kiosk acting for another kiosk"},
    422: {"model": ErrorBody, "description": "the request does not match the schema"},
}


def _with(extra: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    return {**_errors, **extra}


@router.get("/health", response_model=Health, tags=["kiosk"])
def health(hub: Hub) -> JSONResponse:
    """Liveness and database reachability, for the load balancer and a kiosk's doctor check."""
    ok = hub.db.ping()
    body = Health(
        status="ok" if ok else "degraded",
        version=__version__,
        database="ok" if ok else "unreachable",
        time=hub.clock(),
    )
    return JSONResponse(status_code=200 if ok else 503, content=body.model_dump(mode="json"))


@router.post(
    "/enroll",
    response_model=EnrollResponse,
    tags=["kiosk"],
    responses={
        401: {
            "model": ErrorBody,
            "description": "the code does not work (unknown, used, replaced or expired alike)",
        },
        429: {"model": ErrorBody, "description": "too many failed attempts from here or for it"},
        422: {"model": ErrorBody, "description": "the request does not match the schema"},
    },
)
def enroll(request: EnrollRequest, hub: Hub, http: Request) -> EnrollResponse:
    """Trade a one-time enrollment code for the kiosk's id and signing secret."""
    client = http.client.host if http.client is not None else ""
    return enrollment.enroll(hub.db, request, hub.clock(), client)


@router.post(
    "/kiosks/{kiosk_id}/journal",
    response_model=PushResponse,
    tags=["kiosk"],
    responses=_with(
        {
            409: {
                "model": Conflict,
                "description": "a gap, or an entry the hub can not accept (edited, off the "
                "chain, or different from the one it holds)",
            }
        }
    ),
)
def push_journal(
    kiosk_id: KioskIdPath,
    push: PushRequest,
    signed: SignedKiosk,
    hub: Hub,
    background: BackgroundTasks,
) -> Any:
    """Store a run of journal entries; answers the seq the hub now holds up to.

    Idempotent: entries the hub already holds are compared, not stored again.
    """
    require_own(kiosk_id, signed)
    ingest.check_payments(push.entries)
    result = ingest.ingest(hub.db, kiosk_id, push.entries, hub.clock(), hub.zone, push.head_seq)
    if result.new_payments and hub.settings.posting.on_ingest:
        background.add_task(hub.poster.post_new, result.new_payments)
    if result.conflict is not None:
        return JSONResponse(status_code=409, content=result.conflict.model_dump(mode="json"))
    return PushResponse(acked_seq=result.acked_seq, acked_hash=result.acked_hash)


@router.get(
    "/kiosks/{kiosk_id}/journal/ack", response_model=AckResponse, tags=["kiosk"], responses=_errors
)
def journal_ack(kiosk_id: KioskIdPath, signed: SignedKiosk, hub: Hub) -> AckResponse:
    """Where the hub's copy of this kiosk's journal ends: the kiosk resumes after it."""
    require_own(kiosk_id, signed)
    seq, hash_ = ingest.acknowledged(hub.db, kiosk_id)
    return AckResponse(acked_seq=seq, acked_hash=hash_)


@router.get(
    "/kiosks/{kiosk_id}/settings", response_model=KioskSettings, tags=["kiosk"], responses=_errors
)
def settings(kiosk_id: KioskIdPath, signed: SignedKiosk, hub: Hub) -> KioskSettings:
    """Limits, card fee, messages and out-of-service, as the hub decides them for this kiosk."""
    require_own(kiosk_id, signed)
    return kiosk_config.get_settings(hub.db, kiosk_id)


@router.get("/accounts/snapshot", response_model=AccountSnapshot, tags=["kiosk"], responses=_errors)
def account_snapshot(signed: SignedKiosk, hub: Hub) -> AccountSnapshot:
    """Every account, with the catalog version it is current at."""
    return accounts.snapshot(hub.db)


@router.get("/accounts/delta", response_model=AccountDelta, tags=["kiosk"], responses=_errors)
def account_delta(
    signed: SignedKiosk,
    hub: Hub,
    since: Annotated[int, Query(ge=0, le=2**62, description="the version the kiosk holds")],
) -> AccountDelta:
    """Accounts added or changed since a version, and the numbers of those removed."""
    return accounts.delta(hub.db, since)


@router.get(
    "/accounts/{number}",
    response_model=Account,
    tags=["kiosk"],
    responses=_with({404: {"model": ErrorBody, "description": "no such account"}}),
)
def account(
    number: Annotated[str, Path(pattern=ACCOUNT)], signed: SignedKiosk, hub: Hub
) -> Account:
    """Live lookup of one account."""
    found = accounts.lookup(hub.db, number)
    if found is None:
        raise NotFound(f"no account {number}")
    return found
