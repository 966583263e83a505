"""``dunning pause | promise | arrangement | dispute | lift | resolve | pauses``.

Each records who, when and why in the ledger and, unless ``--no-confirm``, confirms it to the
debtor in writing (email, in the debtor's language)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import click

from dunning.core.agreements import (
    Outcome,
    current_user,
    end_pause,
    find_target,
    new_pause,
    record_pause,
)
from dunning.core.commands.common import (
    config_option,
    date_option,
    opened,
    pipeline_option,
    reports_errors,
    today_or,
)
from dunning.core.config import LoadedConfig, LoadedPipeline
from dunning.core.errors import EXIT_PARTIAL, UsageError
from dunning.core.ledger import Ledger
from dunning.core.models import Instalment, Pause, PauseKind, PauseStatus

invoice_argument = click.argument("invoice", required=False)
debtor_option = click.option("--debtor", default=None, help="A debtor id instead of an invoice.")
by_option = click.option("--by", default=None, help="Who agreed or decided it (default: you).")
confirm_option = click.option(
    "--no-confirm", is_flag=True, help="Record it without writing to the debtor."
)
F = TypeVar("F", bound=Callable[..., Any])
day_type = click.DateTime(formats=["%Y-%m-%d"])


def recorded_command_options(function: F) -> F:
    """The options every command that records a pause takes: --by, --no-confirm, --date,
    --config and --pipeline, and one-line error reporting."""
    for decorate in (
        reports_errors,
        pipeline_option,
        config_option,
        date_option,
        confirm_option,
        by_option,
    ):
        function = decorate(function)
    return function


def _report(outcome: Outcome, verb: str) -> None:
    pause = outcome.pause
    covered = ", ".join(pause.invoice_numbers) or "every invoice"
    click.echo(f"{verb} #{pause.id}: {pause.kind.value} for debtor {pause.debtor_id} ({covered})")
    click.echo(outcome.confirmation, err=outcome.failed)
    if outcome.uncertain_found:
        click.echo(
            f"warning: {outcome.uncertain_found} message(s) were being sent when an earlier run "
            "stopped; they are marked uncertain and will not be re-sent (see dunning status)",
            err=True,
        )
    if outcome.failed or outcome.uncertain_found:
        sys.exit(EXIT_PARTIAL)


def _set(
    config_path: Path | None,
    pipeline: str | None,
    invoice: str | None,
    debtor: str | None,
    as_of: datetime | None,
    kind: PauseKind,
    reason: str,
    by: str | None,
    no_confirm: bool,
    until: date | None = None,
    grace: int | None = None,
    instalments: tuple[Instalment, ...] = (),
) -> None:
    today = today_or(as_of)
    with opened(config_path) as (config, ledger):
        target = find_target(config, ledger, invoice, debtor, pipeline)
        settings = target.pipeline.config.pauses
        if grace is None:
            grace = {
                PauseKind.PROMISE: settings.promise_grace_days,
                PauseKind.ARRANGEMENT: settings.arrangement_grace_days,
            }.get(kind, 0)
        pause = new_pause(
            target, kind, today, reason, by or current_user(), until, grace, instalments
        )
        outcome = record_pause(config, ledger, target, pause, today, not no_confirm)
    _report(outcome, "recorded")


@click.command()
@invoice_argument
@debtor_option
@click.option("--reason", required=True, help="Why (kept in the ledger).")
@click.option("--until", type=day_type, default=None, help="Last paused day (default: open).")
@recorded_command_options
def pause(
    invoice: str | None,
    debtor: str | None,
    reason: str,
    until: datetime | None,
    by: str | None,
    no_confirm: bool,
    as_of: datetime | None,
    config_path: Path | None,
    pipeline: str | None,
) -> None:
    """Pause the ladder for an invoice or a whole debtor (--debtor), with a reason."""
    _set(
        config_path, pipeline, invoice, debtor, as_of, PauseKind.MANUAL, reason, by,
        no_confirm, until.date() if until else None,
    )  # fmt: skip


@click.command()
@invoice_argument
@debtor_option
@click.option("--until", type=day_type, required=True, help="The day the debtor will pay by.")
@click.option("--grace", type=click.IntRange(min=0), default=None, help="Extra days to wait.")
@click.option("--note", default="promise to pay", help="What was said (kept in the ledger).")
@recorded_command_options
def promise(
    invoice: str | None,
    debtor: str | None,
    until: datetime,
    grace: int | None,
    note: str,
    by: str | None,
    no_confirm: bool,
    as_of: datetime | None,
    config_path: Path | None,
    pipeline: str | None,
) -> None:
    """Record a promise to pay: the ladder waits until the day plus grace days."""
    _set(
        config_path, pipeline, invoice, debtor, as_of, PauseKind.PROMISE, note, by,
        no_confirm, until.date(), grace,
    )  # fmt: skip


def parse_instalment(text: str) -> Instalment:
    """``YYYY-MM-DD=AMOUNT``; a :class:`UsageError` (one ``error:`` line, exit 2) if not."""
    day_text, _, amount_text = text.partition("=")
    try:
        day = date.fromisoformat(day_text.strip())
        amount = Decimal(amount_text.strip().replace(",", "."))
    except (ValueError, InvalidOperation):
        raise UsageError(
            f"--instalment {text!r}: write an instalment as YYYY-MM-DD=AMOUNT, "
            "like 2026-12-01=150.00"
        ) from None
    return Instalment(day, amount)


@click.command()
@invoice_argument
@debtor_option
@click.option(
    "--instalment",
    "instalment_texts",
    multiple=True,
    required=True,
    help="YYYY-MM-DD=AMOUNT; repeat for every instalment. They must add up to what is open.",
)
@click.option(
    "--grace", type=click.IntRange(min=0), default=None, help="Days an instalment may be late."
)
@click.option("--note", default="payment arrangement", help="Kept in the ledger.")
@recorded_command_options
def arrangement(
    invoice: str | None,
    debtor: str | None,
    instalment_texts: tuple[str, ...],
    grace: int | None,
    note: str,
    by: str | None,
    no_confirm: bool,
    as_of: datetime | None,
    config_path: Path | None,
    pipeline: str | None,
) -> None:
    """Record a payment arrangement: paused while instalments arrive on time."""
    instalments = tuple(parse_instalment(t) for t in instalment_texts)
    _set(
        config_path, pipeline, invoice, debtor, as_of, PauseKind.ARRANGEMENT, note, by,
        no_confirm, None, grace, instalments,
    )  # fmt: skip


@click.command()
@invoice_argument
@debtor_option
@click.option("--reason", required=True, help="What the debtor disputes.")
@recorded_command_options
def dispute(
    invoice: str | None,
    debtor: str | None,
    reason: str,
    by: str | None,
    no_confirm: bool,
    as_of: datetime | None,
    config_path: Path | None,
    pipeline: str | None,
) -> None:
    """Record a dispute: no automatic escalation until a person resolves it."""
    _set(config_path, pipeline, invoice, debtor, as_of, PauseKind.DISPUTE, reason, by, no_confirm)


def _find_pause(
    config: LoadedConfig, ledger: Ledger, pause_id: int, pipeline: str | None
) -> LoadedPipeline:
    names = [pipeline] if pipeline else list(config.pipelines)
    for name in names:
        if ledger.pauses.get(name, pause_id) is not None:
            return config.pipeline(name)
    raise UsageError(f"no pause #{pause_id}; `dunning pauses` lists them")


def _end(
    pause_id: int,
    status: PauseStatus,
    reason: str,
    by: str | None,
    no_confirm: bool,
    as_of: datetime | None,
    config_path: Path | None,
    pipeline: str | None,
) -> None:
    today = today_or(as_of)
    with opened(config_path) as (config, ledger):
        loaded = _find_pause(config, ledger, pause_id, pipeline)
        outcome = end_pause(
            config, ledger, loaded, pause_id, status, reason, by or current_user(), today,
            not no_confirm,
        )  # fmt: skip
    _report(outcome, status.value)


@click.command()
@click.argument("pause_id", type=int)
@click.option("--reason", default="lifted by hand", help="Why (kept in the ledger).")
@recorded_command_options
def lift(
    pause_id: int,
    reason: str,
    by: str | None,
    no_confirm: bool,
    as_of: datetime | None,
    config_path: Path | None,
    pipeline: str | None,
) -> None:
    """End a pause, promise or arrangement by hand: the ladder resumes where it was."""
    _end(pause_id, PauseStatus.LIFTED, reason, by, no_confirm, as_of, config_path, pipeline)


@click.command()
@click.argument("pause_id", type=int)
@click.option("--reason", required=True, help="How the dispute was resolved.")
@recorded_command_options
def resolve(
    pause_id: int,
    reason: str,
    by: str | None,
    no_confirm: bool,
    as_of: datetime | None,
    config_path: Path | None,
    pipeline: str | None,
) -> None:
    """Resolve a dispute: the ladder resumes for what is still open."""
    _end(pause_id, PauseStatus.RESOLVED, reason, by, no_confirm, as_of, config_path, pipeline)


def pause_row(pipeline: str, p: Pause) -> dict[str, object]:
    return {
        "id": p.id,
        "pipeline": pipeline,
        "debtor_id": p.debtor_id,
        "kind": p.kind.value,
        "status": p.status.value,
        "invoices": list(p.invoice_numbers) or "all",
        "since": p.starts_on.isoformat(),
        "until": p.until.isoformat() if p.until else None,
        "grace_days": p.grace_days,
        "instalments": [
            {"due_on": i.due_on.isoformat(), "amount": str(i.amount)} for i in p.instalments
        ],
        "reason": p.reason,
        "by": p.created_by,
        "ended_on": p.ended_on.isoformat() if p.ended_on else None,
    }


@click.command(name="pauses")
@click.option("--all", "show_all", is_flag=True, help="Also ended pauses.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@config_option
@pipeline_option
@reports_errors
def list_pauses(
    show_all: bool, as_json: bool, config_path: Path | None, pipeline: str | None
) -> None:
    """Pauses, promises, arrangements and disputes (active ones unless --all)."""
    shown: list[Pause] = []
    rows: list[dict[str, object]] = []
    with opened(config_path) as (config, ledger):
        for name in [pipeline] if pipeline else list(config.pipelines):
            config.pipeline(name)
            found = ledger.pauses.all(name) if show_all else ledger.pauses.active(name)
            shown.extend(found)
            rows.extend(pause_row(name, p) for p in found)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no pauses")
    for p in shown:
        covered = ", ".join(p.invoice_numbers) or "all"
        until = f" until {p.until}" if p.until else ""
        click.echo(
            f"#{p.id} {p.kind.value} {p.status.value} debtor {p.debtor_id} "
            f"invoices {covered}{until}: {p.reason} (by {p.created_by})"
        )


COMMANDS = (pause, promise, arrangement, dispute, lift, resolve, list_pauses)
