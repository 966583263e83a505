"""Alembic environment: always run with a connection handed in by :mod:`dunning.core.ledger`."""

from __future__ import annotations

from alembic import context

from dunning.core.ledger.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI by hand
    raise RuntimeError("run migrations through dunning (the ledger opens them itself)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
