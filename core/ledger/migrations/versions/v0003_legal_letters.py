"""Proof of the 14-day letters: when each went out, when it counts as received, when its term
ends, and the costs it announced.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legal_letters",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("debtor_id", sa.String(200), nullable=False),
        sa.Column("invoice_numbers", sa.Text, nullable=False),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("sent_on", sa.Date, nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("last_day", sa.Date, nullable=False),
        sa.Column("principal_cents", sa.BigInteger, nullable=False),
        sa.Column("costs_cents", sa.BigInteger, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_legal_letters_debtor", "legal_letters", ["pipeline", "debtor_id"])


def downgrade() -> None:
    op.drop_table("legal_letters")
