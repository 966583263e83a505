"""``dunning serve``: the long-running service (``dunning run`` stays the one-shot command).

Exit codes: 0 stopped cleanly, 2 configuration or usage error at start, 3 runs were still going
after ``--grace`` seconds or a second stop signal came.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from dunning.core.commands.common import config_option, reports_errors
from dunning.core.config import default_config_path, load_config
from dunning.core.logs import setup_logging
from dunning.core.privacy.secrets import config_secrets
from dunning.core.service import EXIT_GRACE_EXCEEDED, Service, ServiceOptions
from dunning.core.service.signals import install_signal_handlers


@click.command()
@config_option
@click.option(
    "--run-now", is_flag=True, help="Run every scheduled pipeline once at start, then follow."
)
@click.option(
    "--tick",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="Seconds between two passes of the scheduler (signals are handled at once).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Pipelines that may run at the same time (one run per pipeline, always).",
)
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Seconds to wait on SIGTERM/SIGINT for running runs to end before exiting with 3.",
)
@click.option(
    "--distributed",
    is_flag=True,
    help="Only schedule: queue each due run for `dunning worker` processes (PostgreSQL).",
)
@reports_errors
def serve(
    config_path: Path | None,
    run_now: bool,
    tick: float,
    workers: int,
    grace: float,
    distributed: bool,
) -> None:
    """Keep running: each pipeline on its schedule; TERM/INT stop, HUP reloads pipelines.yaml."""
    config = load_config(default_config_path(config_path))
    setup_logging(config.root.service.log_format, secrets=config_secrets(config))
    if distributed:
        from dunning.core.distributed import jobs

        jobs.ensure_schema(jobs.make_app(config.state_url))
    options = ServiceOptions(
        workers=workers, tick=tick, grace=grace, run_now=run_now, distributed=distributed
    )
    service = Service(config, options)
    install_signal_handlers(service, EXIT_GRACE_EXCEEDED)
    exit_code = service.serve()
    logging.shutdown()
    sys.stderr.flush()
    if exit_code:
        os._exit(exit_code)  # a run thread still going must not hold the process open


COMMANDS: list[click.Command] = [serve]
