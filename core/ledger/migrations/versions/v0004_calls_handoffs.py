"""Call tasks and their outcomes, debtors' contact people, handoffs to a collection agency and
the agency's status reports.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("debtors") as table:
        table.add_column(sa.Column("contacts", sa.Text))
    with op.batch_alter_table("invoices") as table:
        table.add_column(sa.Column("handed_over_on", sa.Date))
    op.create_table(
        "call_tasks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("debtor_id", sa.String(200), nullable=False),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), unique=True),
        sa.Column("follows_task_id", sa.Integer, sa.ForeignKey("call_tasks.id"), unique=True),
        sa.Column("step", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("invoice_numbers", sa.Text, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("due_time", sa.String(5)),
        sa.Column("hours", sa.String(11)),
        sa.Column("assigned_to", sa.Text),
        sa.Column("contact_role", sa.String(40), nullable=False),
        sa.Column("contact_name", sa.Text),
        sa.Column("contact_phone", sa.Text),
        sa.Column("talking_points", sa.Text, nullable=False, server_default=""),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("flag", sa.Text),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("done_at", TZ),
        sa.Column("done_by", sa.Text),
        sa.Column("outcome", sa.String(40)),
        sa.Column("spoken_to", sa.Text),
        sa.Column("details", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("effect", sa.Text),
        sa.Column("source_ref", sa.Text),
        sa.Column("mirror_error", sa.Text),
    )
    op.create_index("ix_call_tasks_queue", "call_tasks", ["pipeline", "status", "due_on"])
    op.create_index("ix_call_tasks_debtor", "call_tasks", ["pipeline", "debtor_id"])
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("debtor_id", sa.String(200), nullable=False),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("reference", sa.String(400), nullable=False, unique=True),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("invoice_numbers", sa.Text, nullable=False),
        sa.Column("open_cents", sa.Text, nullable=False),
        sa.Column("handed_on", sa.Date, nullable=False),
        sa.Column("delivered_at", TZ, nullable=False),
        sa.Column("receipt", sa.Text),
    )
    op.create_index("ix_handoffs_debtor", "handoffs", ["pipeline", "debtor_id"])
    op.create_table(
        "agency_reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("invoice_number", sa.String(200), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("collected_cents", sa.BigInteger, nullable=False),
        sa.Column("reported_on", sa.Date, nullable=False),
        sa.Column("place", sa.Text, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.UniqueConstraint(
            "pipeline",
            "invoice_number",
            "status",
            "collected_cents",
            "reported_on",
            name="uq_agency_reports_line",
        ),
    )


def downgrade() -> None:
    op.drop_table("agency_reports")
    op.drop_table("handoffs")
    op.drop_table("call_tasks")
    with op.batch_alter_table("invoices") as table:
        table.drop_column("handed_over_on")
    with op.batch_alter_table("debtors") as table:
        table.drop_column("contacts")
