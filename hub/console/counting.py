"""A batch's own page: its collection, its card settlement and its blind count.

A clerk sees a count form with one field per note value and nothing the kiosk expects;
once the count is saved (the form carries version 0: "nothing counted yet"), the page shows
expected, counted and the difference per value and in total. A supervisor who did not count
it then approves a variance with a reason, or marks a matching count reconciled, with the
version the page showed: a batch changed meanwhile is refused with what it is now
(:class:`hub.counts.StaleBatch`), a count sent twice is refused (``AlreadyExists``).
Every change is audited in its own transaction; every refusal changes nothing.

With the second count on (:mod:`hub.options`), the first count shows only who made it; the
page then offers another clerk the same blind form (``counts_seen`` 1), and once that is
saved shows both counts beside what the kiosk expects, flagged where they differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from hub import counts, finance, kiosk_config
from hub.api.deps import Hub
from hub.console import batches, render
from hub.console.guard import Form, allowed, permitted, refused
from hub.errors import HubError, Invalid, NotFound
from hub.staff import audit
from hub.staff.roles import SEES_EXPECTED_CASH, may_do
from hub.staff.sessions import SignedIn

router = APIRouter(prefix="/console/batches", include_in_schema=False)
NOTES = "notes-"  # a count field is named after the note's value in cents: notes-2000


@dataclass(frozen=True)
class Lines:
    """One row of the count's table (``first``: the first of two counts, if made)."""

    denomination: int
    expected: int
    counted: int
    first: int | None = None

    @property
    def difference(self) -> int:
        return self.counted - self.expected


def _batch(hub: Hub, kiosk_id: str, batch_id: str) -> batches.BatchRow:
    for row in batches.rows(hub.db, kiosk_id):
        if row.batch.batch_id == batch_id:
            return row
    raise NotFound(f"kiosk {kiosk_id} has no batch {batch_id}")


def _context(hub: Hub, person: SignedIn, kiosk_id: str, batch_id: str) -> dict[str, Any]:
    row = _batch(hub, kiosk_id, batch_id)
    settlement = next(
        (s for s in finance.card_settlements(hub.db, kiosk_id) if s.batch_id == batch_id), None
    )
    count = counts.reconciliation(hub.db, kiosk_id, batch_id)
    first = count.first if count is not None else counts.first_count(hub.db, kiosk_id, batch_id)
    denominations = kiosk_config.get_settings(hub.db, kiosk_id).limits.accepted_bills_cents
    lines = []
    if count is not None:
        values = sorted(set(denominations) | set(count.expected) | set(count.counted))
        once = count.first.counted if count.first is not None else None
        lines = [
            Lines(
                d,
                count.expected.get(d, 0),
                count.counted.get(d, 0),
                None if once is None else once.get(d, 0),
            )
            for d in values
        ]
    return {
        "current": "batches",
        "row": row,
        "settlement": settlement,
        "count": count,
        "first": first,
        "lines": lines,
        "denominations": denominations,
        # the kiosk's cash figures: for those who do not count, or once the count is saved
        "sees_cash": person.role in SEES_EXPECTED_CASH or count is not None,
        "may_count": may_do(person.role, "count")
        and (first is None or first.counted_by != person.name),
        "may_decide": may_do(person.role, "approve") and count is not None,
        "typed": {},
        "message": "",
    }


@router.get("/{kiosk_id}/{batch_id}")
def batch_page(
    request: Request,
    hub: Hub,
    person: Annotated[SignedIn, Depends(allowed("batches"))],
    kiosk_id: str,
    batch_id: str,
) -> HTMLResponse:
    try:
        context = _context(hub, person, kiosk_id, batch_id)
    except NotFound as exc:
        return render.page(
            request, "refused.html", person, 404, message=exc.message, title="Not found"
        )
    return render.page(request, "batch.html", person, **context)


