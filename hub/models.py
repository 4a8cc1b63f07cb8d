"""The hub's tables, as SQLAlchemy typed declarative models.

``journal_entries`` holds each kiosk's replicated journal, verbatim; ``payments``,
``bills``, ``card_sales``, ``batches`` and ``device_status`` are projections of it, updated
in the same transaction as the entries that feed them. The rest is the hub's own state:
kiosks and their credentials, enrollment codes, alerts, postings to the CIS, the account
catalog, the technicians kiosks let into service mode, the nonces that stop a signed
request from being replayed, and the console's staff, their sessions and the audit log.

These models describe the schema at the newest migration (``hub/migrations/versions``); a
test compares them, so a change here without a migration fails the build. Constraint names
follow :data:`NAMING` (SQLite batch migrations need names to copy tables).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from contract.wire import GENESIS

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
POSTING_STATUSES = ("pending", "posted", "failed", "suspense")
CARD_STATUSES = (
    "requested",
    "approved",
    "declined",
    "cancelled",
    "in_doubt",
    "reversed",
    "reversal_failed",
)
STAFF_ROLES = ("technician", "clerk", "supervisor", "admin", "auditor")


class UTCDateTime(TypeDecorator[datetime]):
    """A moment stored as naive UTC, read back as aware UTC, on SQLite and PostgreSQL alike.

    Refuses naive datetimes: a time without a zone is a bug (DESIGN.md rule 6).
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("the hub stores aware UTC times only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):  # SQLite hands back text for raw SQL only
            value = datetime.fromisoformat(str(value))
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), int: BigInteger()}


class Kiosk(Base):
    """A kiosk the hub knows, its credentials, what it last reported, and its settings.

    ``secret`` is what the hub needs to check the kiosk's signatures, so it is stored as is:
    encrypt the database at rest in production and keep this column out of logs and dumps.
    ``acked_seq``/``acked_hash`` are the end of the kiosk's chain as stored here: ingest
    locks this row, so pushes for one kiosk are serialized across hub processes.
    """

    __tablename__ = "kiosks"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    location: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    secret: Mapped[str | None] = mapped_column(String(64))
    enrolled_at: Mapped[datetime | None]
    hardware: Mapped[str | None] = mapped_column(Text)
    acked_seq: Mapped[int] = mapped_column(default=0)
    acked_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)
    last_push_at: Mapped[datetime | None]
    last_contact_at: Mapped[datetime | None]
    reported_head_seq: Mapped[int | None]
    #: the last signed request's timestamp less the hub's clock, in seconds (+: kiosk ahead)
    clock_offset_s: Mapped[int | None]
    """The kiosk's last journal seq when it last pushed (entries waiting = this - acked_seq)."""
    last_entry_at: Mapped[str | None] = mapped_column(String(32))
    software_version: Mapped[str | None] = mapped_column(String(64))
    reported_out_of_service: Mapped[bool] = mapped_column(default=False)
    reported_reason: Mapped[str] = mapped_column(String(500), default="")
    settings: Mapped[str] = mapped_column(Text, default="{}")
    out_of_service: Mapped[bool] = mapped_column(default=False)
    out_of_service_reason: Mapped[str] = mapped_column(String(500), default="")
    settings_version: Mapped[int] = mapped_column(default=1)


class EnrollmentCode(Base):
    """A one-time code, stored as its sha256 so a database dump gives no usable code."""

    __tablename__ = "enrollment_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(63), ForeignKey("kiosks.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class EnrollmentAttempt(Base):
    """Failed enrollment attempts in the current window, per client address (``addr:…``)
    and per kiosk whose code was tried (``kiosk:…``): in the database, so every hub process
    behind a balancer counts the same attempts."""

    __tablename__ = "enrollment_attempts"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime]
    failures: Mapped[int] = mapped_column(default=0)


