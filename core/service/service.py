"""The service loop: tick, trigger due pipelines, catch up once, reload on HUP, stop on TERM.

Due moments come from :mod:`.timing`; the ``schedule`` package ticks (one job per enabled
pipeline, checked every second, re-created on reload). Runs go through
:func:`~dunning.core.runner.run_pipeline` in :class:`.workers.RunSlots`, each with its own ledger
connection and the service's stop event, so a stop leaves unsent messages ``pending``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import schedule

from dunning.core.config import LoadedConfig, load_config
from dunning.core.errors import (
    EXIT_OK,
    EXIT_RUNTIME,
    ConfigError,
    DunningError,
    RunInProgressError,
)
from dunning.core.ledger import Ledger
from dunning.core.runner import run_pipeline
from dunning.core.service.health import Health, HealthServer
from dunning.core.service.history import aware, last_run, run_report
from dunning.core.service.timing import Timetable, missed
from dunning.core.service.workers import RunSlots

log = logging.getLogger("dunning.service")

EXIT_GRACE_EXCEEDED = EXIT_RUNTIME
"""Exit status when runs were still going after ``--grace`` seconds (or on a second signal)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    """The ``dunning serve`` options: see docs/serve.md."""

    workers: int = 2
    tick: float = 1.0
    grace: float = 60.0
    run_now: bool = False
    distributed: bool = False
    """Only schedule: each due run is queued for ``dunning worker`` processes (procrastinate on
    the ledger's PostgreSQL) instead of run here."""


def one_line(error: DunningError) -> str:
    """A (possibly multi-line) error as one log line."""
    return "; ".join(line for line in str(error).splitlines() if line.strip())


