"""Device faults as alerts: which device an alert is about, and when a device recovered.

An open ``device.fault`` is an alert until the device's ``device.recovered``; the device
status keeps the seq and time of that recovery beside the fault's, so "is this device
faulted now" is a comparison of two seqs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("device", sa.String(length=64), nullable=True))
    with op.batch_alter_table("device_status") as batch:
        batch.add_column(sa.Column("recovered_seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("recovered_at", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("device_status") as batch:
        batch.drop_column("recovered_at")
        batch.drop_column("recovered_seq")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("device")
