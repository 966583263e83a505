"""Receivable snapshots: what was open after each run (the DSO trend)."""

from __future__ import annotations

from sqlalchemy import Engine


class SnapshotStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
