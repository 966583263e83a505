"""The debtor's own reference for an invoice (their order or purchase-order number).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("your_ref", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("your_ref")
