"""Write-back of actions: which messages were noted at the source, and which invoices the
pipeline took over from the source's own reminders.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as table:
        table.add_column(sa.Column("noted_at", sa.DateTime(timezone=True)))
        table.add_column(sa.Column("note_error", sa.Text))
    with op.batch_alter_table("invoices") as table:
        table.add_column(sa.Column("taken_over_on", sa.Date))


def downgrade() -> None:
    with op.batch_alter_table("invoices") as table:
        table.drop_column("taken_over_on")
    with op.batch_alter_table("messages") as table:
        table.drop_column("note_error")
        table.drop_column("noted_at")
