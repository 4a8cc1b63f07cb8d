"""First counts of batches counted twice, and the options staff set from the console.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batch_first_counts",
        sa.Column("kiosk_id", sa.String(length=63), nullable=False),
        sa.Column("batch_id", sa.String(length=16), nullable=False),
        sa.Column("counted_bills", sa.Text(), nullable=False),
        sa.Column("counted_cents", sa.BigInteger(), nullable=False),
        sa.Column("counted_by", sa.String(length=128), nullable=False),
        sa.Column("counted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_batch_first_counts_kiosk_id_kiosks")
        ),
        sa.PrimaryKeyConstraint("kiosk_id", "batch_id", name=op.f("pk_batch_first_counts")),
    )
    op.create_table(
        "hub_options",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_hub_options")),
    )


def downgrade() -> None:
    op.drop_table("hub_options")
    op.drop_table("batch_first_counts")
