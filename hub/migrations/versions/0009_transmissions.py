"""Payment import files: each transmission, the layout it was written with, its payments.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transmissions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("layout_name", sa.String(length=64), nullable=False),
        sa.Column("layout_version", sa.String(length=32), nullable=False),
        sa.Column("layout_hash", sa.String(length=64), nullable=False),
        sa.Column("layout", sa.Text(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("written_at", sa.DateTime(), nullable=True),
        sa.Column("record_count", sa.BigInteger(), nullable=True),
        sa.Column("detail_count", sa.BigInteger(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transmissions")),
    )
    op.create_table(
        "transmission_payments",
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("transmission_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("account_number", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.payment_id"],
            name=op.f("fk_transmission_payments_payment_id_payments"),
        ),
        sa.ForeignKeyConstraint(
            ["transmission_id"],
            ["transmissions.id"],
            name=op.f("fk_transmission_payments_transmission_id_transmissions"),
        ),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_transmission_payments")),
    )
    op.create_index(
        "ix_transmission_payments_transmission_id",
        "transmission_payments",
        ["transmission_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_transmission_payments_transmission_id", "transmission_payments")
    op.drop_table("transmission_payments")
    op.drop_table("transmissions")
