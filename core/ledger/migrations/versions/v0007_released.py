"""Invoices released by the pipeline back to the source's own reminders (``dunning release``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as table:
        table.add_column(sa.Column("released_on", sa.Date))


def downgrade() -> None:
    with op.batch_alter_table("invoices") as table:
        table.drop_column("released_on")