class JournalEntry(Base):
    """One replicated entry, verbatim: ``at`` and ``payload`` are the texts that were hashed.

    The primary key (kiosk_id, seq) is the last line of defence against a duplicate.
    """

    __tablename__ = "journal_entries"
    __table_args__ = (
        CheckConstraint("seq >= 1", name="seq_positive"),
        Index("ix_journal_entries_kiosk_id_type", "kiosk_id", "type"),
    )

    kiosk_id: Mapped[str] = mapped_column(String(63), ForeignKey("kiosks.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(64))
    at: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]


class Alert(Base):
    """Something finance or a technician must look at: a conflict on a kiosk's journal, an
    entry the projections could not read, or a device fault still open (``device``; resolved
    by the device's ``device.recovered``). Repeats of the same alert raise ``count``."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    kiosk_id: Mapped[str] = mapped_column(String(63), ForeignKey("kiosks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int | None]
    expected_seq: Mapped[int | None]
    reason: Mapped[str] = mapped_column(Text)
    received_hash: Mapped[str | None] = mapped_column(String(64))
    stored_hash: Mapped[str | None] = mapped_column(String(64))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(default=1)
    resolved_at: Mapped[datetime | None]
    device: Mapped[str | None] = mapped_column(String(64))


class Payment(Base):
    """A completed payment (``payment.completed``), whatever became of its posting.

    ``paid_at`` is the kiosk's text; ``effective_date`` is that moment's date in the hub's
    time zone: the date the payment counts from, however late it reached the hub.
    """

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_kiosk_id_journal_seq", "kiosk_id", "journal_seq"),)

    payment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(63), ForeignKey("kiosks.id"))
    session_id: Mapped[str] = mapped_column(String(64))
    confirmation: Mapped[str] = mapped_column(String(64), index=True)
    account_number: Mapped[str] = mapped_column(String(64), index=True)
    method: Mapped[str] = mapped_column(String(16))
    amount_cents: Mapped[int]
    fee_cents: Mapped[int]
    cash_cents: Mapped[int]
    bills: Mapped[str] = mapped_column(Text)
    card_reference: Mapped[str | None] = mapped_column(String(64))
    card_brand: Mapped[str | None] = mapped_column(String(32))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    card_auth_code: Mapped[str | None] = mapped_column(String(32))
    card_terminal_ref: Mapped[str | None] = mapped_column(String(64))
    paid_at: Mapped[str] = mapped_column(String(40))
    effective_date: Mapped[date] = mapped_column(index=True)
    review: Mapped[bool]
    recovered: Mapped[bool]
    batch_id: Mapped[str] = mapped_column(String(16))
    journal_seq: Mapped[int]
    received_at: Mapped[datetime]


class Bill(Base):
    """A bill that reached a kiosk's cash box (``bill.stacked``), counted once per bill id."""

    __tablename__ = "bills"

    kiosk_id: Mapped[str] = mapped_column(String(63), ForeignKey("kiosks.id"), primary_key=True)
    bill_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    denomination_cents: Mapped[int]
    batch_id: Mapped[str] = mapped_column(String(16))
    journal_seq: Mapped[int]
    stacked_at: Mapped[str] = mapped_column(String(32))
    recovered: Mapped[bool]


class CardSale(Base):
    """The latest known state of one card sale, by the reference the kiosk gave it."""

    __tablename__ = "card_sales"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in CARD_STATUSES) + ")", name="status"
        ),
    )

    kiosk_id: Mapped[str] = mapped_column(String(63), ForeignKey("kiosks.id"), primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64))
    total_cents: Mapped[int]
    fee_cents: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    auth_code: Mapped[str | None] = mapped_column(String(32))
    brand: Mapped[str | None] = mapped_column(String(32))
    last4: Mapped[str | None] = mapped_column(String(4))
    terminal_ref: Mapped[str | None] = mapped_column(String(64))
    updated_seq: Mapped[int]


