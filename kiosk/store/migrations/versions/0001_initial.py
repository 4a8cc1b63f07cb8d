"""The journal and its projections (payments, bills, card authorisations, batches).

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = (
    "'requested', 'approved', 'declined', 'cancelled', 'in_doubt', 'reversed', 'reversal_failed'"
)


def upgrade() -> None:
    op.create_table(
        "journal",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_journal_seq_positive")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_journal")),
        sa.UniqueConstraint("id", name=op.f("uq_journal_id")),
        sa.UniqueConstraint("hash", name=op.f("uq_journal_hash")),
    )
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("confirmation", sa.String(64), nullable=False),
        sa.Column("account_number", sa.String(64), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("fee_cents", sa.Integer(), nullable=False),
        sa.Column("cash_cents", sa.Integer(), nullable=False),
        sa.Column("paid_at", sa.String(40), nullable=False),
        sa.Column("review", sa.Boolean(), nullable=False),
        sa.Column("batch_id", sa.String(16), nullable=False),
        sa.Column("journal_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_payments")),
        sa.UniqueConstraint("confirmation", name=op.f("uq_payments_confirmation")),
    )
    op.create_table(
        "bills",
        sa.Column("bill_id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("denomination_cents", sa.Integer(), nullable=False),
        sa.Column("stacked_at", sa.String(32), nullable=False),
        sa.Column("journal_seq", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(16), nullable=False),
        sa.Column("recovered", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("bill_id", name=op.f("pk_bills")),
    )
    op.create_table(
        "card_authorisations",
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("fee_cents", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("auth_code", sa.String(32), nullable=True),
        sa.Column("brand", sa.String(32), nullable=True),
        sa.Column("last4", sa.String(4), nullable=True),
        sa.Column("terminal_ref", sa.String(64), nullable=True),
        sa.Column("updated_seq", sa.Integer(), nullable=False),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name=op.f("ck_card_authorisations_status")),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_card_authorisations")),
    )
    op.create_table(
        "batches",
        sa.Column("batch_id", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.String(32), nullable=False),
        sa.Column("opened_seq", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.String(32), nullable=True),
        sa.Column("closed_seq", sa.Integer(), nullable=True),
        sa.Column("cash_cents", sa.Integer(), nullable=False),
        sa.Column("bill_count", sa.Integer(), nullable=False),
        sa.Column("card_cents", sa.Integer(), nullable=False),
        sa.Column("card_count", sa.Integer(), nullable=False),
        sa.Column("payment_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_batches")),
    )


def downgrade() -> None:
    for table in ("batches", "card_authorisations", "bills", "payments", "journal"):
        op.drop_table(table)
