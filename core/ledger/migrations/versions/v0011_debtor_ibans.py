"""The bank accounts a debtor pays from, as the source has them (space-separated IBANs).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("debtors") as batch:
        batch.add_column(sa.Column("ibans", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("debtors") as batch:
        batch.drop_column("ibans")