class Batch(Base):
    """A range of one kiosk's journal between cash-box collections, with its totals.

    Ids and boundaries are the kiosk's own (``B`` + the seq it opens at), so finance can
    match the kiosk's printed batch report line by line.
    """

    __tablename__ = "batches"

    kiosk_id: Mapped[str] = mapped_column(String(63), ForeignKey("kiosks.id"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    opened_seq: Mapped[int]
    opened_at: Mapped[str] = mapped_column(String(32))
    closed_seq: Mapped[int | None]
    closed_at: Mapped[str | None] = mapped_column(String(32))
    close_reason: Mapped[str | None] = mapped_column(String(255))
    cash_cents: Mapped[int] = mapped_column(default=0)
    bill_count: Mapped[int] = mapped_column(default=0)
    card_cents: Mapped[int] = mapped_column(default=0)
    card_count: Mapped[int] = mapped_column(default=0)
    payment_count: Mapped[int] = mapped_column(default=0)
    payment_cents: Mapped[int] = mapped_column(default=0)


class BatchCount(Base):
    """A batch's cash as finance counted it, and where its reconciliation stands.

    ``status``: ``counted`` (the count equals what the kiosk says it took; a supervisor then
    marks it ``reconciled``) or ``variance`` (it does not; a supervisor other than the
    counter approves it with a reason: ``approved``). ``version`` goes up on every change, so
    a page loaded before someone else's change can not overwrite it.
    """

    __tablename__ = "batch_counts"
    __table_args__ = (
        CheckConstraint(
            "status IN ('counted', 'variance', 'reconciled', 'approved')", name="status"
        ),
    )

    kiosk_id: Mapped[str] = mapped_column(String(63), ForeignKey("kiosks.id"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    counted_bills: Mapped[str] = mapped_column(Text)  # {denomination_cents: count}, canonical
    expected_bills: Mapped[str] = mapped_column(Text)  # what the kiosk took, when counted
    counted_cents: Mapped[int]
    expected_cents: Mapped[int]
    variance_cents: Mapped[int]  # counted - expected: over (+) or short (-)
    counted_by: Mapped[str] = mapped_column(String(128))
    counted_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)


class FirstCount(Base):
    """A batch's first count, when the hub asks for two (:mod:`hub.options`): kept until and
    after another clerk's second count, which then goes into :class:`BatchCount`, so the two
    can be set side by side and a difference between them flagged."""

    __tablename__ = "batch_first_counts"

    kiosk_id: Mapped[str] = mapped_column(String(63), ForeignKey("kiosks.id"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    counted_bills: Mapped[str] = mapped_column(Text)  # {denomination_cents: count}, canonical
    counted_cents: Mapped[int]
    counted_by: Mapped[str] = mapped_column(String(128))
    counted_at: Mapped[datetime]


class HubOption(Base):
    """An option staff set from the console (JSON ``value``), the same for every hub
    process, with who changed it last and when (the audit log has each change)."""

    __tablename__ = "hub_options"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(128))


class DeviceStatus(Base):
    """The last fault and the last notice each device of a kiosk reported, and its last
    recovery: the fault is open while ``recovered_seq`` is missing or older than it."""

    __tablename__ = "device_status"

    kiosk_id: Mapped[str] = mapped_column(String(63), ForeignKey("kiosks.id"), primary_key=True)
    device: Mapped[str] = mapped_column(String(64), primary_key=True)
    fault_reason: Mapped[str | None] = mapped_column(String(500))
    fault_seq: Mapped[int | None]
    fault_at: Mapped[str | None] = mapped_column(String(32))
    notice_kind: Mapped[str | None] = mapped_column(String(64))
    notice_detail: Mapped[str | None] = mapped_column(String(500))
    notice_seq: Mapped[int | None]
    notice_at: Mapped[str | None] = mapped_column(String(32))
    recovered_seq: Mapped[int | None]
    recovered_at: Mapped[str | None] = mapped_column(String(32))


class Posting(Base):
    """Delivery of one payment to the CIS: at most one row per payment, posted at most once.

    A process *claims* a row (``claim_token``, ``claimed_until``) before delivering it, so
    two hub processes never deliver the same payment at the same time; a claim that outlives
    ``claimed_until`` (a process that died) may be taken over. ``reference`` is fixed at the
    first claim (the CSV file a payment goes to), so a retry looks in the same place.
    """

    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in POSTING_STATUSES) + ")", name="status"
        ),
        Index("ix_postings_status_next_attempt_at", "status", "next_attempt_at"),
    )

    payment_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("payments.payment_id"), primary_key=True
    )
    kiosk_id: Mapped[str] = mapped_column(String(63), ForeignKey("kiosks.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    adapter: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime]
    claim_token: Mapped[str | None] = mapped_column(String(36))
    claimed_until: Mapped[datetime | None]
    # suspense: the account a clerk assigned, in place of the one the resident paid
    assigned_account: Mapped[str | None] = mapped_column(String(64))
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    resolved_at: Mapped[datetime | None]
    # held by the hub for a clerk (a duplicate payment id, a payment over its kiosk's
    # limits): in suspense, and no poster takes it until a clerk resolves it
    held: Mapped[bool] = mapped_column(default=False, server_default=false())


class Transmission(Base):
    """One payment import file, as the hub wrote it (or is about to).

    The id is the file's transmission id. ``layout`` is the layout it was written with, in
    full (``layout_hash`` its sha256), so the file can be written again byte for byte after
    the city's layout has changed; ``sha256`` is the hash of the bytes written.
    ``written_at`` is empty until the file is in place: a run finds such a file and writes
    it (same id, same payments) before it starts a new one.
    """

    __tablename__ = "transmissions"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    layout_name: Mapped[str] = mapped_column(String(64))
    layout_version: Mapped[str] = mapped_column(String(32))
    layout_hash: Mapped[str] = mapped_column(String(64))
    layout: Mapped[str] = mapped_column(Text)
    #: the hub's time zone when it was made: its dates are written in it, now and again
    time_zone: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    written_at: Mapped[datetime | None]
    record_count: Mapped[int | None]
    detail_count: Mapped[int]
    total_cents: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))


