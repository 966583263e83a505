"""Opt-outs: a debtor's address that must not be messaged on a channel kind again (an SMS
STOP, a provider's "unsubscribed"), remembered so that no later run tries it again."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from dunning.core.ledger.schema import opt_outs


class OptOutStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, pipeline: str, debtor_id: str, channel_kind: str, address: str,
            reason: str) -> bool:  # fmt: skip
        """Remember the opt-out. False when it was known already."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    opt_outs.insert().values(
                        pipeline=pipeline,
                        debtor_id=debtor_id,
                        channel_kind=channel_kind,
                        address=address,
                        reason=reason,
                        recorded_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            return False
        return True

    def reason(self, pipeline: str, debtor_id: str, channel_kind: str, address: str) -> str | None:
        """Why ``address`` opted out of ``channel_kind``, or ``None`` when it did not."""
        query = select(opt_outs.c.reason).where(
            opt_outs.c.pipeline == pipeline,
            opt_outs.c.debtor_id == debtor_id,
            opt_outs.c.channel_kind == channel_kind,
            opt_outs.c.address == address,
        )
        with self.engine.connect() as connection:
            return connection.execute(query).scalar_one_or_none()
