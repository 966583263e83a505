"""Bank statement lines, what they were matched to, and debtors' learned bank accounts.

An import is stored in one transaction (:meth:`BankStore.save_import`): its lines, the payments
the accepted matches make (each lowering its invoice's open amount at once, so the ladder stops)
and the accounts learned. A crash or an error stores nothing of it, and a line already stored
(its ``fingerprint``) is never stored again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, Row, case, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from dunning.core.bank.matching import OpenBook, OpenInvoice, normal_name
from dunning.core.ledger.payments import apply_payment, lowering_statement, lowering_values
from dunning.core.ledger.schema import bank_lines, debtor_accounts, debtors, invoices, payments
from dunning.core.models import Payment, from_cents

CHUNK = 500


class LineStatus:
    MATCHED = "matched"
    ASSIGNED = "assigned"
    UNMATCHED = "unmatched"
    REVERSAL = "reversal"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class NewPayment:
    """A payment an import or a person applies to an invoice."""

    invoice_number: str
    cents: int
    paid_on: date
    reference: str | None
    due_date: date | None = None
    """The invoice's due date, for its days late when the payment settles it."""


@dataclass(frozen=True, slots=True)
class NewLine:
    """A statement line ready to be stored, with what it does.

    ``payments`` are recorded (positive: money received). A returned payment undoes the payments
    of the line it reverses: a stored one (``reverses_line_id``) or one earlier in the same
    import (``reverses_batch_index``). ``learn`` is (iban, debtor_id) to remember."""

    fingerprint: str
    account: str | None
    file: str
    place: str
    booked_on: date
    amount_cents: int
    currency: str
    kind: str
    payer_name: str | None
    payer_iban: str | None
    structured_reference: str | None
    remittance: str
    end_to_end_id: str | None
    status: str
    remaining_cents: int
    rule: str | None = None
    confidence: int | None = None
    suggestion: str | None = None
    note: str | None = None
    reverses_line_id: int | None = None
    payments: tuple[NewPayment, ...] = ()
    reverses_batch_index: int | None = None
    learn: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class StoredLine:
    id: int
    pipeline: str
    file: str
    place: str
    booked_on: date
    amount: Decimal
    remaining: Decimal
    currency: str
    kind: str
    status: str
    payer_name: str | None
    payer_iban: str | None
    structured_reference: str | None
    remittance: str
    end_to_end_id: str | None
    rule: str | None
    confidence: int | None
    suggestion: str | None
    note: str | None
    resolved_by: str | None


@dataclass(frozen=True, slots=True)
class LinePayment:
    id: int
    invoice_number: str
    cents: int
    written_back: bool


def _stored(r: Row[Any]) -> StoredLine:
    return StoredLine(
        id=r.id,
        pipeline=r.pipeline,
        file=r.file,
        place=r.place,
        booked_on=r.booked_on,
        amount=from_cents(r.amount_cents),
        remaining=from_cents(r.remaining_cents),
        currency=r.currency,
        kind=r.kind,
        status=r.status,
        payer_name=r.payer_name,
        payer_iban=r.payer_iban,
        structured_reference=r.structured_reference,
        remittance=r.remittance or "",
        end_to_end_id=r.end_to_end_id,
        rule=r.rule,
        confidence=r.confidence,
        suggestion=r.suggestion,
        note=r.note,
        resolved_by=r.resolved_by,
    )


class BankStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def known_fingerprints(self, pipeline: str, fingerprints: Iterable[str]) -> set[str]:
        """Those of ``fingerprints`` already stored for ``pipeline``."""
        wanted, known = list(fingerprints), set[str]()
        with self.engine.connect() as connection:
            for start in range(0, len(wanted), CHUNK):
                known.update(
                    connection.execute(
                        select(bank_lines.c.fingerprint).where(
                            bank_lines.c.pipeline == pipeline,
                            bank_lines.c.fingerprint.in_(wanted[start : start + CHUNK]),
                        )
                    ).scalars()
                )
        return known

    def open_book(self, pipeline: str) -> OpenBook:
        """Every invoice of ``pipeline`` (not credit notes), the debtors' accounts (those the
        source gives and those learned from payments) and names, indexed for matching."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(
                    invoices.c.number,
                    invoices.c.debtor_id,
                    invoices.c.due_date,
                    invoices.c.amount_open_cents,
                    invoices.c.currency,
                    invoices.c.payment_reference,
                ).where(
                    invoices.c.pipeline == pipeline,
                    invoices.c.is_credit_note == 0,
                    invoices.c.amount_total_cents > 0,
                )
            )
            book_invoices = [
                OpenInvoice(r[0], r[1], r[2], max(0, r[3]), r[4], r[5], pipeline) for r in rows
            ]
            accounts: dict[str, set[str]] = {}
            for iban, debtor_id in connection.execute(
                select(debtor_accounts.c.iban, debtor_accounts.c.debtor_id).where(
                    debtor_accounts.c.pipeline == pipeline
                )
            ):
                accounts.setdefault(iban, set()).add(debtor_id)
            names: dict[str, set[str]] = {}
            for debtor_id, name, ibans in connection.execute(
                select(debtors.c.debtor_id, debtors.c.name, debtors.c.ibans).where(
                    debtors.c.pipeline == pipeline
                )
            ):
                key = normal_name(name or "")
                if key:
                    names.setdefault(key, set()).add(debtor_id)
                for iban in (ibans or "").split():  # the accounts the source knows
                    accounts.setdefault(iban, set()).add(debtor_id)
        return OpenBook(book_invoices, accounts, names)

    def credits_to_reverse(self, pipeline: str, amount_cents: int) -> list[StoredLine]:
        """Matched or assigned credit lines of ``amount_cents`` that nothing reversed yet,
        newest first: the candidates a returned payment undoes."""
        reversed_ids = select(bank_lines.c.reverses_line_id).where(
            bank_lines.c.pipeline == pipeline, bank_lines.c.reverses_line_id.is_not(None)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(bank_lines)
                .where(
                    bank_lines.c.pipeline == pipeline,
                    bank_lines.c.kind == "credit",
                    bank_lines.c.amount_cents == amount_cents,
                    bank_lines.c.status.in_([LineStatus.MATCHED, LineStatus.ASSIGNED]),
                    bank_lines.c.id.not_in(reversed_ids),
                )
                .order_by(bank_lines.c.booked_on.desc(), bank_lines.c.id.desc())
            )
            return [_stored(r) for r in rows]

    def payments_of(self, line_id: int) -> list[LinePayment]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(
                    payments.c.id,
                    payments.c.invoice_number,
                    payments.c.amount_cents,
                    payments.c.written_back_at,
                )
                .where(payments.c.bank_line_id == line_id)
                .order_by(payments.c.id)
            )
            return [LinePayment(r[0], r[1], r[2], r[3] is not None) for r in rows]

    def save_import(
        self,
        pipeline: str,
        lines: Sequence[NewLine],
        origin: str,
        *,
        source_undoes: bool = False,
    ) -> list[int]:
        """Store ``lines`` with their payments, reversals and learned accounts in one
        transaction; return the new line ids in order. ``source_undoes``: the source can undo a
        payment it was told about, so a returned one is stored for write-back."""
        now = datetime.now(UTC)
        if not any(
            line.reverses_line_id is not None or line.reverses_batch_index is not None
            for line in lines
        ):
            return self._save_bulk(pipeline, lines, origin, now)
        ids: list[int] = []
        with self.engine.begin() as connection:
            for line in lines:
                target = line.reverses_line_id
                if line.reverses_batch_index is not None:
                    target = ids[line.reverses_batch_index]
                line_id = self._insert_line(connection, pipeline, line, target, now)
                ids.append(line_id)
                for payment in line.payments:
                    _record(connection, pipeline, payment, origin, line_id)
                if target is not None:
                    for payment_id in connection.execute(
                        select(payments.c.id).where(
                            payments.c.bank_line_id == target, payments.c.amount_cents > 0
                        )
                    ).scalars():
                        _reverse(
                            connection, pipeline, payment_id, line, origin, line_id, source_undoes
                        )
                if line.learn:
                    _learn(connection, pipeline, *line.learn, f"bank line {line_id}", now)
        return ids

    def _save_bulk(
        self, pipeline: str, lines: Sequence[NewLine], origin: str, now: datetime
    ) -> list[int]:
        """:meth:`save_import` without returned payments: a few statements for any number of
        lines (the payments of one import never take more than an invoice has open)."""
        if not lines:
            return []
        with self.engine.begin() as connection:
            ids = list(
                connection.execute(
                    bank_lines.insert().returning(bank_lines.c.id, sort_by_parameter_order=True),
                    [_line_values(pipeline, line, None, now) for line in lines],
                ).scalars()
            )
            paid = [
                (line_id, p)
                for line_id, line in zip(ids, lines, strict=True)
                for p in line.payments
            ]
            if paid:
                connection.execute(
                    payments.insert(),
                    [
                        {
                            "pipeline": pipeline,
                            "invoice_number": p.invoice_number,
                            "amount_cents": p.cents,
                            "paid_on": p.paid_on,
                            "origin": origin,
                            "reference": p.reference,
                            "recorded_at": now,
                            "bank_line_id": line_id,
                        }
                        for line_id, p in paid
                    ],
                )
                _lower_open_amounts(connection, pipeline, [p for _, p in paid])
            learned = sorted({line.learn for line in lines if line.learn})
            for iban, debtor_id in learned:
                _learn(connection, pipeline, iban, debtor_id, "bank statement", now)
        return ids

    def _insert_line(
        self,
        connection: Connection,
        pipeline: str,
        line: NewLine,
        reverses: int | None,
        now: datetime,
    ) -> int:
        return int(
            connection.execute(
                bank_lines.insert()
                .values(**_line_values(pipeline, line, reverses, now))
                .returning(bank_lines.c.id)
            ).scalar_one()
        )

    def get(self, pipeline: str, line_id: int) -> StoredLine | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(bank_lines).where(
                    bank_lines.c.pipeline == pipeline, bank_lines.c.id == line_id
                )
            ).first()
        return _stored(row) if row is not None else None

    def find_pipelines(self, line_id: int) -> list[str]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    select(bank_lines.c.pipeline).where(bank_lines.c.id == line_id)
                ).scalars()
            )

    def waiting(self, pipeline: str) -> list[StoredLine]:
        """Lines a person has to look at: unmatched credits (or what is left of them) and
        returned payments that need the source corrected, oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(bank_lines)
                .where(
                    bank_lines.c.pipeline == pipeline,
                    bank_lines.c.resolved_at.is_(None),
                    bank_lines.c.status.in_([LineStatus.UNMATCHED, LineStatus.REVERSAL]),
                    # a return needs a person only with a note; a credit while money is left
                    bank_lines.c.note.is_not(None) | (bank_lines.c.remaining_cents > 0),
                )
                .order_by(bank_lines.c.booked_on, bank_lines.c.id)
            )
            return [_stored(r) for r in rows]

    def assign(
        self,
        pipeline: str,
        line_id: int,
        new_payments: Sequence[NewPayment],
        by: str,
        origin: str,
        learn: tuple[str, str] | None,
    ) -> None:
        """Record a person's assignment of (part of) an unmatched line."""
        cents = sum(p.cents for p in new_payments)
        now = datetime.now(UTC)
        with self.engine.begin() as connection:
            for payment in new_payments:
                _record(connection, pipeline, payment, origin, line_id)
            left = bank_lines.c.remaining_cents - cents
            connection.execute(
                update(bank_lines)
                .where(bank_lines.c.id == line_id)
                .values(
                    remaining_cents=left,
                    status=LineStatus.ASSIGNED,
                    resolved_by=by,
                    resolved_at=now,
                    rule="assigned",
                )
            )
            still = connection.execute(
                select(bank_lines.c.remaining_cents).where(bank_lines.c.id == line_id)
            ).scalar_one()
            if still > 0:  # the rest keeps waiting for a person
                connection.execute(
                    update(bank_lines)
                    .where(bank_lines.c.id == line_id)
                    .values(status=LineStatus.UNMATCHED, resolved_at=None)
                )
            if learn:
                _learn(connection, pipeline, *learn, f"assigned by {by}", now)

    def dismiss(self, pipeline: str, line_id: int, by: str, reason: str) -> None:
        """A person decided the line needs nothing from dunning (a refund, not a customer)."""
        with self.engine.begin() as connection:
            connection.execute(
                update(bank_lines)
                .where(bank_lines.c.pipeline == pipeline, bank_lines.c.id == line_id)
                .values(
                    status=case(
                        (bank_lines.c.status == LineStatus.UNMATCHED, LineStatus.IGNORED),
                        else_=bank_lines.c.status,
                    ),
                    resolved_by=by,
                    resolved_at=datetime.now(UTC),
                    note=reason,
                )
            )


