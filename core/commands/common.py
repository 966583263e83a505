"""What every command shares: options, error reporting, opening the config and the ledger."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import wraps
from pathlib import Path
from typing import IO, Any, TypeVar

import click
from rich.console import Console

from dunning.core.config import LoadedConfig, LoadedPipeline, default_config_path, load_config
from dunning.core.errors import ConfigError, DunningError
from dunning.core.ledger import Ledger
from dunning.core.logs import (
    LogFormat,
    is_logging,
    redacted_output,
    register_secrets,
    setup_logging,
    silence_logging,
)
from dunning.core.privacy.secrets import config_secrets, ledger_secrets
from dunning.core.progress import NoProgress, Progress
from dunning.core.rich_progress import RichProgress

F = TypeVar("F", bound=Callable[..., Any])
out = Console()
err = Console(stderr=True)


def reports_errors(function: F) -> F:
    """Turn DunningErrors into one line per problem on stderr and the error's exit code.

    While the command runs, what it writes to stderr is redacted (registered secrets and
    secret-shaped text become ``[redacted]``), so a provider echoing a key in an error message
    never shows it on a terminal or in cron mail."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with redacted_output():
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


LOG_FILE_ENV = "DUNNING_LOG_FILE"
LOG_FORMAT_ENV = "DUNNING_LOG_FORMAT"
log_file_option = click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=LOG_FILE_ENV,
    default=None,
    help=f"Append structured logs to this file (created owner-only; ${LOG_FILE_ENV}).",
)
log_format_option = click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "text"]),
    envvar=LOG_FORMAT_ENV,
    default=None,
    help="Log format (default: service.log_format); without --log-file, logs go to stderr "
    f"(${LOG_FORMAT_ENV}).",
)


@dataclass(frozen=True)
class LogOptions:
    """Where a command's log records go. Nothing asked: nowhere (the command's own output on
    stdout and stderr says what happened). A file: appended there. Only a format: stderr."""

    log_file: Path | None = None
    log_format: LogFormat | None = None

    @property
    def wanted(self) -> bool:
        return self.log_file is not None or self.log_format is not None


def _log_stream(stack: ExitStack, path: Path) -> IO[str]:
    """The log file opened for appending, created with owner-only permissions."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ConfigError(
            f"--log-file {path}: cannot write it ({exc.strerror}); choose another file"
        ) from None
    return stack.enter_context(open(descriptor, "a", encoding="utf-8"))  # noqa: PTH123


def _start_logging(logs: LogOptions, stream: IO[str] | None, config: LoadedConfig | None) -> None:
    if not logs.wanted:
        silence_logging()
        return
    configured = config.root.service.log_format if config is not None else "auto"
    setup_logging(logs.log_format or configured, stream)


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
def opened(
    config_path: Path | None, logs: LogOptions | None = None
) -> Iterator[tuple[LoadedConfig, Ledger]]:
    """The loaded config and the open ledger; their secrets registered for redaction.

    With ``logs`` (``dunning run``), log records go where :class:`LogOptions` says from before
    the config is read, and an error that ends the command is logged too (one redacted line);
    without, logging is left as it is (``dunning serve`` sets it up itself)."""
    with ExitStack() as stack:
        stream = None
        if logs is not None:
            stream = _log_stream(stack, logs.log_file) if logs.log_file is not None else None
            _start_logging(logs, stream, None)
            stack.callback(silence_logging)
        try:
            config = load_config(default_config_path(config_path))
            register_secrets(config_secrets(config))
            if logs is not None:
                _start_logging(logs, stream, config)
            ledger = Ledger.open(config.state_url)
            stack.callback(ledger.close)
            register_secrets(ledger_secrets(ledger.engine))
            yield config, ledger
        except DunningError as error:
            if is_logging():
                logging.getLogger("dunning.cli").error(" / ".join(str(error).splitlines()))
            raise


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
