"""Response models of the staff (admin) endpoints: the hub's own views, not part of the
kiosk wire contract (that is :mod:`contract.wire`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

PostingStatus = Literal["pending", "posted", "failed", "suspense"]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class AlertView(_View):
    id: int
    kiosk_id: str
    kind: str
    seq: int | None
    expected_seq: int | None
    reason: str
    received_hash: str | None
    stored_hash: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    count: int
    resolved_at: datetime | None
    device: str | None = None


class PostingView(_View):
    payment_id: str
    kiosk_id: str
    status: PostingStatus
    adapter: str | None
    attempts: int
    last_error: str | None
    reference: str | None
    created_at: datetime
    updated_at: datetime
    posted_at: datetime | None
    next_attempt_at: datetime
    #: held on purpose for a clerk (a payment id another kiosk used, over its kiosk's limit):
    #: no run of the poster takes it until it is released in the console
    held: bool


class PaymentView(_View):
    """A payment as finance sees it; ``effective_date`` is when it counts from."""

    payment_id: str
    kiosk_id: str
    confirmation: str
    account_number: str
    method: str
    amount_cents: int
    fee_cents: int
    cash_cents: int
    card_brand: str | None
    card_last4: str | None
    card_auth_code: str | None
    paid_at: str
    effective_date: date
    review: bool
    recovered: bool
    batch_id: str
    journal_seq: int
    received_at: datetime
    posting_status: PostingStatus | None


class BatchView(_View):
    kiosk_id: str
    batch_id: str
    opened_seq: int
    opened_at: str
    closed_seq: int | None
    closed_at: str | None
    close_reason: str | None
    cash_cents: int
    bill_count: int
    bills_by_denomination: dict[str, int] = Field(default_factory=dict)
    card_cents: int
    card_count: int
    payment_count: int
    payment_cents: int


class DeviceView(_View):
    device: str
    fault_reason: str | None
    fault_seq: int | None
    fault_at: str | None
    notice_kind: str | None
    notice_detail: str | None
    notice_seq: int | None
    notice_at: str | None
    recovered_seq: int | None = None
    recovered_at: str | None = None

    @property
    def open_fault(self) -> str | None:
        """The reason of the device's fault while it lasts, else None."""
        if self.fault_seq is None or (self.recovered_seq or 0) > self.fault_seq:
            return None
        return self.fault_reason


class KioskView(_View):
    """A kiosk's health as the hub last heard it."""

    kiosk_id: str
    location: str
    enrolled: bool
    enrolled_at: datetime | None
    acked_seq: int
    reported_head_seq: int | None
    #: the kiosk's clock less the hub's at its last signed request, seconds (+: ahead)
    clock_offset_s: int | None = None
    last_push_at: datetime | None
    last_contact_at: datetime | None
    last_entry_at: str | None
    software_version: str | None
    reported_out_of_service: bool
    reported_reason: str
    out_of_service: bool
    out_of_service_reason: str
    settings_version: int
    open_alerts: int
    devices: list[DeviceView]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def entries_waiting(self) -> int | None:
        """Entries the kiosk held beyond the hub's copy at its last push (None: never said)."""
        if self.reported_head_seq is None:
            return None
        return max(0, self.reported_head_seq - self.acked_seq)
