"""Pipeline runs as procrastinate jobs on the ledger's PostgreSQL: deferred by ``dunning defer``
or ``dunning serve --distributed``, carried out by ``dunning worker`` processes on any machine.

- One task, ``dunning.run_pipeline``, runs one pipeline once (:func:`run_job`), exactly as
  ``dunning run --pipeline`` does; the ledger's run lock and outbox make it crash safe.
- Each job carries the procrastinate ``lock`` ``pipeline:<name>``: jobs of one pipeline run one
  at a time, whichever worker takes them; other pipelines run side by side. Its
  ``queueing_lock`` (the same) keeps at most one job of a pipeline waiting: deferring again
  while one waits is a no-op (reported, not an error).
- A worker that dies leaves its job ``doing`` and the pipeline's lock taken. Workers send
  heartbeats; on start and then every ``stalled_after`` seconds a worker puts the jobs of workers
  silent for longer than that back in the queue (:func:`recover_stalled`), so the pipeline runs
  again (and its own crash recovery marks what was mid-send ``uncertain``).
- procrastinate's tables live in the ledger's database; :func:`ensure_schema` creates them once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Status
from sqlalchemy.engine import make_url

from dunning.core.errors import ConfigError, RunInProgressError

if TYPE_CHECKING:
    from dunning.core.config import LoadedConfig
    from dunning.core.ledger import Ledger

QUEUE = "dunning"
TASK = "dunning.run_pipeline"
log = logging.getLogger("dunning.worker")


def conninfo(state_url: str) -> str:
    """The libpq address of a ``postgresql+psycopg://`` ledger URL (procrastinate's form)."""
    url = make_url(state_url)
    if url.get_backend_name() != "postgresql":
        raise ConfigError(
            f"distributed mode needs the ledger on PostgreSQL (state: postgresql+psycopg://...), "
            f"not {url.get_backend_name()}; see docs/deploy.md"
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def lock_of(pipeline: str) -> str:
    return f"pipeline:{pipeline}"


_configs: dict[str, tuple[tuple[int, int], LoadedConfig]] = {}
_configs_lock = threading.Lock()


def loaded_config(config_path: str) -> LoadedConfig:
    """``pipelines.yaml`` as loaded, kept while the file (size and modification time) and its
    ``.env`` stay the same: validating hundreds of pipelines for every job would cost more
    than most runs."""
    from dunning.core.config import load_config

    path = Path(config_path)
    env = path.parent / ".env"
    stamp = (path.stat().st_mtime_ns, env.stat().st_mtime_ns if env.exists() else 0)
    with _configs_lock:
        kept = _configs.get(config_path)
        if kept is not None and kept[0] == stamp:
            return kept[1]
    config = load_config(path)
    with _configs_lock:
        _configs[config_path] = (stamp, config)
    return config


_ledgers: dict[str, Ledger] = {}


def ledger_at(state_url: str) -> Ledger:
    """The ledger at ``state_url``, opened once per worker process (its connection pool is
    shared by the jobs the worker runs at the same time)."""
    from dunning.core.ledger import Ledger

    with _configs_lock:
        if state_url not in _ledgers:
            _ledgers[state_url] = Ledger.open(state_url)
        return _ledgers[state_url]


def run_job(config_path: str, pipeline: str, as_of: str | None = None) -> dict[str, Any]:
    """Run ``pipeline`` of the config at ``config_path`` once; return its summary."""
    from dunning.core.runner import run_pipeline

    config = loaded_config(config_path)
    today = date.fromisoformat(as_of) if as_of else date.today()
    # A replayed day acts at its noon, as ``dunning run --date`` does; today at the clock.
    now = datetime.combine(today, time(12)).astimezone() if as_of else None
    ledger = ledger_at(config.state_url)
    try:
        summary = run_pipeline(config, config.pipeline(pipeline), ledger, today, now=now)
    except RunInProgressError as busy:
        log.info("skipped: %s", busy, extra={"pipeline": pipeline})
        return {"pipeline": pipeline, "skipped": str(busy)}
    result = summary.to_dict()
    log.info(
        "run finished: %s sent, %s failed, exit %s",
        summary.sent, summary.failed, summary.exit_code,
        extra={"pipeline": pipeline},
    )  # fmt: skip
    return result


def make_app(state_url: str) -> procrastinate.App:
    """The procrastinate app on the ledger's database, with the pipeline task."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(state_url)))
    app.task(name=TASK, queue=QUEUE)(run_job)
    return app


def ensure_schema(app: procrastinate.App) -> None:
    """Create procrastinate's tables in the ledger's database unless they are there."""
    with app.open():
        present = app.connector.get_sync_connector().execute_query_one(
            "SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present"
        )
        if not present["present"]:
            app.schema_manager.apply_schema()


@dataclass(frozen=True, slots=True)
class Deferred:
    pipeline: str
    job_id: int | None
    """``None``: a job of this pipeline was already waiting."""


def defer_runs(
    app: procrastinate.App, config_path: Path, pipelines: Iterable[str], as_of: date | None = None
) -> list[Deferred]:
    """Queue one run of each pipeline (at most one waits per pipeline)."""
    task = app.tasks[TASK]
    done = []
    with app.open():
        for name in pipelines:
            lock = lock_of(name)
            try:
                job_id = task.configure(lock=lock, queueing_lock=lock).defer(
                    config_path=str(config_path.resolve()),
                    pipeline=name,
                    as_of=as_of.isoformat() if as_of else None,
                )
            except AlreadyEnqueued:
                job_id = None
            done.append(Deferred(name, job_id))
    return done


def recover_stalled(state_url: str, stalled_after: float) -> int:
    """Put back in the queue the jobs of workers silent for ``stalled_after`` seconds (with an
    app of its own: a worker's app must not be opened and closed under it)."""
    app = make_app(state_url)

    async def recover() -> int:
        async with app.open_async():
            manager = app.job_manager
            stalled = list(
                await manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_after)
            )
            for job in stalled:
                pipeline = job.task_kwargs.get("pipeline")
                try:
                    await manager.retry_job(job)
                except UniqueViolation:  # a run of that pipeline waits already: it will do
                    await manager.finish_job(job, status=Status.FAILED, delete_job=False)
                    log.warning("job %s of a dead worker dropped: another waits", job.id,
                                extra={"pipeline": pipeline})  # fmt: skip
                    continue
                log.warning("job %s of a dead worker is queued again", job.id,
                            extra={"pipeline": pipeline})  # fmt: skip
            await manager.prune_stalled_workers(stalled_after)
            return len(stalled)

    return asyncio.run(recover())


def run_worker(
    state_url: str,
    *,
    concurrency: int = 1,
    once: bool = False,
    heartbeat: float = 10.0,
    stalled_after: float = 30.0,
) -> None:
    """Process jobs until stopped (SIGTERM/SIGINT finish the jobs in hand), or, with ``once``,
    until the queue is empty. Jobs of dead workers are put back first, and then every
    ``stalled_after`` seconds while this worker runs."""
    app = make_app(state_url)
    recover_stalled(state_url, stalled_after)
    done = threading.Event()

    def keep_recovering() -> None:
        while not done.wait(stalled_after):
            try:
                recover_stalled(state_url, stalled_after)
            except Exception as error:  # the database may be away for a moment: try later
                log.warning("recovering stalled jobs failed: %s", error)

    recovering = threading.Thread(target=keep_recovering, daemon=True)
    recovering.start()
    try:
        app.run_worker(
            queues=[QUEUE],
            concurrency=concurrency,
            wait=not once,
            update_heartbeat_interval=heartbeat,
            stalled_worker_timeout=stalled_after,
            install_signal_handlers=True,
            delete_jobs="successful",
        )
    finally:
        done.set()