class Service:
    """Runs every enabled pipeline of ``config`` on its schedule until :meth:`request_stop`.

    :meth:`serve` blocks and returns the exit status; signals are wired separately
    (:func:`.signals.install_signal_handlers`), so tests can drive a service in a thread.
    """

    def __init__(
        self,
        config: LoadedConfig,
        options: ServiceOptions,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """Raise ConfigError when the health file cannot be written or the port is taken."""
        self.config = config
        self.options = options
        self.clock = clock
        self.stop = threading.Event()
        self._wake = threading.Event()
        self._reload = threading.Event()
        self.scheduler = schedule.Scheduler()
        self.slots = RunSlots(options.workers)
        self.timetables: dict[str, Timetable] = {}
        self.next_due: dict[str, datetime | None] = {}
        self.ledger = Ledger.open(config.state_url)
        service = config.root.service
        file = config.directory / service.health_file if service.health_file else None
        self.health = Health(file)
        self.health_server: HealthServer | None = None
        try:
            self.health.write()
        except OSError as error:
            self.ledger.close()
            raise ConfigError(
                f"{config.path.name}: service.health_file: cannot write {file}: "
                f"{error.strerror or error}"
            ) from None
        if service.health_port is not None:
            try:
                self.health_server = HealthServer(self.health, service.health_port)
            except OSError as error:
                self.ledger.close()
                raise ConfigError(
                    f"{config.path.name}: service.health_port: cannot listen on 127.0.0.1:"
                    f"{service.health_port}: {error.strerror or error}"
                ) from None

    @property
    def stopping(self) -> bool:
        return self.stop.is_set()

    def request_stop(self) -> None:
        """Stop triggering; running runs finish the message in flight and end."""
        self.stop.set()
        self._wake.set()

    def request_reload(self) -> None:
        """Reload pipelines.yaml at the next pass of the loop."""
        self._reload.set()
        self._wake.set()

    def serve(self) -> int:
        """Run until stopped; 0 when every run ended within the grace time."""
        if self.health_server is not None:
            self.health_server.start()
            log.info("health served on http://127.0.0.1:%d/health", self.health_server.port)
        self._apply(self.config)
        log.info(
            "serving %d pipeline(s) from %s",
            len(self.timetables),
            self.config.path,
            extra={"workers": self.options.workers},
        )
        if self.options.run_now:
            for name in self.timetables:
                self.trigger(name, "--run-now")
        elif self.config.root.service.catch_up:
            self.catch_up()
        while not self.stop.is_set():
            if self._reload.is_set():
                self._reload.clear()
                self.reload()
            self.scheduler.run_pending()
            self.health.write_or_log()
            self._wake.wait(self.options.tick)
            self._wake.clear()
        return self._shut_down()

    def _apply(self, config: LoadedConfig) -> None:
        """Make ``config`` the running one: timetables, jobs and the health entries."""
        if config.state_url != self.config.state_url:
            self.ledger.close()
            self.ledger = Ledger.open(config.state_url)
        self.config = config
        self.scheduler.clear()
        now = self.clock()
        self.timetables = {
            name: Timetable.of(loaded.config)
            for name, loaded in config.pipelines.items()
            if loaded.config.schedule.enabled
        }
        self.next_due = {
            name: timetable.next_after(now) for name, timetable in self.timetables.items()
        }
        for name in self.timetables:
            self.scheduler.every(1).seconds.do(self._check_due, name).tag(name)
        self.health.set_pipelines(self.next_due)
        for name in self.timetables:
            record = last_run(self.ledger, name)
            self.health.set_last_run(name, run_report(record) if record else None)

    def _check_due(self, name: str) -> None:
        due = self.next_due.get(name)
        now = self.clock()
        if due is None or now < due:
            return
        self.trigger(name, f"scheduled for {due.isoformat()}")
        self.next_due[name] = self.timetables[name].next_after(now)
        self.health.set_next_run(name, self.next_due[name])

    def catch_up(self) -> None:
        """Run once now each pipeline whose last due moment passed without a run since."""
        now = self.clock()
        for name, timetable in self.timetables.items():
            due = timetable.last_at_or_before(now)
            record = last_run(self.ledger, name)
            if missed(due, aware(record.started_at) if record else None):
                assert due is not None
                self.trigger(name, f"catch-up: no run since {due.isoformat()}")

    def trigger(self, name: str, reason: str) -> bool:
        """Start a run of ``name`` now; False (logged) while its previous run is still going.
        In distributed mode, queue it for the workers instead (at most one waits)."""
        config = self.config
        if self.options.distributed:
            return self._defer(config, name, reason)
        started = self.slots.start(name, lambda: self._run(config, name, reason))
        if not started:
            log.info(
                "%s: not started (%s): its previous run is still going",
                name,
                reason,
                extra={"pipeline": name},
            )
        return started

    def _defer(self, config: LoadedConfig, name: str, reason: str) -> bool:
        from dunning.core.distributed import jobs

        try:
            (queued,) = jobs.defer_runs(jobs.make_app(config.state_url), config.path, [name])
        except Exception as error:  # the database may be away: the next trigger tries again
            log.error("%s: not queued (%s): %s", name, reason, error, extra={"pipeline": name})
            return False
        if queued.job_id is None:
            log.info("%s: not queued (%s): a job waits already", name, reason,
                     extra={"pipeline": name})  # fmt: skip
            return False
        log.info("%s: queued as job %s (%s)", name, queued.job_id, reason,
                 extra={"pipeline": name})  # fmt: skip
        return True

    def _run(self, config: LoadedConfig, name: str, reason: str) -> None:
        """One run in a worker thread; every outcome ends up in the log and the health."""
        if self.stop.is_set():
            return
        pipeline = config.pipelines[name]
        today = Timetable.of(pipeline.config).today(self.clock())
        log.info("%s: run triggered (%s)", name, reason, extra={"pipeline": name})
        ledger = Ledger.open(config.state_url)
        exit_code: int | None = None
        try:
            summary = run_pipeline(config, pipeline, ledger, today, stop=self.stop)
            exit_code = summary.exit_code
        except RunInProgressError as error:
            log.warning("%s: %s", name, error, extra={"pipeline": name})
        except DunningError as error:
            exit_code = error.exit_code
            log.error("%s: run failed: %s", name, one_line(error), extra={"pipeline": name})
        except Exception:
            exit_code = EXIT_RUNTIME
            log.exception("%s: run failed unexpectedly", name, extra={"pipeline": name})
        finally:
            try:
                record = last_run(ledger, name)
                if record is not None:
                    self.health.set_last_run(name, run_report(record, exit_code))
            finally:
                ledger.close()
            self.health.write_or_log()

    def reload(self) -> bool:
        """Reload pipelines.yaml; a broken file keeps the running config (health says why)."""
        path = self.config.path
        try:
            config = load_config(path)
        except DunningError as error:
            message = one_line(error)
            self.health.set_config_error(message)
            log.error("%s not reloaded, the previous config keeps running: %s", path.name, message)
            return False
        self.health.set_config_error(None)
        self._apply(config)
        log.info("%s reloaded: %d pipeline(s) scheduled", path.name, len(self.timetables))
        if config.root.service.catch_up:
            self.catch_up()
        return True

    def _shut_down(self) -> int:
        """Wait up to the grace time for the runs; the exit status of the service."""
        self.scheduler.clear()
        going = sorted(self.slots.busy())
        if going:
            log.info(
                "stopping: waiting up to %g s for %s to end", self.options.grace, ", ".join(going)
            )
        finished = self.slots.wait_idle(self.options.grace)
        self.health.write_or_log()
        if self.health_server is not None:
            self.health_server.stop()
        if not finished:
            log.error(
                "stopping: %s still running after %g s; exiting anyway (the next run reports "
                "any message left in flight as uncertain)",
                ", ".join(sorted(self.slots.busy())),
                self.options.grace,
            )
            return EXIT_GRACE_EXCEEDED
        self.slots.close()
        self.ledger.close()
        log.info("stopped")
        return EXIT_OK
