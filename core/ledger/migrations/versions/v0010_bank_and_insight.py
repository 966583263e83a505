"""Bank statement lines and what they were matched to; bank accounts learned per debtor;
receivable snapshots per run (the DSO trend); bounced messages.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bank_lines",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("fingerprint", sa.String(100), nullable=False),
        sa.Column("account", sa.String(50)),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("place", sa.Text, nullable=False),
        sa.Column("booked_on", sa.Date, nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("payer_name", sa.Text),
        sa.Column("payer_iban", sa.String(50)),
        sa.Column("structured_reference", sa.Text),
        sa.Column("remittance", sa.Text),
        sa.Column("end_to_end_id", sa.Text),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("remaining_cents", sa.BigInteger, nullable=False),
        sa.Column("rule", sa.String(40)),
        sa.Column("confidence", sa.Integer),
        sa.Column("suggestion", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("reverses_line_id", sa.Integer),
        sa.Column("imported_at", TZ, nullable=False),
        sa.Column("resolved_by", sa.Text),
        sa.Column("resolved_at", TZ),
        sa.UniqueConstraint("pipeline", "fingerprint", name="uq_bank_lines_fingerprint"),
        sa.Index("ix_bank_lines_status", "pipeline", "status"),
    )
    op.create_table(
        "debtor_accounts",
        sa.Column("pipeline", sa.String(100), primary_key=True),
        sa.Column("iban", sa.String(50), primary_key=True),
        sa.Column("debtor_id", sa.String(200), primary_key=True),
        sa.Column("learned_from", sa.Text, nullable=False),
        sa.Column("learned_at", TZ, nullable=False),
    )
    op.create_table(
        "receivable_snapshots",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("run_id", sa.Integer),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("open_cents", sa.BigInteger, nullable=False),
        sa.Column("overdue_cents", sa.BigInteger, nullable=False),
        sa.Column("open_count", sa.Integer, nullable=False),
        sa.Column("sales_cents", sa.BigInteger, nullable=False),
        sa.Column("sales_days", sa.Integer, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.Index("ix_receivable_snapshots_pipeline", "pipeline", "as_of"),
    )
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("bank_line_id", sa.Integer))
        batch.add_column(sa.Column("reverses_payment_id", sa.Integer))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("bounced", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("bounced")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("reverses_payment_id")
        batch.drop_column("bank_line_id")
    op.drop_table("receivable_snapshots")
    op.drop_table("debtor_accounts")
    op.drop_table("bank_lines")
