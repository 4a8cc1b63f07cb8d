"""Suspense: a payment to an account the billing system does not know waits for a clerk.

A posting the billing system refuses for its account is ``suspense`` (not ``failed``, which
is retried by itself): nothing retries it until a clerk assigns the account it was meant for
(``assigned_account``, who and when), which makes it ``pending`` again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "status IN ('pending', 'posted', 'failed')"
NEW = "status IN ('pending', 'posted', 'failed', 'suspense')"


def upgrade() -> None:
    with op.batch_alter_table("postings") as batch:
        batch.drop_constraint(op.f("ck_postings_status"), type_="check")
        batch.create_check_constraint(op.f("ck_postings_status"), NEW)
        batch.add_column(sa.Column("assigned_account", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("resolved_by", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("postings") as batch:
        batch.drop_column("resolved_at")
        batch.drop_column("resolved_by")
        batch.drop_column("assigned_account")
        batch.drop_constraint(op.f("ck_postings_status"), type_="check")
        batch.create_check_constraint(op.f("ck_postings_status"), OLD)
