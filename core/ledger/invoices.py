"""Debtors and invoices as last synced, and the sync cursor."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, Table, and_, case, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from dunning.core.ledger.schema import debtors, invoices, payments, sync_cursors
from dunning.core.models import (
    ContactPerson,
    Debtor,
    DebtorKind,
    Invoice,
    from_cents,
    to_cents,
)


def _now() -> datetime:
    return datetime.now(UTC)


DEBTOR_COLUMNS = (
    debtors.c.debtor_id,
    debtors.c.name,
    debtors.c.email,
    debtors.c.phone,
    debtors.c.contact_name,
    debtors.c.first_name,
    debtors.c.language,
    debtors.c.kind,
    debtors.c.tags,
    debtors.c.country,
    debtors.c.timezone,
    debtors.c.contacts,
    debtors.c.address,
    debtors.c.ibans,
)
"""The columns :func:`debtor_from_values` reads, in its order (positional rows are faster)."""
KINDS = {kind.value: kind for kind in DebtorKind}


def debtor_from_values(row: Sequence[Any]) -> Debtor:
    """A :class:`Debtor` from the values of ``DEBTOR_COLUMNS``."""
    return Debtor(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6],
        KINDS.get(row[7]) or DebtorKind(row[7]), tags_from_text(row[8]), row[9], row[10],
        contacts_from_text(row[11]) if row[11] else (),
        tuple(row[12].split("\n")) if row[12] else (),
        tuple(row[13].split()) if row[13] else (),
    )  # fmt: skip


def contacts_to_text(contacts: Iterable[ContactPerson]) -> str | None:
    data = [{"name": c.name, "role": c.role, "phone": c.phone, "email": c.email} for c in contacts]
    return json.dumps(data) if data else None


def contacts_from_text(text: str) -> tuple[ContactPerson, ...]:
    return tuple(
        ContactPerson(c["name"], c.get("role") or "contact", c.get("phone"), c.get("email"))
        for c in json.loads(text)
    )


def tags_to_text(tags: Iterable[str]) -> str:
    return " ".join(tags)


def tags_from_text(text: str | None) -> tuple[str, ...]:
    return tuple(text.split()) if text else ()


INVOICE_COLUMNS = (
    invoices.c.number,
    invoices.c.debtor_id,
    invoices.c.issue_date,
    invoices.c.due_date,
    invoices.c.amount_total_cents,
    invoices.c.amount_open_cents,
    invoices.c.currency,
    invoices.c.payment_link,
    invoices.c.is_credit_note,
    invoices.c.place,
    invoices.c.tags,
    invoices.c.paid_on,
    invoices.c.discount_percent,
    invoices.c.discount_days,
    invoices.c.payment_reference,
    invoices.c.your_ref,
)
"""The columns :func:`invoice_from_values` reads, in its order (positional rows are faster)."""
EXTRA = len(INVOICE_COLUMNS)
"""Index of the first column a query selects after ``INVOICE_COLUMNS``."""


def invoice_from_values(row: Sequence[Any]) -> Invoice:
    """An :class:`Invoice` from the values of ``INVOICE_COLUMNS`` (more may follow)."""
    total_cents, open_cents, discount_percent = row[4], row[5], row[12]
    amount_total = from_cents(total_cents)
    return Invoice(  # positional: measurably faster a million times over
        row[0], row[1], row[2], row[3], amount_total,
        amount_total if open_cents == total_cents else from_cents(open_cents),
        row[6], row[7], bool(row[8]), row[9], tags_from_text(row[10]), row[11],
        Decimal(discount_percent) if discount_percent else None, row[13], row[14], row[15],
    )  # fmt: skip


def _upsert(
    connection: Connection,
    table: Table,
    rows: list[dict[str, object]],
    keys: list[str],
    special: dict[str, Any] | None = None,
) -> None:
    """Insert ``rows`` or update them where ``keys`` already exist (one statement per batch).

    ``special`` maps a column to a function of the ``excluded`` row giving its update expression.
    """
    if not rows:
        return
    insert = postgres_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = insert(table)
    updates = {c: statement.excluded[c] for c in rows[0] if c not in keys}
    for column, expression in (special or {}).items():
        updates[column] = expression(statement.excluded)
    connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates), rows)


def _days_late_update(excluded: Any) -> Any:
    """``days_late`` follows ``paid_on`` (see :func:`_paid_on_update`): the incoming row carries
    the days from the due date to its paid date, or to today when it has none."""
    return case(
        (invoices.c.paid_on.is_not(None), invoices.c.days_late),
        (excluded.paid_on.is_not(None), excluded.days_late),
        (
            and_(excluded.amount_open_cents == 0, invoices.c.amount_open_cents > 0),
            excluded.days_late,
        ),
        else_=None,
    )


def _paid_on_update(excluded: Any) -> Any:
    """Keep a known paid date; take the source's; else, when the invoice was open and is now
    settled, the sync's day (the best the ledger knows)."""
    return case(
        (invoices.c.paid_on.is_not(None), invoices.c.paid_on),
        (excluded.paid_on.is_not(None), excluded.paid_on),
        (
            and_(excluded.amount_open_cents == 0, invoices.c.amount_open_cents > 0),
            literal(date.today()),
        ),
        else_=None,
    )


