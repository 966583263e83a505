"""``dunning worker`` and ``dunning defer``: the distributed mode (extra ``distributed``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import click

from dunning.core.commands.common import (
    chosen,
    config_option,
    date_option,
    pipeline_option,
    reports_errors,
    today_or,
)
from dunning.core.config import LoadedConfig, default_config_path, load_config
from dunning.core.errors import ConfigError
from dunning.core.logs import setup_logging
from dunning.core.privacy.secrets import config_secrets

if TYPE_CHECKING:
    import procrastinate


def _app(config_path: Path | None) -> tuple[ModuleType, procrastinate.App, LoadedConfig, Path]:
    """The jobs module, the procrastinate app (schema ensured), the config and its path."""
    try:
        from dunning.core.distributed import jobs
    except ImportError:
        raise ConfigError(
            "distributed mode needs the extra: pip install 'dunning[distributed]'"
        ) from None
    path = config_path or default_config_path()
    config = load_config(path)
    app = jobs.make_app(config.state_url)
    jobs.ensure_schema(app)
    return jobs, app, config, path


@click.command()
@config_option
@click.option("--concurrency", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Pipelines this worker runs at the same time.")  # fmt: skip
@click.option("--once", is_flag=True, help="Stop when the queue is empty.")
@click.option("--heartbeat", type=float, default=10.0, show_default=True,
              help="Seconds between the worker's heartbeats.")  # fmt: skip
@click.option("--stalled-after", type=float, default=30.0, show_default=True,
              help="A worker silent this long is dead: its job is queued again.")  # fmt: skip
@reports_errors
def worker(
    config_path: Path | None, concurrency: int, once: bool, heartbeat: float, stalled_after: float
) -> None:
    """Run the pipeline jobs queued in the ledger's PostgreSQL (distributed mode)."""
    jobs, _, config, _ = _app(config_path)
    setup_logging(config.root.service.log_format, secrets=config_secrets(config))
    jobs.run_worker(
        config.state_url,
        concurrency=concurrency,
        once=once,
        heartbeat=heartbeat,
        stalled_after=stalled_after,
    )


@click.command()
@config_option
@pipeline_option
@date_option
@reports_errors
def defer(config_path: Path | None, pipeline: str | None, as_of: datetime | None) -> None:
    """Queue one run of each pipeline (or --pipeline) for the workers."""
    jobs, app, config, path = _app(config_path)
    names = [p.name for p in chosen(config, pipeline)]
    day = today_or(as_of) if as_of else None
    for item in jobs.defer_runs(app, path, names, day):
        state = f"job {item.job_id}" if item.job_id else "a job was already waiting"
        click.echo(f"{item.pipeline}: {state}")


COMMANDS: list[click.Command] = [worker, defer]
