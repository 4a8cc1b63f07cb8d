"""Payments, suspense and the over/short ledger, under ``/console``.

- ``/console/payments``: search by account, confirmation, kiosk, day and posting status;
  a failed posting can be posted again now (clerk, supervisor).
- ``/console/suspense``: payments the billing system refused for their account, and those
  the hub holds for a check (a duplicate payment id, over the kiosk's limit); a clerk
  assigns the right account, which releases and posts it at once.
- ``/console/over-short``: what the counts found over or short, per kiosk and day.

Each action is audited with the posting's state before and after; a refusal re-shows the
page with why and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Connection, select

from hub import counts, finance, suspense
from hub.api.deps import Hub
from hub.console import render
from hub.console.guard import Form, allowed, permitted, refused
from hub.errors import HubError, Invalid, NotFound
from hub.models import Payment, Posting
from hub.staff import audit
from hub.staff.roles import may_do
from hub.staff.sessions import SignedIn

router = APIRouter(prefix="/console", include_in_schema=False)
STATUSES = ("pending", "posted", "failed", "suspense")
FILTERS = ("account", "confirmation", "kiosk", "day", "status")


def _posting(conn: Connection, payment_id: str) -> dict[str, Any]:
    row = conn.execute(
        select(
            Posting.status,
            Posting.attempts,
            Posting.last_error,
            Posting.assigned_account,
            Posting.held,
            Payment.confirmation,
        )
        .join(Payment, Payment.payment_id == Posting.payment_id)
        .where(Posting.payment_id == payment_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no payment {payment_id}")
    return dict(row._mapping)


def _search(hub: Hub, query: Mapping[str, str]) -> tuple[list[finance.PaymentLine], str]:
    """The payments the filters find, or none and why the filters do not read."""
    day: date | None = None
    if query.get("day"):
        try:
            day = date.fromisoformat(query["day"].strip())
        except ValueError:
            return [], f"{query['day']!r} is not a day (YYYY-MM-DD)"
    status = query.get("status") or None
    if status is not None and status not in STATUSES:
        return [], f"{status!r} is not a posting status"
    found = finance.search_payments(
        hub.db,
        account=query.get("account") or None,
        confirmation=query.get("confirmation") or None,
        kiosk_id=query.get("kiosk") or None,
        day=day,
        status=status,
    )
    return found, ""


def _payments_page(
    request: Request,
    hub: Hub,
    person: SignedIn,
    query: Mapping[str, str],
    message: str = "",
    status: int = 200,
) -> HTMLResponse:
    rows, problem = _search(hub, query)
    return render.page(
        request,
        "payments.html",
        person,
        status if not problem else 422,
        current="payments",
        rows=rows,
        query={name: query.get(name, "") for name in FILTERS},
        statuses=STATUSES,
        limit=finance.SEARCH_LIMIT,
        may_retry=may_do(person.role, "retry"),
        message=message,
        problem=problem,
    )


@router.get("/payments")
def payments(
    request: Request, hub: Hub, person: Annotated[SignedIn, Depends(allowed("payments"))]
) -> HTMLResponse:
    return _payments_page(request, hub, person, request.query_params)


@router.post("/payments/{payment_id}/retry")
def retry(
    request: Request,
    hub: Hub,
    person: Annotated[SignedIn, Depends(permitted("retry"))],
    form: Form,
    payment_id: str,
) -> HTMLResponse:
    """Post a failed payment now, rather than after its backoff."""
    back = {name: form.get(name, "") for name in FILTERS}
    try:
        with hub.db.read() as conn:
            before = _posting(conn, payment_id)
        if before["status"] != "failed":
            raise Invalid(f"payment {payment_id} is {before['status']}, not failed")
    except HubError as exc:
        return _payments_page(
            request, hub, person, back, refused(hub, person, "retry", payment_id, exc)
        )
    outcome, error = hub.poster.post_one(payment_id)
    with hub.db.write() as conn:
        after = _posting(conn, payment_id)
        # show the payment retried, whatever the filters were
        back = {"confirmation": str(after.pop("confirmation"))}
        before.pop("confirmation")
        audit.record(
            conn,
            hub.clock(),
            person.name,
            "posting.retried",
            payment_id,
            before=before,
            after=after,
            detail=outcome,
        )
    told = {
        "posted": f"Payment {payment_id} is posted.",
        "failed": f"Payment {payment_id} failed again: {error}",
        "skipped": f"Payment {payment_id} is being posted by the hub right now; look again soon.",
    }
    return _payments_page(request, hub, person, back, told[outcome])


def _suspense_page(
    request: Request, hub: Hub, person: SignedIn, message: str = "", status: int = 200
) -> HTMLResponse:
    return render.page(
        request,
        "suspense.html",
        person,
        status,
        current="suspense",
        rows=suspense.listing(hub.db),
        may_resolve=may_do(person.role, "resolve"),
        message=message,
    )


@router.get("/suspense")
def suspense_list(
    request: Request, hub: Hub, person: Annotated[SignedIn, Depends(allowed("suspense"))]
) -> HTMLResponse:
    return _suspense_page(request, hub, person)


@router.post("/suspense/{payment_id}")
def resolve(
    request: Request,
    hub: Hub,
    person: Annotated[SignedIn, Depends(permitted("resolve"))],
    form: Form,
    payment_id: str,
) -> HTMLResponse:
    """Assign the account a payment was meant for, then post it at once."""
    account = form.get("account", "").strip()
    try:
        with hub.db.read() as conn:
            before = _posting(conn, payment_id)

        def record(conn: Connection) -> None:
            audit.record(
                conn,
                hub.clock(),
                person.name,
                "suspense.resolved",
                payment_id,
                before=before,
                after=_posting(conn, payment_id),
            )

        suspense.resolve(hub.db, payment_id, account, person.name, hub.clock(), record)
    except HubError as exc:
        told = refused(hub, person, "resolve", payment_id, exc)
        return _suspense_page(request, hub, person, told, exc.status)
    outcome, error = hub.poster.post_one(payment_id)
    if outcome == "posted":
        message = f"Payment {payment_id} assigned to account {account} and posted."
    elif outcome == "failed":
        message = f"Payment {payment_id} assigned to account {account}, but posting failed: {error}"
    else:
        message = f"Payment {payment_id} assigned to account {account}; the hub is posting it."
    return _suspense_page(request, hub, person, message)


@router.get("/over-short")
def over_short(
    request: Request, hub: Hub, person: Annotated[SignedIn, Depends(allowed("over-short"))]
) -> HTMLResponse:
    days = counts.over_short(hub.db, hub.zone)
    totals: dict[str, list[int]] = {}
    for d in days:
        total = totals.setdefault(d.kiosk_id, [0, 0, 0])
        total[0] += d.batches
        total[1] += d.over_cents
        total[2] += d.short_cents
    return render.page(
        request,
        "over_short.html",
        person,
        current="over-short",
        days=list(reversed(days)),
        totals=sorted(totals.items()),
    )
