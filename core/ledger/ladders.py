"""The ladders a pipeline ran with, so a changed ``pipelines.yaml`` can be compared and its open
cases mapped (a removed step's cases continue at the next step that still exists)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from dunning.core.ledger.schema import ladders


class LadderStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, pipeline: str, steps: list[dict[str, Any]]) -> bool:
        """Store ``steps`` (the configured step mappings) when they differ from the last
        recorded ladder. True when a new version was stored."""
        text = json.dumps(steps, sort_keys=True, default=str)
        with self.engine.begin() as connection:
            last = connection.execute(
                select(ladders.c.steps)
                .where(ladders.c.pipeline == pipeline)
                .order_by(ladders.c.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            if last == text:
                return False
            connection.execute(
                ladders.insert().values(
                    pipeline=pipeline, steps=text, recorded_at=datetime.now(UTC)
                )
            )
        return True

    def versions(self, pipeline: str) -> list[list[dict[str, Any]]]:
        """Every recorded ladder, oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(ladders.c.steps).where(ladders.c.pipeline == pipeline).order_by(ladders.c.id)
            ).scalars()
            return [json.loads(text) for text in rows]

    def latest(self, pipeline: str) -> list[dict[str, Any]] | None:
        versions = self.versions(pipeline)
        return versions[-1] if versions else None
