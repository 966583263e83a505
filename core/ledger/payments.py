"""Payments the pipeline learned about, and whether the source has been told."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, Row, Update, bindparam, case, func, select, update
from sqlalchemy.engine import Connection

from dunning.core.ledger.schema import invoices, payments
from dunning.core.models import Payment, from_cents, to_cents
from dunning.core.privacy.redaction import redact


@dataclass(frozen=True, slots=True)
class StoredPayment:
    id: int
    payment: Payment
    writeback_error: str | None


def apply_payment(
    connection: Connection,
    pipeline: str,
    payment: Payment,
    *,
    bank_line_id: int | None = None,
    written_back: bool = False,
    reverses_payment_id: int | None = None,
) -> int:
    """Store ``payment`` and change the invoice's open amount, inside the caller's transaction.

    A negative amount (a returned payment) opens the invoice again by that much. ``written_back``
    stores the payment as already known to the source (nothing to tell it)."""
    cents = to_cents(payment.amount)
    now = datetime.now(UTC)
    payment_id = connection.execute(
        payments.insert()
        .values(
            pipeline=pipeline,
            invoice_number=payment.invoice_number,
            amount_cents=cents,
            paid_on=payment.paid_on,
            origin=payment.origin,
            reference=payment.reference,
            recorded_at=now,
            bank_line_id=bank_line_id,
            reverses_payment_id=reverses_payment_id,
            written_back_at=now if written_back else None,
        )
        .returning(payments.c.id)
    ).scalar_one()
    where = (invoices.c.pipeline == pipeline, invoices.c.number == payment.invoice_number)
    if cents < 0:
        connection.execute(
            update(invoices)
            .where(*where)
            .values(
                amount_open_cents=invoices.c.amount_open_cents - cents, paid_on=None, days_late=None
            )
        )
        return int(payment_id)
    due_date = connection.execute(select(invoices.c.due_date).where(*where)).scalar_one_or_none()
    connection.execute(
        lowering_statement(connection, pipeline),
        lowering_values(payment.invoice_number, cents, payment.paid_on, due_date),
    )
    return int(payment_id)


def lowering_statement(connection: Connection, pipeline: str) -> Update:
    """The UPDATE that lowers one invoice's open amount by a payment, never below zero; the
    invoice it settles gets the payment day and its days late. Execute it with
    :func:`lowering_values` (one dict, or a list of them for many invoices at once)."""
    left = invoices.c.amount_open_cents - bindparam("b_cents")
    settles = left <= 0
    return (
        update(invoices)
        .where(invoices.c.pipeline == pipeline, invoices.c.number == bindparam("b_number"))
        .values(
            amount_open_cents=func.max(0, left)
            if connection.dialect.name == "sqlite"
            else func.greatest(0, left),
            paid_on=case((settles, bindparam("b_paid_on")), else_=invoices.c.paid_on),
            days_late=case((settles, bindparam("b_late")), else_=invoices.c.days_late),
        )
    )


def lowering_values(number: str, cents: int, paid_on: date, due: date | None) -> dict[str, object]:
    return {
        "b_number": number,
        "b_cents": cents,
        "b_paid_on": paid_on,
        "b_late": (paid_on - due).days if due is not None else None,
    }


def _payment(pipeline: str, row: Row[Any]) -> Payment:
    return Payment(
        row.invoice_number,
        from_cents(row.amount_cents),
        row.paid_on,
        row.origin,
        row.reference,
        key=f"dunning-{pipeline}-payment-{row.id}",
    )


class PaymentStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, pipeline: str, payment: Payment) -> int:
        """Store ``payment`` and lower the invoice's open amount in the same transaction."""
        with self.engine.begin() as connection:
            return apply_payment(connection, pipeline, payment)

    def unwritten(self, pipeline: str) -> list[StoredPayment]:
        """Payments the source has not been told about, oldest first; a returned payment (a
        negative amount) carries the payment it undoes in ``reverses``."""
        with self.engine.connect() as connection:
            rows = list(
                connection.execute(
                    select(payments)
                    .where(payments.c.pipeline == pipeline, payments.c.written_back_at.is_(None))
                    .order_by(payments.c.id)
                )
            )
            wanted = [r.reverses_payment_id for r in rows if r.reverses_payment_id is not None]
            originals = {
                r.id: _payment(pipeline, r)
                for r in connection.execute(select(payments).where(payments.c.id.in_(wanted)))
            }
        return [
            StoredPayment(
                r.id,
                replace(
                    _payment(pipeline, r),
                    reverses=originals.get(r.reverses_payment_id)
                    if r.reverses_payment_id is not None
                    else None,
                ),
                r.writeback_error,
            )
            for r in rows
        ]

    def of_invoices(self, pipeline: str, numbers: Iterable[str]) -> list[Payment]:
        """Payments recorded against any of ``numbers``, oldest first."""
        wanted, found = list(numbers), []
        with self.engine.connect() as connection:
            for start in range(0, len(wanted), 500):
                found += [
                    Payment(
                        r.invoice_number,
                        from_cents(r.amount_cents),
                        r.paid_on,
                        r.origin,
                        r.reference,
                    )
                    for r in connection.execute(
                        select(payments).where(
                            payments.c.pipeline == pipeline,
                            payments.c.invoice_number.in_(wanted[start : start + 500]),
                        )
                    )
                ]
        return sorted(found, key=lambda p: (p.paid_on, p.invoice_number))

    def mark_written(self, payment_id: int) -> None:
        self._update(payment_id, written_back_at=datetime.now(UTC), writeback_error=None)

    def mark_writeback_failed(self, payment_id: int, error: str) -> None:
        self._update(payment_id, writeback_error=redact(error))

    def _update(self, payment_id: int, **values: object) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(payments).where(payments.c.id == payment_id).values(**values))
