"""The ``dunning`` command line. Exit codes: 0 done, 1 some messages failed or are uncertain,
2 configuration or usage error, 3 the run could not proceed (source, ledger, another run)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from dunning.core import report
from dunning.core.config import LoadedConfig, LoadedPipeline, default_config_path, load_config
from dunning.core.dispatch import make_channel
from dunning.core.errors import EXIT_OK, EXIT_PARTIAL, DunningError
from dunning.core.ledger import Ledger
from dunning.core.models import MessageState
from dunning.core.payments import mark_paid
from dunning.core.planning import plan_pipeline
from dunning.core.plugins import load_registry
from dunning.core.progress import NoProgress, Progress
from dunning.core.rich_progress import RichProgress
from dunning.core.runner import run_pipeline

F = TypeVar("F", bound=Callable[..., Any])
out = Console()
err = Console(stderr=True)


def reports_errors(function: F) -> F:
    """Turn DunningErrors into one line per problem on stderr and the error's exit code."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except DunningError as error:
            for line in str(error).splitlines():
                click.echo(f"error: {line}", err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="pipelines.yaml to use (default: $DUNNING_CONFIG, else ./pipelines.yaml).",
)
pipeline_option = click.option("--pipeline", default=None, help="Only this pipeline.")
date_option = click.option(
    "--date",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Act as if today were YYYY-MM-DD.",
)


@contextmanager
def opened(config_path: Path | None) -> Iterator[tuple[LoadedConfig, Ledger]]:
    config = load_config(default_config_path(config_path))
    ledger = Ledger.open(config.state_url)
    try:
        yield config, ledger
    finally:
        ledger.close()


def chosen(config: LoadedConfig, name: str | None) -> list[LoadedPipeline]:
    return [config.pipeline(name)] if name else list(config.pipelines.values())


def today_or(as_of: datetime | None) -> date:
    return as_of.date() if as_of else date.today()


def progress_for(quiet: bool) -> Progress:
    return RichProgress(err) if err.is_terminal and not quiet else NoProgress()


@click.group()
@click.version_option(package_name="dunning")
def main() -> None:
    """dunning: collect late invoices with a polite, predictable escalation ladder."""


@main.command()
@config_option
@pipeline_option
@date_option
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as JSON.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too (bad rows, bad addresses).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@reports_errors
def run(
    config_path: Path | None,
    pipeline: str | None,
    as_of: datetime | None,
    as_json: bool,
    strict: bool,
    quiet: bool,
) -> None:
    """Sync, plan, send and write back, for every pipeline (or --pipeline)."""
    today = today_or(as_of)
    exit_code = EXIT_OK
    summaries = []
    with opened(config_path) as (config, ledger):
        for loaded in chosen(config, pipeline):
            summary = run_pipeline(config, loaded, ledger, today, progress_for(quiet or as_json))
            summaries.append(summary.to_dict())
            exit_code = max(exit_code, summary.exit_code)
            if strict and summary.has_warnings:
                exit_code = max(exit_code, EXIT_PARTIAL)
            report.print_problems(summary.problems)
            if not as_json:
                report.print_summary(out, summary)
    if as_json:
        click.echo(json.dumps(summaries, indent=2))
    sys.exit(exit_code)


@main.command()
@config_option
@pipeline_option
@date_option
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--verbose", is_flag=True, help="Also list invoices that need nothing, and why.")
@reports_errors
def plan(
    config_path: Path | None,
    pipeline: str | None,
    as_of: datetime | None,
    as_json: bool,
    verbose: bool,
) -> None:
    """Show what a run would send today, to whom and why, without sending or recording it.

    The plan is made from the ledger as last synced (run `dunning run` to refresh it)."""
    today = today_or(as_of)
    rows: list[dict[str, Any]] = []
    with opened(config_path) as (config, ledger):
        for loaded in chosen(config, pipeline):
            result = plan_pipeline(ledger, loaded, today)
            if as_json:
                rows.extend(report.plan_rows(result))
            else:
                report.print_plan(out, loaded.name, result, verbose)
    if as_json:
        click.echo(json.dumps(rows, indent=2))


@main.command()
@config_option
@reports_errors
def check(config_path: Path | None) -> None:
    """Validate pipelines.yaml, .env and every plugin section; exit 0 when all is well, else 2."""
    path = default_config_path(config_path)
    config = load_config(path)
    for loaded in config.pipelines.values():
        for name in loaded.channels:
            templates = sorted({s.template for s in loaded.steps if s.channel == name})
            make_channel(loaded, name, config.directory).check(templates)
    names = ", ".join(config.pipelines)
    click.echo(f"{path}: ok ({len(config.pipelines)} pipeline(s): {names})")


@main.command()
@config_option
@pipeline_option
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@reports_errors
def status(config_path: Path | None, pipeline: str | None, as_json: bool) -> None:
    """Counts of messages by state, the uncertain ones listed, and the last runs."""
    with opened(config_path) as (config, ledger):
        if pipeline:
            config.pipeline(pipeline)
        counts = ledger.outbox.state_counts(pipeline)
        uncertain = report.outbox_rows(ledger.outbox.in_state(MessageState.UNCERTAIN, pipeline))
        runs = ledger.runs.recent(pipeline, limit=5)
    data = {
        "messages": {state.value: counts.get(state.value, 0) for state in MessageState},
        "uncertain": uncertain,
        "runs": [
            {
                "id": r.id,
                "pipeline": r.pipeline,
                "as_of": r.as_of.isoformat(),
                "status": r.status,
                "started_at": r.started_at.isoformat(),
            }
            for r in runs
        ],
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    report.print_status(out, data)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@config_option
@reports_errors
def plugins(as_json: bool, config_path: Path | None) -> None:
    """Installed source and channel kinds, and the plugin that provides each."""
    registry = load_registry()
    data = {
        "sources": {k: registry.provided_by[("source", k)] for k in sorted(registry.sources)},
        "channels": {k: registry.provided_by[("channel", k)] for k in sorted(registry.channels)},
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for role, kinds in data.items():
        click.echo(f"{role}:")
        for kind, plugin in kinds.items():
            click.echo(f"  {kind}  (plugin {plugin})")


def parse_amount(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value.replace(",", "."))
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not an amount; write it like 125.50") from None


@main.command(name="mark-paid")
@click.argument("invoice")
@click.option("--amount", callback=parse_amount, help="Amount received (default: all open).")
@date_option
@config_option
@pipeline_option
@reports_errors
def mark_paid_command(
    invoice: str,
    amount: Decimal | None,
    as_of: datetime | None,
    config_path: Path | None,
    pipeline: str | None,
) -> None:
    """Record a payment you learned about: stops the ladder and writes it back to the source.

    --date is the day it was paid (default today)."""
    with opened(config_path) as (config, ledger):
        result = mark_paid(config, ledger, invoice, amount, today_or(as_of), pipeline)
    state = "paid in full" if result.open_after <= 0 else f"{result.open_after} still open"
    click.echo(f"invoice {invoice}: recorded {result.amount} ({state})")
    if result.written_back:
        click.echo(
            f"written back to the {config.pipelines[result.pipeline].source_cls.kind} source"
        )
    elif result.writeback_error:
        click.echo(f"warning: {result.writeback_error}; the next run retries it", err=True)
        sys.exit(EXIT_PARTIAL)


if __name__ == "__main__":  # pragma: no cover
    main()
