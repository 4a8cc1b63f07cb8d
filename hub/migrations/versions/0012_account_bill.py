"""What the billing system tells about an account's bill beyond its balance: ``accounts.bill``.

The last payment it recorded (from any channel: the kiosks, the counter, the bank) and the
current bill's charges by service, as JSON, empty (``{}``) for accounts imported before or
from a billing system that gives neither.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("bill", sa.Text(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("bill")
