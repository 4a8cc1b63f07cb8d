"""Indexes of what is open (intents, sessions), the verification checkpoint, archives.

Start-up and recovery read the open intents and the entries of open sessions from these
tables instead of scanning the whole journal. The projection watermark is set back to 0,
so the first :meth:`Journal.open` after the upgrade replays the journal once and fills
them; the journal itself is not touched.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
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
    op.create_table(
        "open_intents",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_open_intents")),
    )
    op.create_table(
        "open_session_entries",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_open_session_entries")),
    )
    op.create_index("ix_open_session_entries_session_id", "open_session_entries", ["session_id"])
    op.create_table(
        "journal_checkpoint",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("verified_at", sa.String(32), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_journal_checkpoint_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_checkpoint")),
    )
    op.create_table(
        "journal_archives",
        sa.Column("first_seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("file", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("first_seq", name=op.f("pk_journal_archives")),
    )
    op.execute("UPDATE projection_state SET applied_seq = 0")


def downgrade() -> None:
    op.drop_table("journal_archives")
    op.drop_table("journal_checkpoint")
    op.drop_index("ix_open_session_entries_session_id", table_name="open_session_entries")
    op.drop_table("open_session_entries")
    op.drop_table("open_intents")
