"""The initial ledger: debtors, invoices, cursors, runs, outbox, receipts, payments.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "debtors",
        sa.Column("pipeline", sa.String(100), primary_key=True),
        sa.Column("debtor_id", sa.String(200), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("contact_name", sa.Text),
        sa.Column("first_name", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("synced_at", TZ, nullable=False),
    )
    op.create_table(
        "invoices",
        sa.Column("pipeline", sa.String(100), primary_key=True),
        sa.Column("number", sa.String(200), primary_key=True),
        sa.Column("debtor_id", sa.String(200), nullable=False),
        sa.Column("issue_date", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("amount_total_cents", sa.BigInteger, nullable=False),
        sa.Column("amount_open_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payment_link", sa.Text),
        sa.Column("is_credit_note", sa.Integer, nullable=False),
        sa.Column("place", sa.Text),
        sa.Column("in_source", sa.Integer, nullable=False),
        sa.Column("last_sync_id", sa.Integer),
        sa.Column("synced_at", TZ, nullable=False),
    )
    op.create_index("ix_invoices_debtor", "invoices", ["pipeline", "debtor_id"])
    op.create_table(
        "sync_cursors",
        sa.Column("pipeline", sa.String(100), primary_key=True),
        sa.Column("cursor", sa.Text),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("process", sa.Text, nullable=False),
        sa.Column("summary", sa.Text),
    )
    op.create_index("ix_runs_pipeline_status", "runs", ["pipeline", "status"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("idempotency_key", sa.String(400), nullable=False, unique=True),
        sa.Column("debtor_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("step", sa.String(100), nullable=False),
        sa.Column("template", sa.String(200), nullable=False),
        sa.Column("planned_for", sa.Date, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("recipient", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id")),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_messages_pipeline_state", "messages", ["pipeline", "state"])
    op.create_index("ix_messages_debtor", "messages", ["pipeline", "debtor_id"])
    op.create_table(
        "message_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("invoice_number", sa.String(200), nullable=False),
        sa.Column("step", sa.String(100), nullable=False),
        sa.Column("item_key", sa.String(600), nullable=False),
        sa.Column("amount_open_cents", sa.BigInteger, nullable=False),
        sa.Column("cancelled_reason", sa.Text),
        sa.UniqueConstraint("item_key", name="uq_message_items_item_key"),
    )
    op.create_index("ix_message_items_message", "message_items", ["message_id"])
    op.create_index("ix_message_items_invoice", "message_items", ["pipeline", "invoice_number"])
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "message_id", sa.Integer, sa.ForeignKey("messages.id"), nullable=False, unique=True
        ),
        sa.Column("provider_message_id", sa.Text, nullable=False),
        sa.Column("accepted_at", TZ, nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("invoice_number", sa.String(200), nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("origin", sa.String(50), nullable=False),
        sa.Column("reference", sa.Text),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.Column("written_back_at", TZ),
        sa.Column("writeback_error", sa.Text),
    )
    op.create_index("ix_payments_invoice", "payments", ["pipeline", "invoice_number"])


def downgrade() -> None:
    for table in (
        "payments",
        "receipts",
        "message_items",
        "messages",
        "runs",
        "sync_cursors",
        "invoices",
        "debtors",
    ):
        op.drop_table(table)
