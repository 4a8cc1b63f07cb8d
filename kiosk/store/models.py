"""The kiosk database's tables, as SQLAlchemy typed declarative models.

``journal`` is the only table that holds facts; every other table is a projection that
:meth:`kiosk.store.journal.Journal.rebuild_projections` can delete and replay. These models
describe the schema at the newest migration: a test compares them with what the migrations
in ``kiosk/store/migrations`` build, so a change here without a migration fails the build.

Constraint names follow :data:`NAMING`, because SQLite can only change a table by copying
it ("batch" migrations), and a copy needs to know each constraint by name.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CARD_STATUSES = (
    "requested",
    "approved",
    "declined",
    "cancelled",
    "in_doubt",
    "reversed",
    "reversal_failed",
)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class JournalRow(Base):
    """One journal entry as stored; ``payload`` is its canonical JSON text."""

    __tablename__ = "journal"
    __table_args__ = (
        CheckConstraint("seq >= 1", name="seq_positive"),
        Index("ix_journal_type", "type"),
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    at: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class Payment(Base):
    __tablename__ = "payments"

    payment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64))
    confirmation: Mapped[str] = mapped_column(String(64), unique=True)
    account_number: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))
    amount_cents: Mapped[int]
    fee_cents: Mapped[int]
    cash_cents: Mapped[int]
    paid_at: Mapped[str] = mapped_column(String(40))
    review: Mapped[bool]
    batch_id: Mapped[str] = mapped_column(String(16))
    journal_seq: Mapped[int]


class Bill(Base):
    """A bill that reached the cash box (``bill.stacked``)."""

    __tablename__ = "bills"

    bill_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64))
    denomination_cents: Mapped[int]
    stacked_at: Mapped[str] = mapped_column(String(32))
    journal_seq: Mapped[int]
    batch_id: Mapped[str] = mapped_column(String(16))
    recovered: Mapped[bool]


class CardAuthorisation(Base):
    """The latest known state of one card sale, by the reference the kiosk gave it."""

    __tablename__ = "card_authorisations"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in CARD_STATUSES) + ")", name="status"
        ),
    )

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
    """A contiguous range of the journal between cash-box collections.

    ``card_cents``/``card_count`` are net: an approval reversed in the same or a later batch
    is taken off the batch that is open when the reversal is journaled.
    """

    __tablename__ = "batches"

    batch_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    opened_at: Mapped[str] = mapped_column(String(32))
    opened_seq: Mapped[int]
    closed_at: Mapped[str | None] = mapped_column(String(32))
    closed_seq: Mapped[int | None]
    cash_cents: Mapped[int]
    bill_count: Mapped[int]
    card_cents: Mapped[int]
    card_count: Mapped[int]
    payment_count: Mapped[int]


class SyncCursor(Base):
    """The hub's last acknowledged seq (one row, id 1); entries after it are unsent."""

    __tablename__ = "sync_cursor"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    acked_seq: Mapped[int]
    updated_at: Mapped[str | None] = mapped_column(String(32))


class ProjectionState(Base):
    """The last seq applied to the projections (one row, id 1).

    Appends move it in the same transaction as the entry; a migration that changes a
    projection sets it to 0, and the next :meth:`Journal.open` replays the journal.
    """

    __tablename__ = "projection_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    applied_seq: Mapped[int]


class OpenIntent(Base):
    """An intent no outcome has settled yet (see ``contract.entries.INTENT_OUTCOMES``).

    An intent's append adds its row and the append of its outcome deletes it, so recovery
    reads what is open, however old, without scanning the journal.
    """

    __tablename__ = "open_intents"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(64))


class OpenSessionEntry(Base):
    """The seq of every entry of a session that has started and not ended.

    ``session.ended`` deletes its session's rows, so recovery replays the open sessions
    from their own entries alone, however long ago they started.
    """

    __tablename__ = "open_session_entries"
    __table_args__ = (Index("ix_open_session_entries_session_id", "session_id"),)

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    session_id: Mapped[str] = mapped_column(String(64))


class JournalCheckpoint(Base):
    """The newest entry ``kiosk journal verify`` walked the chain to (one row, id 1).

    Written only by a verification that checked every entry up to it, so a later one can
    start there: it checks that the entry still has this hash, then the entries after it.
    Not a projection: a rebuild leaves it.
    """

    __tablename__ = "journal_checkpoint"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[str] = mapped_column(String(32))


class JournalArchive(Base):
    """Entries moved out of the database into a compressed file (``archive/`` beside it).

    Only entries the hub acknowledged, verified first; ``last_hash`` is the ``prev_hash`` of
    the entry after them, and ``sha256`` the file's own digest, so ``kiosk journal verify
    --full`` reads the chain across the cut and catches a file changed or swapped.
    """

    __tablename__ = "journal_archives"

    first_seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int]
    prev_hash: Mapped[str] = mapped_column(String(64))
    last_hash: Mapped[str] = mapped_column(String(64))
    file: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32))


PROJECTION_TABLES = (Payment, Bill, CardAuthorisation, Batch, OpenIntent, OpenSessionEntry)