def _refused(
    request: Request,
    hub: Hub,
    person: SignedIn,
    where: tuple[str, str],
    action: str,
    exc: HubError,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    """The batch page again, as it is now, with why nothing was changed (and audited)."""
    kiosk_id, batch_id = where
    refused(hub, person, action, f"{kiosk_id}/{batch_id}", exc)
    try:
        context = _context(hub, person, kiosk_id, batch_id)
    except NotFound:
        return render.page(request, "refused.html", person, 404, message=exc.message)
    context |= {"message": exc.message, "typed": typed or {}}
    return render.page(request, "batch.html", person, exc.status, **context)


def _version(form: dict[str, str]) -> int:
    text = form.get("version", "").strip()
    if not text.isdigit():
        raise Invalid("the form had no version of the batch; reload the page")
    return int(text)


def _state(r: counts.Reconciliation | counts.FirstCounted) -> dict[str, Any]:
    if isinstance(r, counts.FirstCounted):
        return {
            "status": r.status,
            "counted": {str(d): n for d, n in r.counted.items()},
            "counted_cents": r.counted_cents,
            "counted_by": r.counted_by,
        }
    return {
        "status": r.status,
        "counted": {str(d): n for d, n in r.counted.items()},
        "counted_cents": r.counted_cents,
        "variance_cents": r.variance_cents,
        "decided_by": r.decided_by,
        "reason": r.reason,
        "version": r.version,
    }


def _audit(
    person: SignedIn,
    hub: Hub,
    action: str,
    before: counts.Reconciliation | counts.FirstCounted | None,
) -> counts.OnChange:
    def write(conn: Connection, now: counts.Reconciliation | counts.FirstCounted) -> None:
        audit.record(
            conn,
            hub.clock(),
            person.name,
            action,
            f"{now.kiosk_id}/{now.batch_id}",
            before=_state(before) if before is not None else {"status": "uncounted"},
            after=_state(now),
        )

    return write


def _back(kiosk_id: str, batch_id: str) -> RedirectResponse:
    return RedirectResponse(f"/console/batches/{kiosk_id}/{batch_id}", status_code=303)


@router.post("/{kiosk_id}/{batch_id}/count")
def count(
    request: Request,
    hub: Hub,
    person: Annotated[SignedIn, Depends(permitted("count"))],
    form: Form,
    kiosk_id: str,
    batch_id: str,
) -> Response:
    typed = {k.removeprefix(NOTES): v for k, v in form.items() if k.startswith(NOTES)}
    try:
        if _version(form) != 0:
            raise counts.StaleBatch(f"batch {batch_id} was counted already; reload it")
        seen = form.get("counts_seen", "0").strip()
        if seen not in ("0", "1"):
            raise Invalid("the form did not say which count this is; reload the page")
        denominations = kiosk_config.get_settings(hub.db, kiosk_id).limits.accepted_bills_cents
        notes = counts.parse_counts(typed, denominations)
        counts.record_count(
            hub.db,
            kiosk_id,
            batch_id,
            notes,
            person.name,
            hub.clock(),
            on_change=_audit(
                person, hub, "count.recorded", counts.first_count(hub.db, kiosk_id, batch_id)
            ),
            counts_seen=int(seen),
        )
    except HubError as exc:
        return _refused(request, hub, person, (kiosk_id, batch_id), "count", exc, typed)
    return _back(kiosk_id, batch_id)


@router.post("/{kiosk_id}/{batch_id}/approve")
def approve(
    request: Request,
    hub: Hub,
    person: Annotated[SignedIn, Depends(permitted("approve"))],
    form: Form,
    kiosk_id: str,
    batch_id: str,
) -> Response:
    reason = form.get("reason", "")

    def apply(version: int, on_change: counts.OnChange) -> None:
        counts.approve_variance(
            hub.db, kiosk_id, batch_id, person.name, reason, version, hub.clock(), on_change
        )

    return _sign_off(request, hub, person, form, (kiosk_id, batch_id), "approve", apply)


@router.post("/{kiosk_id}/{batch_id}/reconcile")
def reconcile(
    request: Request,
    hub: Hub,
    person: Annotated[SignedIn, Depends(permitted("reconcile"))],
    form: Form,
    kiosk_id: str,
    batch_id: str,
) -> Response:
    def apply(version: int, on_change: counts.OnChange) -> None:
        counts.mark_reconciled(
            hub.db, kiosk_id, batch_id, person.name, version, hub.clock(), on_change
        )

    return _sign_off(request, hub, person, form, (kiosk_id, batch_id), "reconcile", apply)


_SIGN_OFF_EVENTS = {"approve": "count.approved", "reconcile": "count.reconciled"}


def _sign_off(
    request: Request,
    hub: Hub,
    person: SignedIn,
    form: dict[str, str],
    batch: tuple[str, str],
    action: str,
    apply: Callable[[int, counts.OnChange], None],
) -> Response:
    """A supervisor's decision on a counted batch: applied against the version the page
    showed, audited with the batch as it stood before, or refused with what changed."""
    kiosk_id, batch_id = batch
    try:
        before = counts.reconciliation(hub.db, kiosk_id, batch_id)
        apply(_version(form), _audit(person, hub, _SIGN_OFF_EVENTS[action], before))
    except HubError as exc:
        return _refused(request, hub, person, batch, action, exc)
    return _back(kiosk_id, batch_id)
