"""Blind counts of each collected batch, and where its reconciliation stands.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batch_counts",
        sa.Column("kiosk_id", sa.String(length=63), nullable=False),
        sa.Column("batch_id", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counted_bills", sa.Text(), nullable=False),
        sa.Column("expected_bills", sa.Text(), nullable=False),
        sa.Column("counted_cents", sa.BigInteger(), nullable=False),
        sa.Column("expected_cents", sa.BigInteger(), nullable=False),
        sa.Column("variance_cents", sa.BigInteger(), nullable=False),
        sa.Column("counted_by", sa.String(length=128), nullable=False),
        sa.Column("counted_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "status IN ('counted', 'variance', 'reconciled', 'approved')",
            name=op.f("ck_batch_counts_status"),
        ),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_batch_counts_kiosk_id_kiosks")
        ),
        sa.PrimaryKeyConstraint("kiosk_id", "batch_id", name=op.f("pk_batch_counts")),
    )


def downgrade() -> None:
    op.drop_table("batch_counts")
