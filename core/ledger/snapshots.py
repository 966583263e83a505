"""Receivable snapshots: what was open after each run, and the sales before it (the DSO trend).

The ledger holds invoices as last synced, so yesterday's open receivables cannot be computed
again tomorrow: each real run records them here. One snapshot per pipeline and day; recording
the same day again (a second run) replaces it.

Definitions, shared with the report (:mod:`dunning.core.insight.figures`):

* *open* invoices are the receivables still owed: in the source, not a credit note, a positive
  total and money open (handed-over invoices included: they are still owed);
* *overdue* are the open ones whose due date is before the day;
* *sales* are the totals of the invoices issued in the ``sales_days`` days up to and including
  the day, credit notes subtracted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, Engine, and_, case, delete, func, insert, select

from dunning.core.ledger.schema import invoices, receivable_snapshots

SALES_DAYS = 90


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The receivables of a pipeline on ``as_of`` (amounts in cents)."""

    pipeline: str
    as_of: date
    run_id: int | None
    open_cents: int
    overdue_cents: int
    open_count: int
    sales_cents: int
    sales_days: int


def open_invoice_filter(pipeline: str) -> ColumnElement[bool]:
    """The invoices counted as open receivables (see the module docstring)."""
    c = invoices.c
    return and_(
        c.pipeline == pipeline,
        c.in_source == 1,
        c.is_credit_note == 0,
        c.amount_total_cents > 0,
        c.amount_open_cents > 0,
    )


def sales_cents(engine: Engine, pipeline: str, as_of: date, days: int = SALES_DAYS) -> int:
    """Invoice totals issued in the ``days`` days up to ``as_of`` (inclusive), credit notes
    netted (a credit note counts negative whatever the sign its source gave it)."""
    c = invoices.c
    signed = case(
        (c.is_credit_note == 1, -func.abs(c.amount_total_cents)), else_=c.amount_total_cents
    )
    query = select(func.coalesce(func.sum(signed), 0)).where(
        c.pipeline == pipeline,
        c.issue_date > as_of - timedelta(days=days),
        c.issue_date <= as_of,
    )
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


class SnapshotStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def measure(
        self, pipeline: str, as_of: date, run_id: int | None = None, sales_days: int = SALES_DAYS
    ) -> Snapshot:
        """The snapshot ``record`` would store, computed from the ledger, without storing it."""
        c = invoices.c
        overdue = case((c.due_date < as_of, c.amount_open_cents), else_=0)
        query = select(
            func.coalesce(func.sum(c.amount_open_cents), 0),
            func.coalesce(func.sum(overdue), 0),
            func.count(),
        ).where(open_invoice_filter(pipeline))
        with self.engine.connect() as connection:
            open_cents, overdue_cents, open_count = connection.execute(query).one()
        return Snapshot(
            pipeline=pipeline,
            as_of=as_of,
            run_id=run_id,
            open_cents=int(open_cents),
            overdue_cents=int(overdue_cents),
            open_count=int(open_count),
            sales_cents=sales_cents(self.engine, pipeline, as_of, sales_days),
            sales_days=sales_days,
        )

    def record(
        self, pipeline: str, as_of: date, run_id: int | None = None, sales_days: int = SALES_DAYS
    ) -> Snapshot:
        """Measure and store the receivables of ``pipeline`` on ``as_of``, replacing a snapshot
        of the same day; returns what was stored."""
        snapshot = self.measure(pipeline, as_of, run_id, sales_days)
        table = receivable_snapshots
        with self.engine.begin() as connection:
            connection.execute(
                delete(table).where(table.c.pipeline == pipeline, table.c.as_of == as_of)
            )
            connection.execute(
                insert(table).values(
                    pipeline=pipeline,
                    run_id=run_id,
                    as_of=as_of,
                    open_cents=snapshot.open_cents,
                    overdue_cents=snapshot.overdue_cents,
                    open_count=snapshot.open_count,
                    sales_cents=snapshot.sales_cents,
                    sales_days=snapshot.sales_days,
                    recorded_at=datetime.now(UTC),
                )
            )
        return snapshot

    def history(self, pipeline: str) -> list[Snapshot]:
        """Every snapshot of ``pipeline``, oldest day first."""
        t = receivable_snapshots.c
        query = (
            select(
                t.pipeline,
                t.as_of,
                t.run_id,
                t.open_cents,
                t.overdue_cents,
                t.open_count,
                t.sales_cents,
                t.sales_days,
            )
            .where(t.pipeline == pipeline)
            .order_by(t.as_of, t.id)
        )
        with self.engine.connect() as connection:
            return [
                Snapshot(
                    pipeline=row[0],
                    as_of=row[1],
                    run_id=row[2],
                    open_cents=int(row[3]),
                    overdue_cents=int(row[4]),
                    open_count=int(row[5]),
                    sales_cents=int(row[6]),
                    sales_days=int(row[7]),
                )
                for row in connection.execute(query)
            ]