LINE_FIELDS = (
    "fingerprint", "account", "file", "place", "booked_on", "amount_cents", "currency", "kind",
    "payer_name", "payer_iban", "structured_reference", "remittance", "end_to_end_id", "status",
    "remaining_cents", "rule", "confidence", "suggestion", "note",
)  # fmt: skip


def _line_values(
    pipeline: str, line: NewLine, reverses: int | None, now: datetime
) -> dict[str, object]:
    values: dict[str, object] = {name: getattr(line, name) for name in LINE_FIELDS}
    values.update(pipeline=pipeline, imported_at=now, reverses_line_id=reverses)
    return values


def _lower_open_amounts(connection: Connection, pipeline: str, paid: Sequence[NewPayment]) -> None:
    """Lower each invoice's open amount by what ``paid`` pays it, in one executemany; an invoice
    paid in full gets its payment day and days late (as :func:`apply_payment` does)."""
    per_invoice: dict[str, tuple[int, date, date | None]] = {}
    for p in paid:
        cents, day, due = per_invoice.get(p.invoice_number, (0, p.paid_on, p.due_date))
        per_invoice[p.invoice_number] = (cents + p.cents, max(day, p.paid_on), due)
    connection.execute(
        lowering_statement(connection, pipeline),
        [
            lowering_values(number, cents, day, due)
            for number, (cents, day, due) in per_invoice.items()
        ],
    )


