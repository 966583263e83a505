"""Proof of 14-day letters for the agency dossier, and whether a letter's term has passed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Engine, select

from dunning.core.ledger.schema import legal_letters
from dunning.core.models import from_cents, to_cents


@dataclass(frozen=True, slots=True)
class LetterProof:
    message_id: int
    debtor_id: str
    invoice_numbers: tuple[str, ...]
    channel: str
    sent_on: date
    received_on: date
    last_day: date
    principal: Decimal
    costs: Decimal


class LetterStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, pipeline: str, proof: LetterProof) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                legal_letters.insert().values(
                    pipeline=pipeline,
                    message_id=proof.message_id,
                    debtor_id=proof.debtor_id,
                    invoice_numbers=" ".join(proof.invoice_numbers),
                    channel=proof.channel,
                    sent_on=proof.sent_on,
                    received_on=proof.received_on,
                    last_day=proof.last_day,
                    principal_cents=to_cents(proof.principal),
                    costs_cents=to_cents(proof.costs),
                    recorded_at=datetime.now(UTC),
                )
            )

    def of_debtor(self, pipeline: str, debtor_id: str) -> list[LetterProof]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(legal_letters)
                .where(legal_letters.c.pipeline == pipeline, legal_letters.c.debtor_id == debtor_id)
                .order_by(legal_letters.c.sent_on, legal_letters.c.id)
            )
            return [
                LetterProof(
                    r.message_id,
                    r.debtor_id,
                    tuple(r.invoice_numbers.split()),
                    r.channel,
                    r.sent_on,
                    r.received_on,
                    r.last_day,
                    from_cents(r.principal_cents),
                    from_cents(r.costs_cents),
                )
                for r in rows
            ]

    def term_passed(
        self, pipeline: str, debtor_id: str, numbers: Iterable[str], today: date
    ) -> bool:
        """True when every invoice of ``numbers`` had a 14-day letter whose term ended before
        ``today``."""
        wanted = set(numbers)
        covered = {
            number
            for letter in self.of_debtor(pipeline, debtor_id)
            if letter.last_day < today
            for number in letter.invoice_numbers
        }
        return bool(wanted) and wanted <= covered
