"""Migration scripts, applied in order by alembic."""
