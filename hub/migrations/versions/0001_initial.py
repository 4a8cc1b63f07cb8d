"""The hub's first schema: kiosks and credentials, replicated journals and their projections
(payments, bills, card sales, batches, device status), alerts, postings, the account
catalog and the nonces of signed requests.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    catalog = op.create_table(
        "account_catalog",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_account_catalog_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_catalog")),
    )
    op.create_table(
        "accounts",
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("service_address", sa.String(length=255), nullable=False),
        sa.Column("balance_cents", sa.BigInteger(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("usage", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("removed_version", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_accounts")),
    )
    op.create_index(op.f("ix_accounts_removed_version"), "accounts", ["removed_version"])
    op.create_index(op.f("ix_accounts_version"), "accounts", ["version"])

    op.create_table(
        "kiosks",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("location", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=True),
        sa.Column("enrolled_at", sa.DateTime(), nullable=True),
        sa.Column("hardware", sa.Text(), nullable=True),
        sa.Column("acked_seq", sa.BigInteger(), nullable=False),
        sa.Column("acked_hash", sa.String(length=64), nullable=False),
        sa.Column("last_push_at", sa.DateTime(), nullable=True),
        sa.Column("last_contact_at", sa.DateTime(), nullable=True),
        sa.Column("last_entry_at", sa.String(length=32), nullable=True),
        sa.Column("software_version", sa.String(length=64), nullable=True),
        sa.Column("reported_out_of_service", sa.Boolean(), nullable=False),
        sa.Column("reported_reason", sa.String(length=500), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("out_of_service", sa.Boolean(), nullable=False),
        sa.Column("out_of_service_reason", sa.String(length=500), nullable=False),
        sa.Column("settings_version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosks")),
    )
    op.create_table(
        "nonces",
        sa.Column("kiosk_id", sa.String(length=63), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kiosk_id", "nonce", name=op.f("pk_nonces")),
    )
    op.create_index(op.f("ix_nonces_expires_at"), "nonces", ["expires_at"])

    op.create_table(
        "alerts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kiosk_id", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("expected_seq", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_hash", sa.String(length=64), nullable=True),
        sa.Column("stored_hash", sa.String(length=64), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_alerts_kiosk_id_kiosks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(op.f("ix_alerts_kiosk_id"), "alerts", ["kiosk_id"])

    op.create_table(
        "batches",
        sa.Column("kiosk_id", sa.String(length=63), nullable=False),
        sa.Column("batch_id", sa.String(length=16), nullable=False),
        sa.Column("opened_seq", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", sa.String(length=32), nullable=False),
        sa.Column("closed_seq", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", sa.String(length=32), nullable=True),
        sa.Column("close_reason", sa.String(length=255), nullable=True),
        sa.Column("cash_cents", sa.BigInteger(), nullable=False),
        sa.Column("bill_count", sa.BigInteger(), nullable=False),
        sa.Column("card_cents", sa.BigInteger(), nullable=False),
        sa.Column("card_count", sa.BigInteger(), nullable=False),
        sa.Column("payment_count", sa.BigInteger(), nullable=False),
        sa.Column("payment_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_batches_kiosk_id_kiosks")
        ),
        sa.PrimaryKeyConstraint("kiosk_id", "batch_id", name=op.f("pk_batches")),
    )
    op.create_table(
        "bills",
        sa.Column("kiosk_id", sa.String(length=63), nullable=False),
        sa.Column("bill_id", sa.String(length=64), nullable=False),
        sa.Column("denomination_cents", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.String(length=16), nullable=False),
        sa.Column("journal_seq", sa.BigInteger(), nullable=False),
        sa.Column("stacked_at", sa.String(length=32), nullable=False),
        sa.Column("recovered", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["kiosk_id"], ["kiosks.id"], name=op.f("fk_bills_kiosk_id_kiosks")),
        sa.PrimaryKeyConstraint("kiosk_id", "bill_id", name=op.f("pk_bills")),
    )
    op.create_table(
        "card_sales",
        sa.Column("kiosk_id", sa.String(length=63), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("fee_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("auth_code", sa.String(length=32), nullable=True),
        sa.Column("brand", sa.String(length=32), nullable=True),
        sa.Column("last4", sa.String(length=4), nullable=True),
        sa.Column("terminal_ref", sa.String(length=64), nullable=True),
        sa.Column("updated_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'declined', 'cancelled', 'in_doubt',"
            " 'reversed', 'reversal_failed')",
            name=op.f("ck_card_sales_status"),
        ),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_card_sales_kiosk_id_kiosks")
        ),
        sa.PrimaryKeyConstraint("kiosk_id", "reference", name=op.f("pk_card_sales")),
    )
    op.create_table(
        "device_status",
        sa.Column("kiosk_id", sa.String(length=63), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("fault_reason", sa.String(length=500), nullable=True),
        sa.Column("fault_seq", sa.BigInteger(), nullable=True),
        sa.Column("fault_at", sa.String(length=32), nullable=True),
        sa.Column("notice_kind", sa.String(length=64), nullable=True),
        sa.Column("notice_detail", sa.String(length=500), nullable=True),
        sa.Column("notice_seq", sa.BigInteger(), nullable=True),
        sa.Column("notice_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_device_status_kiosk_id_kiosks")
        ),
        sa.PrimaryKeyConstraint("kiosk_id", "device", name=op.f("pk_device_status")),
    )
    op.create_table(
        "enrollment_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("kiosk_id", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_enrollment_codes_kiosk_id_kiosks")
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_enrollment_codes")),
    )
    op.create_index(op.f("ix_enrollment_codes_kiosk_id"), "enrollment_codes", ["kiosk_id"])

    op.create_table(
        "journal_entries",
        sa.Column("kiosk_id", sa.String(length=63), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_journal_entries_seq_positive")),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_journal_entries_kiosk_id_kiosks")
        ),
        sa.PrimaryKeyConstraint("kiosk_id", "seq", name=op.f("pk_journal_entries")),
    )
    op.create_index("ix_journal_entries_kiosk_id_type", "journal_entries", ["kiosk_id", "type"])

    op.create_table(
        "payments",
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("kiosk_id", sa.String(length=63), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("confirmation", sa.String(length=64), nullable=False),
        sa.Column("account_number", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("fee_cents", sa.BigInteger(), nullable=False),
        sa.Column("cash_cents", sa.BigInteger(), nullable=False),
        sa.Column("bills", sa.Text(), nullable=False),
        sa.Column("card_reference", sa.String(length=64), nullable=True),
        sa.Column("card_brand", sa.String(length=32), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("card_auth_code", sa.String(length=32), nullable=True),
        sa.Column("card_terminal_ref", sa.String(length=64), nullable=True),
        sa.Column("paid_at", sa.String(length=40), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("review", sa.Boolean(), nullable=False),
        sa.Column("recovered", sa.Boolean(), nullable=False),
        sa.Column("batch_id", sa.String(length=16), nullable=False),
        sa.Column("journal_seq", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_payments_kiosk_id_kiosks")
        ),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_payments")),
    )
    op.create_index(op.f("ix_payments_account_number"), "payments", ["account_number"])
    op.create_index(op.f("ix_payments_confirmation"), "payments", ["confirmation"])
    op.create_index(op.f("ix_payments_effective_date"), "payments", ["effective_date"])
    op.create_index("ix_payments_kiosk_id_journal_seq", "payments", ["kiosk_id", "journal_seq"])

    op.create_table(
        "postings",
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("kiosk_id", sa.String(length=63), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("adapter", sa.String(length=16), nullable=True),
        sa.Column("attempts", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claim_token", sa.String(length=36), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'posted', 'failed')", name=op.f("ck_postings_status")
        ),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_postings_kiosk_id_kiosks")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.payment_id"], name=op.f("fk_postings_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_postings")),
    )
    op.create_index("ix_postings_status_next_attempt_at", "postings", ["status", "next_attempt_at"])
    op.bulk_insert(catalog, [{"id": 1, "version": 0, "updated_at": None}])


def downgrade() -> None:
    for table in (
        "postings",
        "payments",
        "journal_entries",
        "enrollment_codes",
        "device_status",
        "card_sales",
        "bills",
        "batches",
        "alerts",
        "nonces",
        "kiosks",
        "accounts",
        "account_catalog",
    ):
        op.drop_table(table)
