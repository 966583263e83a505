"""The run log, which doubles as the lock that keeps a pipeline from overlapping itself.

A run row in state ``running`` names its process (host, pid, process start time). A new run of
the same pipeline refuses to start while that process lives; when it is dead, the old run is
marked ``crashed`` and whatever it left in ``sending`` becomes ``uncertain``.

On PostgreSQL the lock is the database's, so it holds across machines: a run holds a
session-level advisory lock on its pipeline (``pg_try_advisory_lock``) on a connection of its
own until :meth:`RunLog.finish`. A second run anywhere fails to take it and refuses to start.
When the process holding it dies, its connection closes and PostgreSQL releases the lock; a
``running`` row found while the lock is free is therefore dead, on whatever machine it ran.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select, text, update

from dunning.core.errors import RunInProgressError
from dunning.core.ledger.schema import runs
from dunning.core.privacy.redaction import redact


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


def _end_session(holder: Connection) -> None:
    """Close the database session itself (not back to the pool): that releases its locks."""
    holder.invalidate()
    holder.close()


def lock_key(pipeline: str) -> int:
    """The advisory lock key of a pipeline's runs: a signed 64-bit number from its name."""
    digest = hashlib.sha256(f"dunning-run:{pipeline}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class RunLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._held: dict[int, Connection] = {}
        """Run id -> the connection holding its advisory lock (PostgreSQL)."""
        self._held_lock = threading.Lock()

    @property
    def _advisory(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def start(self, pipeline: str, as_of: date) -> tuple[int, list[int]]:
        """Open a run; return its id and the ids of dead runs found (now ``crashed``)."""
        if not self._advisory:
            return self._start(pipeline, as_of, None)
        holder = self.engine.connect()
        try:
            taken = holder.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(pipeline)}
            ).scalar_one()
            holder.commit()
            if not taken:
                raise RunInProgressError(
                    f"pipeline {pipeline!r} is already running (another process holds its lock "
                    "in the ledger); wait for it to finish"
                )
            run_id, dead = self._start(pipeline, as_of, holder)
        except BaseException:
            _end_session(holder)
            raise
        with self._held_lock:
            self._held[run_id] = holder
        return run_id, dead

    def _start(
        self, pipeline: str, as_of: date, holder: Connection | None
    ) -> tuple[int, list[int]]:
        """With ``holder`` (the advisory lock taken) every ``running`` row is dead."""
        with self.engine.begin() as connection:
            running = connection.execute(
                select(runs.c.id, runs.c.process).where(
                    runs.c.pipeline == pipeline, runs.c.status == "running"
                )
            ).all()
            dead = []
            for run_id, process in running:
                if holder is None and process_alive(process):
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
        """Record how the run ended, then let go of its lock."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    update(runs)
                    .where(runs.c.id == run_id)
                    .values(
                        status=status,
                        finished_at=datetime.now(UTC),
                        summary=redact(json.dumps(summary)),
                    )
                )
        finally:
            self.release(run_id)

    def release(self, run_id: int) -> None:
        """Let go of the run's advisory lock (PostgreSQL); nothing on SQLite."""
        with self._held_lock:
            holder = self._held.pop(run_id, None)
        if holder is not None:
            _end_session(holder)

    def release_all(self) -> None:
        for run_id in list(self._held):
            self.release(run_id)

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