class TransmissionPayment(Base):
    """Which payment went into which file: the payment id is the key, so a payment is in
    one file at most. ``account_number`` is the account written (a clerk's assignment from
    suspense, if any)."""

    __tablename__ = "transmission_payments"
    __table_args__ = (Index("ix_transmission_payments_transmission_id", "transmission_id"),)

    payment_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("payments.payment_id"), primary_key=True
    )
    transmission_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("transmissions.id"))
    position: Mapped[int]
    account_number: Mapped[str] = mapped_column(String(64))


class AccountRow(Base):
    """A utility account. ``version`` is the catalog version of its last change;
    ``removed_version`` is set when an import dropped it (kept so deltas can say so)."""

    __tablename__ = "accounts"

    number: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    service_address: Mapped[str] = mapped_column(String(255))
    balance_cents: Mapped[int]
    due_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16))
    usage: Mapped[str] = mapped_column(Text)
    #: what the billing system tells about the bill beyond its balance, as JSON: the last
    #: payment (``{"amount_cents", "paid_on"}``) and the charges by service
    bill: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    version: Mapped[int] = mapped_column(index=True)
    removed_version: Mapped[int | None] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class AccountCatalog(Base):
    """The catalog's version (one row, id 1). Every change to accounts takes this row's lock
    and a new version, so versions are committed in order and a delta never skips one."""

    __tablename__ = "account_catalog"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int]
    updated_at: Mapped[datetime | None]


class TechnicianRow(Base):
    """Someone who may enter service mode on every kiosk: the argon2id hash of their PIN
    (never the PIN) and their badge's code, if any. Removing one clears ``active`` and frees
    the badge; the row stays, so the name keeps meaning the same person."""

    __tablename__ = "technicians"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    name: Mapped[str] = mapped_column(String(64), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(256))
    badge: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Nonce(Base):
    """A nonce a kiosk used, kept until its timestamp could no longer pass the skew check."""

    __tablename__ = "nonces"

    kiosk_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class StaffUser(Base):
    """Someone who signs in to the console: a role, an argon2id password hash and a TOTP
    secret (kept as is: the hub must compute the codes to check them, so encrypt the database
    at rest). ``totp_last_step`` is the RFC 6238 time step of the last code accepted: a code
    of that step or an earlier one is refused, so a code seen over a shoulder is useless.
    ``failed_attempts`` counts failed sign-ins since the last good one; the tenth locks the
    account until ``locked_until``."""

    __tablename__ = "staff_users"
    __table_args__ = (
        CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in STAFF_ROLES) + ")", name="role"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    totp_secret: Mapped[str] = mapped_column(String(64))
    totp_last_step: Mapped[int | None]
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class StaffSession(Base):
    """A signed-in browser. The cookie carries a random token; only its sha256 is stored,
    so a database dump signs nobody in. ``csrf_token`` goes into every form of the session."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger(), ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    csrf_token: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    """One staff action or sign-in attempt: who, when, what, and the state before and after
    (JSON, never a secret). Rows are only ever added."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255), default="")
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text, default="")
