"""The complete policy: tags, countries and time zones, paid dates, discounts, message kinds,
resume notes, pauses with instalments, and the recorded ladders (for policy changes).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("debtors") as table:
        table.add_column(sa.Column("tags", sa.Text, nullable=False, server_default=""))
        table.add_column(sa.Column("country", sa.String(2)))
        table.add_column(sa.Column("timezone", sa.String(64)))
        table.add_column(sa.Column("last_contact_day", sa.Date))
    with op.batch_alter_table("invoices") as table:
        table.add_column(sa.Column("tags", sa.Text, nullable=False, server_default=""))
        table.add_column(sa.Column("paid_on", sa.Date))
        table.add_column(sa.Column("discount_percent", sa.String(12)))
        table.add_column(sa.Column("discount_days", sa.Integer))
        table.add_column(sa.Column("ladder_step", sa.String(100)))
        table.add_column(sa.Column("ladder_day", sa.Date))
        table.add_column(sa.Column("days_late", sa.Integer))
    with op.batch_alter_table("messages") as table:
        table.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="step"))
    with op.batch_alter_table("message_items") as table:
        table.add_column(sa.Column("note", sa.Text))
    # Each invoice's latest step, kept on the invoice so planning needs no history join.
    latest = (
        "SELECT {column} FROM message_items mi JOIN messages m ON m.id = mi.message_id "
        "WHERE mi.pipeline = invoices.pipeline AND mi.invoice_number = invoices.number "
        "ORDER BY m.planned_for DESC, mi.id DESC LIMIT 1"
    )
    if op.get_bind().dialect.name == "sqlite":
        days = "CAST(julianday(paid_on) - julianday(due_date) AS INTEGER)"
    else:
        days = "(paid_on - due_date)"
    op.execute(f"UPDATE invoices SET days_late = {days} WHERE paid_on IS NOT NULL")
    op.execute(
        "UPDATE debtors SET last_contact_day = (SELECT MAX(m.planned_for) FROM messages m "
        "WHERE m.pipeline = debtors.pipeline AND m.debtor_id = debtors.debtor_id)"
    )
    op.execute(
        f"UPDATE invoices SET ladder_step = ({latest.format(column='mi.step')}), "
        f"ladder_day = ({latest.format(column='m.planned_for')})"
    )
    op.create_index("ix_invoices_paid_on", "invoices", ["pipeline", "paid_on"])
    op.create_index(
        "ix_invoices_payment_figures",
        "invoices",
        ["pipeline", "debtor_id", "days_late", "is_credit_note", "amount_open_cents"],
        sqlite_where=sa.text("paid_on IS NOT NULL"),
        postgresql_where=sa.text("paid_on IS NOT NULL"),
    )
    op.create_index("ix_messages_day", "messages", ["planned_for", "pipeline"])
    op.create_table(
        "pauses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("debtor_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("invoice_numbers", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("until", sa.Date),
        sa.Column("grace_days", sa.Integer, nullable=False),
        sa.Column("open_at_start_cents", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("ended_on", sa.Date),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("closed_by", sa.Text),
        sa.Column("closed_at", TZ),
        sa.Column("close_reason", sa.Text),
    )
    op.create_index("ix_pauses_debtor", "pauses", ["pipeline", "debtor_id"])
    op.create_table(
        "instalments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pause_id", sa.Integer, sa.ForeignKey("pauses.id"), nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_instalments_pause", "instalments", ["pause_id"])
    op.create_table(
        "ladders",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("steps", sa.Text, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
    )
    op.create_index("ix_ladders_pipeline", "ladders", ["pipeline", "id"])


def downgrade() -> None:
    op.drop_index("ix_messages_day", "messages")
    op.drop_index("ix_invoices_payment_figures", "invoices")
    op.drop_index("ix_invoices_paid_on", "invoices")
    op.drop_table("ladders")
    op.drop_table("instalments")
    op.drop_table("pauses")
    with op.batch_alter_table("message_items") as table:
        table.drop_column("note")
    with op.batch_alter_table("messages") as table:
        table.drop_column("kind")
    with op.batch_alter_table("invoices") as table:
        for column in (
            "days_late",
            "ladder_day",
            "ladder_step",
            "discount_days",
            "discount_percent",
            "paid_on",
            "tags",
        ):
            table.drop_column(column)
    with op.batch_alter_table("debtors") as table:
        for column in ("last_contact_day", "timezone", "country", "tags"):
            table.drop_column(column)
