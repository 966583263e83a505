"""The run log, which doubles as the lock that keeps a pipeline from overlapping itself.

A run row in state ``running`` names its process (host, pid, process start time). A new run of
the same pipeline refuses to start while that process lives; when it is dead, the old run is
marked ``crashed`` and whatever it left in ``sending`` becomes ``uncertain``.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from dunning.core.errors import RunInProgressError
from dunning.core.ledger.schema import runs


def _process_start(pid: int) -> str:
    """Start time of ``pid`` (Linux ``/proc``), so a recycled pid is not taken for the run."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


def this_process() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_start(pid)}"


def process_alive(token: str) -> bool:
    """Whether the process named by ``token`` still runs; unknowable for another host (True)."""
    host, pid_text, started = token.split(":", 2)
    if host != socket.gethostname():
        return True
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not started or _process_start(pid) == started


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    pipeline: str
    as_of: date
    started_at: datetime
    finished_at: datetime | None
    status: str
    summary: dict[str, Any] | None


class RunLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, pipeline: str, as_of: date) -> tuple[int, list[int]]:
        """Open a run; return its id and the ids of dead runs found (now ``crashed``)."""
        with self.engine.begin() as connection:
            running = connection.execute(
                select(runs.c.id, runs.c.process).where(
                    runs.c.pipeline == pipeline, runs.c.status == "running"
                )
            ).all()
            dead = []
            for run_id, process in running:
                if process_alive(process):
                    raise RunInProgressError(
                        f"pipeline {pipeline!r} is already running (run {run_id}, process "
                        f"{process.split(':')[0]}:{process.split(':')[1]}); wait for it to finish"
                    )
                dead.append(run_id)
            if dead:
                connection.execute(
                    update(runs)
                    .where(runs.c.id.in_(dead))
                    .values(status="crashed", finished_at=datetime.now(UTC))
                )
            run_id = connection.execute(
                runs.insert()
                .values(
                    pipeline=pipeline,
                    as_of=as_of,
                    started_at=datetime.now(UTC),
                    status="running",
                    process=this_process(),
                )
                .returning(runs.c.id)
            ).scalar_one()
        return int(run_id), dead

    def finish(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(status=status, finished_at=datetime.now(UTC), summary=json.dumps(summary))
            )

    def recent(self, pipeline: str | None = None, limit: int = 10) -> list[RunRecord]:
        query = select(runs).order_by(runs.c.id.desc()).limit(limit)
        if pipeline:
            query = query.where(runs.c.pipeline == pipeline)
        with self.engine.connect() as connection:
            return [
                RunRecord(
                    r.id,
                    r.pipeline,
                    r.as_of,
                    r.started_at,
                    r.finished_at,
                    r.status,
                    json.loads(r.summary) if r.summary else None,
                )
                for r in connection.execute(query)
            ]
