"""Schema migrations of the ledger (alembic)."""