def _record(
    connection: Connection, pipeline: str, payment: NewPayment, origin: str, line_id: int
) -> None:
    apply_payment(
        connection,
        pipeline,
        Payment(
            payment.invoice_number,
            from_cents(payment.cents),
            payment.paid_on,
            origin=origin,
            reference=payment.reference,
        ),
        bank_line_id=line_id,
    )


def _reverse(
    connection: Connection,
    pipeline: str,
    payment_id: int,
    line: NewLine,
    origin: str,
    line_id: int,
    source_undoes: bool,
) -> None:
    """Undo payment ``payment_id``: a negative payment opens its invoice again. A payment the
    source was not told about yet is simply never told (both are marked as settled); one it was
    told about is undone there by the write-back when ``source_undoes``, else by a person."""
    row = connection.execute(
        select(
            payments.c.invoice_number, payments.c.amount_cents, payments.c.written_back_at
        ).where(payments.c.id == payment_id)
    ).one()
    told = row.written_back_at is not None
    if not told:
        connection.execute(
            update(payments)
            .where(payments.c.id == payment_id)
            .values(written_back_at=datetime.now(UTC), writeback_error="returned before write-back")
        )
    apply_payment(
        connection,
        pipeline,
        Payment(
            row.invoice_number,
            -from_cents(row.amount_cents),
            line.booked_on,
            origin=origin,
            reference=f"returned: {line.end_to_end_id or line.place}",
        ),
        bank_line_id=line_id,
        written_back=not (told and source_undoes),
        reverses_payment_id=payment_id,
    )


def _learn(
    connection: Connection, pipeline: str, iban: str, debtor_id: str, why: str, now: datetime
) -> None:
    values = {
        "pipeline": pipeline,
        "iban": iban,
        "debtor_id": debtor_id,
        "learned_from": why,
        "learned_at": now,
    }
    insert = postgres_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(insert(debtor_accounts).values(**values).on_conflict_do_nothing())
