"""Postal addresses of debtors (letters), invoices' payment references, opt-outs per channel
(SMS STOP, WhatsApp), and the payment links created for messages.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("debtors") as table:
        table.add_column(sa.Column("address", sa.Text))
    with op.batch_alter_table("invoices") as table:
        table.add_column(sa.Column("payment_reference", sa.Text))
    op.create_table(
        "opt_outs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("debtor_id", sa.String(200), nullable=False),
        sa.Column("channel_kind", sa.String(50), nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.UniqueConstraint(
            "pipeline", "debtor_id", "channel_kind", "address", name="uq_opt_outs_address"
        ),
    )
    op.create_table(
        "payment_links",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("key", sa.String(400), nullable=False, unique=True),
        sa.Column("provider", sa.String(50), nullable=False),
        sa.Column("link_id", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("payment_links")
    op.drop_table("opt_outs")
    with op.batch_alter_table("invoices") as table:
        table.drop_column("payment_reference")
    with op.batch_alter_table("debtors") as table:
        table.drop_column("address")
