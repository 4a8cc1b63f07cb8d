"""How far each kiosk's clock is from the hub's: ``kiosks.clock_offset_s``.

Recorded with every signed request (the request's timestamp less the hub's clock); a kiosk
further than a minute off gets a ``clock_off`` alert until a request shows it right.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("kiosks") as batch:
        batch.add_column(sa.Column("clock_offset_s", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kiosks") as batch:
        batch.drop_column("clock_offset_s")
