"""The hub's acknowledged seq, the projections' watermark, an index on journal.type.

Kiosks in the field reach this revision with unsent entries on them: the cursor starts at
0, so every entry already journaled still counts as unsent and the next push (which the hub
receives idempotently) sends them. The projection watermark starts at 0 too, so the first
:meth:`Journal.open` after the upgrade replays the journal into the projections.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    sync_cursor = op.create_table(
        "sync_cursor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("acked_seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_sync_cursor_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_cursor")),
    )
    projection_state = op.create_table(
        "projection_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("applied_seq", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_projection_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projection_state")),
    )
    op.bulk_insert(sync_cursor, [{"id": 1, "acked_seq": 0, "updated_at": None}])
    op.bulk_insert(projection_state, [{"id": 1, "applied_seq": 0}])
    op.create_index(op.f("ix_journal_type"), "journal", ["type"])


def downgrade() -> None:
    op.drop_index(op.f("ix_journal_type"), table_name="journal")
    op.drop_table("projection_state")
    op.drop_table("sync_cursor")
