"""A posting the hub itself holds for a clerk: ``postings.held``.

Suspense had one cause, an account the billing system does not know, and an explicit
``kiosk-hub post`` tries those again (after an import of accounts the account may be
known). A payment the hub holds on purpose (its id is another kiosk's payment's, or it is
over its kiosk's limits) must not post by such a run: only a clerk's resolve releases it.
A duplicate already waiting in suspense (``dup-`` ids are only ever made for one) becomes
held too.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("postings") as batch:
        batch.add_column(sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false()))
    postings = sa.table("postings", sa.column("payment_id"), sa.column("status"), sa.column("held"))
    op.execute(
        postings.update()
        .where(postings.c.status == "suspense", postings.c.payment_id.like("dup-%"))
        .values(held=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("postings") as batch:
        batch.drop_column("held")
