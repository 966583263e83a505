"""One run of one pipeline: sync -> plan -> outbox -> dispatch -> write-back.

The run is recorded in the ledger's run log; a second live run of the same pipeline refuses to
start. Whatever happens, the run ends with no message left in ``sending``: a message whose fate
is unknown becomes ``uncertain``.

A run whose sync completed records a receivable snapshot (``ledger.snapshots``: the DSO trend
of ``dunning report``); a dry run or a run with an incomplete sync does not.

A run given a ``stop`` event (``dunning serve`` on SIGTERM) ends early but normally: the message
in flight is finished, the ones not started stay ``pending`` for the next run, and the run is
recorded as ``stopped`` (``partial`` when something else went wrong too).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime

from dunning.core.agreements import review_pauses
from dunning.core.calls.queue import cancel_calls_about
from dunning.core.config import LoadedConfig, LoadedPipeline
from dunning.core.dispatch import Dispatcher
from dunning.core.handoff.notify import plan_agency_updates
from dunning.core.ledger import Ledger
from dunning.core.models import Plan
from dunning.core.planning import plan_pipeline
from dunning.core.policy.build import ladder_snapshot
from dunning.core.progress import NoProgress, Progress
from dunning.core.source import Source, SourceContext
from dunning.core.summary import RunSummary
from dunning.core.sync import sync_source
from dunning.core.writeback import (
    mirror_call_tasks,
    take_over_invoices,
    write_back_notes,
    write_back_payments,
)

log = logging.getLogger("dunning.run")


def make_source(
    config: LoadedConfig,
    pipeline: LoadedPipeline,
    ledger: Ledger | None = None,
    today: date | None = None,
) -> Source:
    context = SourceContext(
        pipeline=pipeline.name,
        config_dir=config.directory,
        tokens=ledger.tokens if ledger is not None else None,
        today=today,
    )
    return pipeline.source_cls(pipeline.source_config, context)


def run_pipeline(
    config: LoadedConfig,
    pipeline: LoadedPipeline,
    ledger: Ledger,
    today: date,
    progress: Progress | None = None,
    retry_wait: float = 0.5,
    now: datetime | None = None,
    stop: threading.Event | None = None,
) -> RunSummary:
    """Run ``pipeline`` once as of ``today`` and return what happened.

    ``now`` is the moment checked against the send window (default: the clock). Once ``stop``
    is set, no further message is started (see the module docstring)."""
    progress = progress or NoProgress()
    now = now or datetime.now(UTC)
    summary = RunSummary(pipeline=pipeline.name, as_of=today)
    run_id, dead_runs = ledger.runs.start(pipeline.name, today)
    context = {"pipeline": pipeline.name, "run_id": run_id}
    log.info("%s: run %d started as of %s", pipeline.name, run_id, today, extra=context)
    status = "failed"
    stopped = False
    try:
        summary.uncertain_found = ledger.outbox.mark_uncertain(dead_runs)
        if summary.uncertain_found:
            summary.problems.append(
                f"{summary.uncertain_found} message(s) were being sent when an earlier run "
                "stopped; they are marked uncertain and will not be re-sent (see dunning status)"
            )
        source = make_source(config, pipeline, ledger, today)
        sync_source(source, ledger, pipeline.name, run_id, summary, progress)
        fresh = summary.sync_incomplete is None
        if fresh:
            for change in review_pauses(ledger, pipeline.name, today):
                summary.pauses_ended += 1
                summary.notes.append(change)
        summary.calls_cancelled = cancel_calls_about(ledger, pipeline.name)
        ledger.ladders.record(pipeline.name, ladder_snapshot(pipeline))
        if fresh:
            stopped = _plan_and_send(config, pipeline, ledger, source, run_id, today, now,
                                     summary, progress, retry_wait, stop)  # fmt: skip
        else:
            summary.problems.append(
                "nothing was planned or sent this run: the ledger may miss payments the source "
                "holds; the next run with a complete sync catches up"
            )
        write_back_payments(source, ledger, pipeline.name, summary)
        write_back_notes(source, ledger, pipeline.name, summary)
        if pipeline.config.calls.mirror_to_source:
            mirror_call_tasks(source, ledger, pipeline.name, summary)
        if fresh:
            ledger.snapshots.record(pipeline.name, today, run_id)
        finished = "stopped" if stopped else "completed"
        status = finished if summary.exit_code == 0 else "partial"
    finally:
        summary.uncertain_found += ledger.outbox.mark_uncertain([run_id])
        ledger.runs.finish(run_id, status, summary.to_dict())
        log.info(
            "%s: run %d %s: %d planned, %d sent, %d failed, %d to retry, %d uncertain",
            pipeline.name,
            run_id,
            status,
            summary.planned,
            summary.sent,
            summary.failed,
            summary.retry_later,
            summary.uncertain_found,
            extra={**context, "status": status},
        )
    return summary


def _plan_and_send(
    config: LoadedConfig,
    pipeline: LoadedPipeline,
    ledger: Ledger,
    source: Source,
    run_id: int,
    today: date,
    now: datetime,
    summary: RunSummary,
    progress: Progress,
    retry_wait: float,
    stop: threading.Event | None = None,
) -> bool:
    """Plan today's messages into the outbox and send what is due (the ledger is current);
    True when ``stop`` cut the sending short."""
    plan = plan_pipeline(
        ledger, pipeline, today, now=now, explain=False, config_dir=config.directory
    )
    summary.not_due = plan.not_planned
    for message in plan.messages:
        if ledger.outbox.add(run_id, message):
            summary.planned += 1
        else:
            summary.already_planned += 1
    take_over_invoices(source, ledger, pipeline.name, today, summary)
    for notice in plan_agency_updates(ledger, pipeline, today):
        if ledger.outbox.add(run_id, notice):
            summary.agency_updates += 1
    dispatcher = Dispatcher(
        pipeline,
        ledger,
        run_id,
        today,
        summary,
        progress,
        config.directory,
        retry_wait,
        now=now,
        source=source,
        stop=stop,
    )
    dispatcher.run()
    return dispatcher.stopped


def dry_run_pipeline(
    config: LoadedConfig,
    pipeline: LoadedPipeline,
    ledger: Ledger,
    today: date,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> tuple[RunSummary, Plan]:
    """Sync the source into the ledger and plan, as a run would, but send nothing, record no
    message, end no pause and write nothing back: what ``dunning run`` would do today."""
    progress = progress or NoProgress()
    now = now or datetime.now(UTC)
    summary = RunSummary(pipeline=pipeline.name, as_of=today)
    run_id, _ = ledger.runs.start(pipeline.name, today)
    status = "failed"
    try:
        source = make_source(config, pipeline, ledger, today)
        sync_source(source, ledger, pipeline.name, run_id, summary, progress)
        plan = plan_pipeline(
            ledger, pipeline, today, now=now, explain=True, config_dir=config.directory
        )
        summary.planned = len(plan.messages)
        summary.not_due = plan.not_planned
        status = "dry-run"
    finally:
        ledger.runs.finish(run_id, status, summary.to_dict())
    return summary, plan
