"""Handoffs to a collection agency (which dossier went where, when) and the agency's reports.

An invoice counts as handed over from the moment the handoff step is planned
(``invoices.handed_over_on``, set by the outbox); a row here records the dossier's delivery.
Agency reports are stored once per (invoice, status, amount collected, day), so importing the
same report twice records nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from dunning.core.ledger.schema import agency_reports, handoffs
from dunning.core.models import from_cents, to_cents


@dataclass(frozen=True, slots=True)
class Handoff:
    """One dossier delivered to an agency."""

    id: int
    debtor_id: str
    message_id: int
    reference: str
    channel: str
    invoice_numbers: tuple[str, ...]
    open_at_handoff: dict[str, Decimal]
    handed_on: date
    delivered_at: datetime
    receipt: str | None

    def covers(self, number: str) -> bool:
        return number in self.invoice_numbers


@dataclass(frozen=True, slots=True)
class AgencyReport:
    invoice_number: str
    status: str
    collected: Decimal
    reported_on: date
    place: str


def _handoff(row: Any) -> Handoff:
    return Handoff(
        id=row.id,
        debtor_id=row.debtor_id,
        message_id=row.message_id,
        reference=row.reference,
        channel=row.channel,
        invoice_numbers=tuple(row.invoice_numbers.split()),
        open_at_handoff={k: from_cents(v) for k, v in json.loads(row.open_cents).items()},
        handed_on=row.handed_on,
        delivered_at=row.delivered_at,
        receipt=row.receipt,
    )


class HandoffStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self,
        pipeline: str,
        *,
        debtor_id: str,
        message_id: int,
        reference: str,
        channel: str,
        open_amounts: dict[str, Decimal],
        handed_on: date,
        receipt: str | None,
    ) -> bool:
        """Record a delivered dossier. False when ``reference`` was recorded before."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    handoffs.insert().values(
                        pipeline=pipeline,
                        debtor_id=debtor_id,
                        message_id=message_id,
                        reference=reference,
                        channel=channel,
                        invoice_numbers=" ".join(open_amounts),
                        open_cents=json.dumps({k: to_cents(v) for k, v in open_amounts.items()}),
                        handed_on=handed_on,
                        delivered_at=datetime.now(UTC),
                        receipt=receipt,
                    )
                )
        except IntegrityError:
            return False
        return True

    def all(self, pipeline: str) -> list[Handoff]:
        query = select(handoffs).where(handoffs.c.pipeline == pipeline).order_by(handoffs.c.id)
        with self.engine.connect() as connection:
            return [_handoff(row) for row in connection.execute(query)]

    def of_debtor(self, pipeline: str, debtor_id: str) -> list[Handoff]:
        return [h for h in self.all(pipeline) if h.debtor_id == debtor_id]

    def of_invoices(self, pipeline: str, numbers: Iterable[str]) -> dict[str, Handoff]:
        """The (latest) delivered handoff of each of ``numbers`` that has one."""
        wanted = set(numbers)
        found: dict[str, Handoff] = {}
        for handoff in self.all(pipeline):
            for number in handoff.invoice_numbers:
                if number in wanted:
                    found[number] = handoff
        return found

    def add_report(self, pipeline: str, report: AgencyReport) -> bool:
        """Store one line of an agency report. False when the same line was stored before."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    agency_reports.insert().values(
                        pipeline=pipeline,
                        invoice_number=report.invoice_number,
                        status=report.status,
                        collected_cents=to_cents(report.collected),
                        reported_on=report.reported_on,
                        place=report.place,
                        recorded_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            return False
        return True

    def reports(self, pipeline: str, number: str | None = None) -> list[AgencyReport]:
        query = select(agency_reports).where(agency_reports.c.pipeline == pipeline)
        if number is not None:
            query = query.where(agency_reports.c.invoice_number == number)
        query = query.order_by(agency_reports.c.reported_on, agency_reports.c.id)
        with self.engine.connect() as connection:
            return [
                AgencyReport(
                    r.invoice_number,
                    r.status,
                    from_cents(r.collected_cents),
                    r.reported_on,
                    r.place,
                )
                for r in connection.execute(query)
            ]

    def delivered_count(self, pipeline: str) -> int:
        query = select(func.count()).where(handoffs.c.pipeline == pipeline)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())
