"""Payment links made for messages (Mollie): one per message key, so a retry reuses it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from dunning.core.ledger.schema import payment_links
from dunning.core.models import from_cents, to_cents


@dataclass(frozen=True, slots=True)
class StoredLink:
    key: str
    provider: str
    link_id: str
    url: str
    amount: Decimal
    description: str


class PaymentLinkStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, key: str) -> StoredLink | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(payment_links).where(payment_links.c.key == key)
            ).first()
        if row is None:
            return None
        return StoredLink(row.key, row.provider, row.link_id, row.url,
                          from_cents(row.amount_cents), row.description)  # fmt: skip

    def record(self, pipeline: str, link: StoredLink) -> StoredLink:
        """Store ``link``; when one exists for the key already, that one is returned."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    payment_links.insert().values(
                        pipeline=pipeline,
                        key=link.key,
                        provider=link.provider,
                        link_id=link.link_id,
                        url=link.url,
                        amount_cents=to_cents(link.amount),
                        description=link.description,
                        created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            existing = self.get(link.key)
            assert existing is not None
            return existing
        return link