class DebtorTable(Mapping[str, Debtor]):
    """Debtor rows by id; a :class:`Debtor` is built (once) when looked up."""

    def __init__(self, rows: dict[str, tuple[Any, ...]]) -> None:
        self.rows = rows
        self.built: dict[str, Debtor] = {}

    def __getitem__(self, debtor_id: str) -> Debtor:
        found = self.built.get(debtor_id)
        if found is None:
            found = debtor_from_values(self.rows[debtor_id])
            self.built[debtor_id] = found
        return found

    def __contains__(self, debtor_id: object) -> bool:
        return debtor_id in self.rows

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def country_of(self, debtor_id: str) -> str | None:
        """The debtor's country without building the record; None when unknown."""
        row = self.rows.get(debtor_id)
        return row[9] if row else None


class InvoiceStore:
    """Reads and writes the synced picture of the source."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def unwritten_payment_cents(self, pipeline: str) -> dict[str, int]:
        """Payments recorded here but not yet written back, per invoice.

        The source does not know them yet, so a sync subtracts them from the source's open amount
        instead of resurrecting an invoice a credit controller marked paid.
        """
        query = (
            select(payments.c.invoice_number, func.sum(payments.c.amount_cents))
            .where(payments.c.pipeline == pipeline, payments.c.written_back_at.is_(None))
            .group_by(payments.c.invoice_number)
        )
        with self.engine.connect() as connection:
            return {number: int(total) for number, total in connection.execute(query)}

    def save_batch(
        self,
        pipeline: str,
        sync_id: int,
        batch_debtors: Iterable[Debtor],
        batch_invoices: Iterable[Invoice],
        unwritten: dict[str, int],
    ) -> None:
        """Store one batch of synced records in one transaction (upserts)."""
        now = _now()
        today = date.today()
        debtor_rows: list[dict[str, object]] = [
            {
                "pipeline": pipeline,
                "debtor_id": d.debtor_id,
                "name": d.name,
                "contact_name": d.contact_name,
                "first_name": d.first_name,
                "email": d.email,
                "phone": d.phone,
                "language": d.language,
                "kind": d.kind.value,
                "synced_at": now,
                "tags": tags_to_text(d.tags),
                "country": d.country,
                "timezone": d.timezone,
                "contacts": contacts_to_text(d.contacts),
                "address": "\n".join(d.address) or None,
                "ibans": " ".join(d.ibans) or None,
            }
            for d in batch_debtors
        ]
        invoice_rows: list[dict[str, object]] = [
            {
                "pipeline": pipeline,
                "number": i.number,
                "debtor_id": i.debtor_id,
                "issue_date": i.issue_date,
                "due_date": i.due_date,
                "amount_total_cents": to_cents(i.amount_total),
                "amount_open_cents": max(0, to_cents(i.amount_open) - unwritten.get(i.number, 0)),
                "currency": i.currency,
                "payment_link": i.payment_link,
                "is_credit_note": int(i.is_credit_note),
                "place": i.place,
                "in_source": 1,
                "last_sync_id": sync_id,
                "synced_at": now,
                "tags": tags_to_text(i.tags),
                "paid_on": i.paid_on,
                "days_late": ((i.paid_on or today) - i.due_date).days,
                "discount_percent": str(i.discount_percent) if i.discount_percent else None,
                "discount_days": i.discount_days,
                "payment_reference": i.payment_reference,
                "your_ref": i.your_ref,
            }
            for i in batch_invoices
        ]
        with self.engine.begin() as connection:
            _upsert(connection, debtors, debtor_rows, ["pipeline", "debtor_id"])
            _upsert(
                connection,
                invoices,
                invoice_rows,
                ["pipeline", "number"],
                {"paid_on": _paid_on_update, "days_late": _days_late_update},
            )

    def close_unseen(self, pipeline: str, sync_id: int, keep: set[str]) -> int:
        """After a full snapshot: invoices the sync did not see are gone from the source.

        ``keep`` lists numbers seen in rows that could not be read: those stay as they were.
        Returns how many invoices were closed.
        """
        with self.engine.begin() as connection:
            candidates = connection.execute(
                select(invoices.c.number).where(
                    invoices.c.pipeline == pipeline,
                    invoices.c.in_source == 1,
                    (invoices.c.last_sync_id != sync_id) | invoices.c.last_sync_id.is_(None),
                )
            ).scalars()
            gone = [number for number in candidates if number not in keep]
            for start in range(0, len(gone), 500):
                connection.execute(
                    update(invoices)
                    .where(
                        invoices.c.pipeline == pipeline,
                        invoices.c.number.in_(gone[start : start + 500]),
                    )
                    .values(
                        in_source=0,
                        paid_on=func.coalesce(invoices.c.paid_on, date.today()),
                    )
                )
        return len(gone)

    def cursor(self, pipeline: str) -> str | None:
        with self.engine.connect() as connection:
            value: str | None = connection.execute(
                select(sync_cursors.c.cursor).where(sync_cursors.c.pipeline == pipeline)
            ).scalar_one_or_none()
        return value

    def save_cursor(self, pipeline: str, cursor: str) -> None:
        with self.engine.begin() as connection:
            _upsert(
                connection,
                sync_cursors,
                [{"pipeline": pipeline, "cursor": cursor, "updated_at": _now()}],
                ["pipeline"],
            )

    def debtors(self, pipeline: str) -> DebtorTable:
        """Every debtor of the pipeline, as a mapping that builds each :class:`Debtor` only when
        it is looked up (planning looks at a few thousand of hundreds of thousands)."""
        query = select(*DEBTOR_COLUMNS).where(debtors.c.pipeline == pipeline)
        with self.engine.connect() as connection:
            return DebtorTable({row[0]: tuple(row) for row in connection.execute(query)})

    def last_contact_days(self, pipeline: str) -> dict[str, date]:
        """Per debtor, the latest day a ladder step was planned for them (kept on the debtor by
        the outbox): the contact gap. A step that then failed or was cancelled still counts."""
        query = select(debtors.c.debtor_id, debtors.c.last_contact_day).where(
            debtors.c.pipeline == pipeline, debtors.c.last_contact_day.is_not(None)
        )
        with self.engine.connect() as connection:
            return {debtor_id: day for debtor_id, day in connection.execute(query)}

    def debtor_ids(self, pipeline: str) -> list[str]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    select(debtors.c.debtor_id).where(debtors.c.pipeline == pipeline)
                ).scalars()
            )

    def debtor(self, pipeline: str, debtor_id: str) -> Debtor | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(*DEBTOR_COLUMNS).where(
                    debtors.c.pipeline == pipeline, debtors.c.debtor_id == debtor_id
                )
            ).first()
        return debtor_from_values(row) if row else None

    def dunnable(
        self,
        pipeline: str,
        positions: dict[str, tuple[str, date]] | None = None,
        skip: Callable[[str, date, str | None, date | None], bool] | None = None,
    ) -> Iterator[Invoice]:
        """Invoices still in the source, with money open, that are not credit notes, by debtor.

        With ``positions``, each yielded invoice's latest ladder step and its day (when it had
        one) are put there under its number before it is yielded: the ladder position, read in
        the same pass. ``skip(debtor_id, due_date, ladder_step, ladder_day)`` returning True
        leaves a row out before any object is built (planning: "nothing due yet")."""
        c = invoices.c
        query = (
            select(*INVOICE_COLUMNS, c.ladder_step, c.ladder_day)
            .where(
                and_(
                    c.pipeline == pipeline,
                    c.in_source == 1,
                    c.is_credit_note == 0,
                    c.amount_total_cents > 0,
                    c.amount_open_cents > 0,
                    c.handed_over_on.is_(None),
                    c.released_on.is_(None),
                )
            )
            .order_by(c.debtor_id, c.due_date, c.number)
        )
        with self.engine.connect() as connection:
            for row in connection.execute(query):
                number, debtor_id, due_date, ladder_step, ladder_day = (
                    row[0], row[1], row[3], row[EXTRA], row[EXTRA + 1],
                )  # fmt: skip
                if skip is not None and skip(debtor_id, due_date, ladder_step, ladder_day):
                    continue
                if positions is not None and ladder_step is not None:
                    positions[number] = (ladder_step, ladder_day)
                yield invoice_from_values(row)

    def payment_totals(
        self, pipeline: str, debtor_id: str | None = None
    ) -> Iterator[tuple[str, int, int, int]]:
        """Per debtor with settled invoices of known paid date: (debtor, how many, days late in
        total (paying early counts 0), how many on or before the due date), summed by the
        database."""
        c = invoices.c
        late = case((c.days_late > 0, c.days_late), else_=0)
        on_time = case((c.days_late <= 0, 1), else_=0)
        query = (
            select(c.debtor_id, func.count(), func.sum(late), func.sum(on_time))
            .where(
                c.pipeline == pipeline,
                c.paid_on.is_not(None),
                c.days_late.is_not(None),
                c.is_credit_note == 0,
                c.amount_open_cents <= 0,
                *([c.debtor_id == debtor_id] if debtor_id is not None else []),
            )
            .group_by(c.debtor_id)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        for debtor_id, count, late_days, timely in rows:
            yield debtor_id, int(count), int(late_days or 0), int(timely or 0)

    def paid_on_time_between(self, pipeline: str, since: date, until: date) -> list[Invoice]:
        """Invoices settled by their due date, from ``since`` through ``until`` (thank-you
        messages), by debtor."""
        query = (
            select(*INVOICE_COLUMNS)
            .where(
                invoices.c.pipeline == pipeline,
                invoices.c.paid_on >= since,
                invoices.c.paid_on <= until,
                invoices.c.is_credit_note == 0,
                invoices.c.amount_total_cents > 0,
                invoices.c.amount_open_cents <= 0,
                invoices.c.days_late <= 0,  # NULL (vanished from the source) is not "paid"
                invoices.c.handed_over_on.is_(None),  # the agency's case now: no contact
            )
            .order_by(invoices.c.debtor_id, invoices.c.number)
        )
        with self.engine.connect() as connection:
            return [invoice_from_values(row) for row in connection.execute(query)]

    def debtors_with_overdue(self, pipeline: str, today: date, among: Iterable[str]) -> set[str]:
        """Those of ``among`` with an open invoice past its due date."""
        wanted = list(among)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            found |= self._overdue(pipeline, today, wanted[start : start + 500])
        return found

    def _overdue(self, pipeline: str, today: date, debtor_ids: list[str]) -> set[str]:
        query = select(invoices.c.debtor_id).where(
            invoices.c.debtor_id.in_(debtor_ids),
            invoices.c.pipeline == pipeline,
            invoices.c.in_source == 1,
            invoices.c.is_credit_note == 0,
            invoices.c.amount_total_cents > 0,
            invoices.c.amount_open_cents > 0,
            invoices.c.due_date < today,
        )
        with self.engine.connect() as connection:
            return set(connection.execute(query.distinct()).scalars())

    def open_of_debtor(
        self, pipeline: str, debtor_id: str, *, handed_over: bool = False
    ) -> list[Invoice]:
        """The debtor's dunnable invoices, oldest due first. Invoices handed over to a
        collection agency are the agency's case and left out, unless ``handed_over``."""
        conditions = [
            invoices.c.pipeline == pipeline,
            invoices.c.debtor_id == debtor_id,
            invoices.c.in_source == 1,
            invoices.c.is_credit_note == 0,
            invoices.c.amount_total_cents > 0,
            invoices.c.amount_open_cents > 0,
        ]
        if not handed_over:
            conditions.append(invoices.c.handed_over_on.is_(None))
        query = (
            select(*INVOICE_COLUMNS)
            .where(*conditions)
            .order_by(invoices.c.due_date, invoices.c.number)
        )
        with self.engine.connect() as connection:
            return [invoice_from_values(row) for row in connection.execute(query)]

    def to_take_over(self, pipeline: str) -> list[Invoice]:
        """Open invoices the ladder has reached that the source's own reminders were not yet
        told to leave alone (``taken_over_on`` empty)."""
        c = invoices.c
        query = (
            select(*INVOICE_COLUMNS)
            .where(
                c.pipeline == pipeline,
                c.in_source == 1,
                c.amount_open_cents > 0,
                c.ladder_step.is_not(None),
                c.taken_over_on.is_(None),
                c.handed_over_on.is_(None),
                c.released_on.is_(None),
            )
            .order_by(c.debtor_id, c.number)
        )
        with self.engine.connect() as connection:
            return [invoice_from_values(row) for row in connection.execute(query)]

    def release(self, pipeline: str, number: str, day: date) -> None:
        """The pipeline lets go of the invoice: no more steps; the source's own reminders may
        take it over again."""
        with self.engine.begin() as connection:
            connection.execute(
                update(invoices)
                .where(invoices.c.pipeline == pipeline, invoices.c.number == number)
                .values(released_on=day)
            )

    def let_go_among(self, pipeline: str, numbers: Iterable[str]) -> tuple[set[str], set[str]]:
        """Of ``numbers``: those handed over to a collection agency, and those released to the
        source's own reminders (one query, for the dispatcher's check before each send)."""
        wanted: list[str] = list(numbers)
        handed: set[str] = set()
        released: set[str] = set()
        c = invoices.c
        with self.engine.connect() as connection:
            for start in range(0, len(wanted), 500):
                rows = connection.execute(
                    select(c.number, c.handed_over_on, c.released_on).where(
                        c.pipeline == pipeline,
                        c.number.in_(wanted[start : start + 500]),
                        c.handed_over_on.is_not(None) | c.released_on.is_not(None),
                    )
                )
                for number, handed_on, released_on in rows:
                    if handed_on is not None:
                        handed.add(number)
                    if released_on is not None:
                        released.add(number)
        return handed, released

    def mark_taken_over(self, pipeline: str, number: str, day: date) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(invoices)
                .where(invoices.c.pipeline == pipeline, invoices.c.number == number)
                .values(taken_over_on=day)
            )

    def numbers_of_debtor(self, pipeline: str, debtor_id: str) -> list[str]:
        """Every invoice number of the debtor the ledger has seen (open, paid, gone)."""
        query = select(invoices.c.number).where(
            invoices.c.pipeline == pipeline, invoices.c.debtor_id == debtor_id
        )
        with self.engine.connect() as connection:
            return list(connection.execute(query).scalars())

    def credit_notes_of(self, pipeline: str, debtor_id: str) -> list[Invoice]:
        """The debtor's credit notes still in the source (for the agency dossier)."""
        query = (
            select(*INVOICE_COLUMNS)
            .where(
                invoices.c.pipeline == pipeline,
                invoices.c.debtor_id == debtor_id,
                invoices.c.in_source == 1,
                (invoices.c.is_credit_note == 1) | (invoices.c.amount_total_cents < 0),
            )
            .order_by(invoices.c.issue_date, invoices.c.number)
        )
        with self.engine.connect() as connection:
            return [invoice_from_values(row) for row in connection.execute(query)]

    def handed_over_among(self, pipeline: str, numbers: Iterable[str]) -> dict[str, date]:
        """Those of ``numbers`` handed over to a collection agency, with the day."""
        wanted, found = list(numbers), {}
        with self.engine.connect() as connection:
            for start in range(0, len(wanted), 500):
                rows = connection.execute(
                    select(invoices.c.number, invoices.c.handed_over_on).where(
                        invoices.c.pipeline == pipeline,
                        invoices.c.number.in_(wanted[start : start + 500]),
                        invoices.c.handed_over_on.is_not(None),
                    )
                )
                found.update({number: day for number, day in rows})
        return found

    def get(self, pipeline: str, numbers: Iterable[str]) -> dict[str, tuple[Invoice, bool]]:
        """Current state of ``numbers``: the invoice and whether it is still in the source."""
        wanted = list(numbers)
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(*INVOICE_COLUMNS, invoices.c.in_source).where(
                    invoices.c.pipeline == pipeline, invoices.c.number.in_(wanted)
                )
            )
            return {row[0]: (invoice_from_values(row), bool(row[EXTRA])) for row in rows}

    def find_pipelines_with_invoice(self, number: str) -> list[str]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    select(invoices.c.pipeline).where(invoices.c.number == number)
                ).scalars()
            )
