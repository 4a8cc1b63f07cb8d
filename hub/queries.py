"""Read-only queries behind the staff endpoints and the CLI's listings."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from hub.db import Database
from hub.models import Alert, Batch, Bill, DeviceStatus, Kiosk, Payment, Posting
from hub.schemas import AlertView, BatchView, DeviceView, KioskView, PaymentView, PostingView


def alerts(
    db: Database, kiosk_id: str | None = None, include_resolved: bool = False, limit: int = 500
) -> list[AlertView]:
    query = select(Alert.__table__).order_by(Alert.id.desc()).limit(limit)
    if kiosk_id is not None:
        query = query.where(Alert.kiosk_id == kiosk_id)
    if not include_resolved:
        query = query.where(Alert.resolved_at.is_(None))
    with db.read() as conn:
        return [AlertView.model_validate(dict(row._mapping)) for row in conn.execute(query)]


def postings(
    db: Database, status: str | None = None, kiosk_id: str | None = None, limit: int = 500
) -> list[PostingView]:
    query = select(Posting.__table__).order_by(Posting.created_at, Posting.payment_id).limit(limit)
    if status is not None:
        query = query.where(Posting.status == status)
    if kiosk_id is not None:
        query = query.where(Posting.kiosk_id == kiosk_id)
    with db.read() as conn:
        return [PostingView.model_validate(dict(row._mapping)) for row in conn.execute(query)]


def payments(db: Database, kiosk_id: str | None = None, limit: int = 500) -> list[PaymentView]:
    query = (
        select(Payment.__table__, Posting.status.label("posting_status"))
        .outerjoin(Posting, Posting.payment_id == Payment.payment_id)
        .order_by(Payment.kiosk_id, Payment.journal_seq)
        .limit(limit)
    )
    if kiosk_id is not None:
        query = query.where(Payment.kiosk_id == kiosk_id)
    with db.read() as conn:
        return [PaymentView.model_validate(dict(row._mapping)) for row in conn.execute(query)]


def batches(db: Database, kiosk_id: str | None = None, limit: int = 500) -> list[BatchView]:
    query = select(Batch.__table__).order_by(Batch.kiosk_id, Batch.opened_seq).limit(limit)
    counts = select(
        Bill.kiosk_id, Bill.batch_id, Bill.denomination_cents, func.count().label("n")
    ).group_by(Bill.kiosk_id, Bill.batch_id, Bill.denomination_cents)
    if kiosk_id is not None:
        query = query.where(Batch.kiosk_id == kiosk_id)
        counts = counts.where(Bill.kiosk_id == kiosk_id)
    with db.read() as conn:
        by_batch: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        for row in conn.execute(counts):
            by_batch[(row.kiosk_id, row.batch_id)][str(row.denomination_cents)] = int(row.n)
        return [
            BatchView.model_validate(
                dict(row._mapping)
                | {"bills_by_denomination": by_batch.get((row.kiosk_id, row.batch_id), {})}
            )
            for row in conn.execute(query)
        ]


def kiosks(db: Database) -> list[KioskView]:
    with db.read() as conn:
        open_alerts = {
            str(kiosk_id): int(count)
            for kiosk_id, count in conn.execute(
                select(Alert.kiosk_id, func.count())
                .where(Alert.resolved_at.is_(None))
                .group_by(Alert.kiosk_id)
            )
        }
        devices: dict[str, list[DeviceView]] = defaultdict(list)
        for row in conn.execute(
            select(DeviceStatus.__table__).order_by(DeviceStatus.kiosk_id, DeviceStatus.device)
        ):
            devices[row.kiosk_id].append(DeviceView.model_validate(dict(row._mapping)))
        views = []
        for row in conn.execute(select(Kiosk.__table__).order_by(Kiosk.id)):
            data = dict(row._mapping)
            views.append(
                KioskView.model_validate(
                    data
                    | {
                        "kiosk_id": data["id"],
                        "enrolled": data["secret"] is not None,
                        "open_alerts": open_alerts.get(data["id"], 0),
                        "devices": devices.get(data["id"], []),
                    }
                )
            )
        return views
