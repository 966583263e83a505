"""What every command shares: options, error reporting, opening the config and the ledger."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from dunning.core.config import LoadedConfig, LoadedPipeline, default_config_path, load_config
from dunning.core.errors import DunningError
from dunning.core.ledger import Ledger
from dunning.core.progress import NoProgress, Progress
from dunning.core.rich_progress import RichProgress

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


def amount_from(text: str) -> Decimal | None:
    """``125.50`` or ``125,50`` as a Decimal; ``None`` when it is not a finite number."""
    try:
        amount = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def parse_amount(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Decimal | None:
    if value is None:
        return None
    amount = amount_from(value)
    if amount is None:
        raise click.BadParameter(f"{value!r} is not an amount; write it like 125.50")
    return amount


now_option = click.option(
    "--now",
    "now_text",
    default=None,
    help="The moment checked against send windows, ISO with offset "
    "(2026-03-16T09:30+01:00); sets the day too. Default: the clock, or noon of --date.",
)


def now_for(now_text: str | None, as_of: datetime | None) -> datetime:
    """``--now`` as an aware datetime; with only ``--date``, noon of that day (local time), so
    a replayed day is inside any sensible send window; else the clock."""
    if now_text:
        try:
            moment = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter(
                f"{now_text!r} is not a moment; write it like 2026-03-16T09:30+01:00",
                param_hint="--now",
            ) from None
        if moment.tzinfo is None:
            raise click.BadParameter(
                "give a UTC offset, like 2026-03-16T09:30+01:00", param_hint="--now"
            )
        return moment
    if as_of is not None:
        return datetime.combine(as_of.date(), time(12)).astimezone()
    return datetime.now().astimezone()
