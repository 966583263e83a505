"""Promises, arrangements, disputes and manual pauses: who set them, when, why, how they ended.

Nothing is deleted. A pause ends by a person (``lifted``, ``resolved``) or by the engine's review
(``kept``: everything covered was paid; ``broken``: a promise's day plus grace passed, or an
instalment was missed), with the day it ended, so the policy can shift the ladder by the time it
stood still and say in the next message why it moves again.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

from sqlalchemy import Engine, func, select, update

from dunning.core.ledger.schema import instalments, pauses
from dunning.core.models import (
    Instalment,
    Pause,
    PauseKind,
    PauseStatus,
    from_cents,
    to_cents,
)


class PauseStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, pipeline: str, pause: Pause) -> Pause:
        """Record ``pause`` (its ``id`` is ignored) with its instalments; return it with its id."""
        with self.engine.begin() as connection:
            pause_id = connection.execute(
                pauses.insert()
                .values(
                    pipeline=pipeline,
                    debtor_id=pause.debtor_id,
                    kind=pause.kind.value,
                    invoice_numbers=" ".join(pause.invoice_numbers),
                    reason=pause.reason,
                    starts_on=pause.starts_on,
                    until=pause.until,
                    grace_days=pause.grace_days,
                    open_at_start_cents=to_cents(pause.open_at_start),
                    status=PauseStatus.ACTIVE.value,
                    created_by=pause.created_by,
                    created_at=datetime.now(UTC),
                )
                .returning(pauses.c.id)
            ).scalar_one()
            if pause.instalments:
                connection.execute(
                    instalments.insert(),
                    [
                        {
                            "pause_id": pause_id,
                            "due_on": i.due_on,
                            "amount_cents": to_cents(i.amount),
                        }
                        for i in pause.instalments
                    ],
                )
        stored = self.get(pipeline, int(pause_id))
        assert stored is not None
        return stored

    def _load(self, pipeline: str, *conditions: object) -> list[Pause]:
        with self.engine.connect() as connection:
            rows = list(
                connection.execute(
                    select(pauses)
                    .where(pauses.c.pipeline == pipeline, *conditions)  # type: ignore[arg-type]
                    .order_by(pauses.c.id)
                )
            )
            plan: dict[int, list[Instalment]] = defaultdict(list)
            ids = [row.id for row in rows]
            for start in range(0, len(ids), 500):
                for row in connection.execute(
                    select(instalments)
                    .where(instalments.c.pause_id.in_(ids[start : start + 500]))
                    .order_by(instalments.c.due_on, instalments.c.id)
                ):
                    plan[row.pause_id].append(Instalment(row.due_on, from_cents(row.amount_cents)))
        return [
            Pause(
                id=row.id,
                debtor_id=row.debtor_id,
                kind=PauseKind(row.kind),
                starts_on=row.starts_on,
                reason=row.reason,
                invoice_numbers=tuple(row.invoice_numbers.split()),
                until=row.until,
                grace_days=row.grace_days,
                instalments=tuple(plan[row.id]),
                open_at_start=from_cents(row.open_at_start_cents),
                status=PauseStatus(row.status),
                ended_on=row.ended_on,
                created_by=row.created_by,
            )
            for row in rows
        ]

    def get(self, pipeline: str, pause_id: int) -> Pause | None:
        found = self._load(pipeline, pauses.c.id == pause_id)
        return found[0] if found else None

    def all(self, pipeline: str) -> list[Pause]:
        """Every pause of the pipeline, active or ended, oldest first."""
        return self._load(pipeline)

    def by_debtor(self, pipeline: str) -> dict[str, list[Pause]]:
        result: dict[str, list[Pause]] = defaultdict(list)
        for pause in self.all(pipeline):
            result[pause.debtor_id].append(pause)
        return dict(result)

    def active(self, pipeline: str, debtor_id: str | None = None) -> list[Pause]:
        conditions: list[object] = [pauses.c.status == PauseStatus.ACTIVE.value]
        if debtor_id is not None:
            conditions.append(pauses.c.debtor_id == debtor_id)
        return self._load(pipeline, *conditions)

    def close(
        self,
        pipeline: str,
        pause_id: int,
        status: PauseStatus,
        ended_on: date,
        by: str,
        reason: str,
    ) -> bool:
        """End an active pause. False when it was not active (already ended)."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(pauses)
                .where(
                    pauses.c.pipeline == pipeline,
                    pauses.c.id == pause_id,
                    pauses.c.status == PauseStatus.ACTIVE.value,
                )
                .values(
                    status=status.value,
                    ended_on=ended_on,
                    closed_by=by,
                    closed_at=datetime.now(UTC),
                    close_reason=reason,
                )
            )
            return result.rowcount == 1

    def broken_counts(self, pipeline: str) -> dict[str, int]:
        """Broken promises and arrangements per debtor (payment behaviour)."""
        query = (
            select(pauses.c.debtor_id, func.count())
            .where(pauses.c.pipeline == pipeline, pauses.c.status == PauseStatus.BROKEN.value)
            .group_by(pauses.c.debtor_id)
        )
        with self.engine.connect() as connection:
            return {debtor: int(count) for debtor, count in connection.execute(query)}
