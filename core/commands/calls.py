"""``dunning calls``, ``dunning call show TASK`` and ``dunning call done TASK --outcome ...``."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from dunning.core.agreements import current_user
from dunning.core.calls.model import OUTCOME_HELP, CallOutcome, CallTask
from dunning.core.calls.outcomes import OutcomeInput, OutcomeResult, find_task, record_outcome
from dunning.core.calls.queue import QueueEntry, call_queue
from dunning.core.calls.sheet import CallSheet, call_sheet, history
from dunning.core.commands.common import (
    chosen,
    config_option,
    date_option,
    opened,
    out,
    parse_amount,
    pipeline_option,
    reports_errors,
    today_or,
)
from dunning.core.commands.pauses import parse_instalment
from dunning.core.errors import EXIT_PARTIAL
from dunning.core.phones import display_phone

day_type = click.DateTime(formats=["%Y-%m-%d"])


def task_json(task: CallTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "pipeline": task.pipeline,
        "debtor_id": task.debtor_id,
        "step": task.step,
        "reason": task.reason,
        "invoices": list(task.invoice_numbers),
        "due_on": task.due_on.isoformat(),
        "due_time": task.due_time,
        "hours": task.hours,
        "assigned_to": task.assigned_to,
        "contact": {
            "role": task.contact_role,
            "name": task.contact_name,
            "phone": task.contact_phone,
        },
        "attempt": task.attempt,
        "status": task.status.value,
        "flag": task.flag,
        "talking_points": list(task.talking_points),
        "outcome": task.outcome.value if task.outcome else None,
        "spoken_to": task.spoken_to,
        "details": task.details,
        "note": task.note,
        "effect": task.effect,
        "done_by": task.done_by,
        "done_at": task.done_at.isoformat() if task.done_at else None,
    }


def entry_json(entry: QueueEntry, today: date) -> dict[str, Any]:
    return task_json(entry.task) | {
        "debtor_name": entry.debtor.name if entry.debtor else None,
        "open_total": f"{entry.open_total:.2f}",
        "days_overdue": entry.days_overdue(today),
    }


@click.command()
@config_option
@pipeline_option
@date_option
@click.option("--for", "assigned_to", default=None, help="Only the calls of this controller.")
@click.option("--upcoming", is_flag=True, help="Also the calls due after today.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@reports_errors
def calls(
    config_path: Path | None,
    pipeline: str | None,
    as_of: datetime | None,
    assigned_to: str | None,
    upcoming: bool,
    as_json: bool,
) -> None:
    """Today's call list: flagged calls first, then the most money and most overdue."""
    today = today_or(as_of)
    rows: list[tuple[str, QueueEntry]] = []
    with opened(config_path) as (config, ledger):
        for loaded in chosen(config, pipeline):
            found = call_queue(
                ledger, loaded.name, today, assigned_to=assigned_to, upcoming=upcoming
            )
            rows += [(loaded.name, entry) for entry in found]
    if as_json:
        click.echo(json.dumps([entry_json(e, today) for _, e in rows], indent=2))
        return
    if not rows:
        out.print(f"no calls due on {today}")
        return
    table = Table(title=f"calls due by {today}")
    for column in ("task", "due", "debtor", "call", "open", "overdue", "why", "for", "flag"):
        table.add_column(column, justify="right" if column in ("open", "overdue") else "left")
    for _, entry in rows:
        task = entry.task
        who = task.contact_name or task.contact_role
        phone = display_phone(task.contact_phone) if task.contact_phone else "no number"
        table.add_row(
            f"#{task.id}",
            f"{task.due_on}{' ' + task.due_time if task.due_time else ''}",
            f"{entry.debtor.name if entry.debtor else task.debtor_id} ({task.debtor_id})",
            f"{who}, {phone}",
            f"{entry.open_total:.2f}",
            f"{entry.days_overdue(today)} d",
            task.reason,
            task.assigned_to or "",
            task.flag or "",
        )
    out.print(table)
    out.print("details: dunning call show TASK; record what came of it: dunning call done TASK")


@click.group()
def call() -> None:
    """One call task: show it, or record what came of it."""


def _print_sheet(sheet: CallSheet) -> None:
    task, debtor = sheet.task, sheet.debtor
    echo = click.echo
    echo(f"call task #{task.id} ({task.status.value}) - {task.reason}")
    when = f"{task.due_on}{' at ' + task.due_time if task.due_time else ''}"
    echo(f"due: {when}, office hours {task.hours or '-'}; for {task.assigned_to or 'anyone'}")
    if task.flag:
        echo(f"FLAG: {task.flag}")
    echo("")
    echo(f"debtor: {debtor.name} ({debtor.debtor_id}), {debtor.kind.value}, {debtor.language}")
    phone = display_phone(task.contact_phone) if task.contact_phone else "no number"
    echo(f"call: {task.contact_name or '?'} ({task.contact_role}), {phone}")
    if debtor.email:
        echo(f"email: {debtor.email}")
    for person in debtor.contacts:
        extra = ", ".join(x for x in (person.phone, person.email) if x)
        echo(f"also: {person.name} ({person.role}){', ' + extra if extra else ''}")
    f = sheet.figures
    echo(
        f"payment behaviour: {f.segment}; {f.paid_invoices} invoices paid, on average "
        f"{f.avg_days_late} days late, {f.on_time_share:.0%} on time, "
        f"{f.broken_promises} broken promise(s)"
    )
    echo("")
    echo(f"open invoices ({sheet.open_total:.2f} in all, up to {sheet.days_overdue} days overdue):")
    for invoice in sheet.invoices:
        mark = "*" if invoice.number in task.invoice_numbers else " "
        echo(
            f" {mark} {invoice.number}  due {invoice.due_date}  "
            f"{invoice.amount_open:>10.2f} of {invoice.amount_total:.2f} {invoice.currency}  "
            f"({invoice.days_overdue(sheet.today)} d)"
        )
    echo("")
    echo("talking points:")
    for point in task.talking_points:
        echo(f" - {point}")
    echo("")
    echo("history:")
    events = history(sheet)
    for event in events:
        echo(f"  {event.day}  {event.text}")
    if not events:
        echo("  (nothing yet)")
    if task.outcome:
        echo("")
        echo(f"outcome: {task.outcome.value} (spoke to {task.spoken_to or '-'}) by {task.done_by}")
        echo(f"effect: {task.effect or '-'}")


@call.command("show")
@click.argument("task_id", type=int)
@config_option
@date_option
@click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
@reports_errors
def show(task_id: int, config_path: Path | None, as_of: datetime | None, as_json: bool) -> None:
    """Everything needed for the call: contacts, open invoices, history, talking points."""
    today = today_or(as_of)
    with opened(config_path) as (config, ledger):
        task, pipeline = find_task(config, ledger, task_id)
        sheet = call_sheet(ledger, pipeline, task, today)
    if as_json:
        data = task_json(task) | {
            "debtor": {"id": sheet.debtor.debtor_id, "name": sheet.debtor.name},
            "open_total": f"{sheet.open_total:.2f}",
            "open_invoices": [
                {
                    "number": i.number,
                    "due_date": i.due_date.isoformat(),
                    "open": f"{i.amount_open:.2f}",
                }
                for i in sheet.invoices
            ],
            "earlier_calls": [task_json(t) for t in sheet.calls],
            "pauses": [
                {
                    "id": p.id,
                    "kind": p.kind.value,
                    "status": p.status.value,
                    "until": p.until.isoformat() if p.until else None,
                }
                for p in sheet.pauses
            ],
            "figures": {
                "segment": sheet.figures.segment,
                "avg_days_late": str(sheet.figures.avg_days_late),
                "on_time_share": str(sheet.figures.on_time_share),
                "broken_promises": sheet.figures.broken_promises,
            },
        }
        click.echo(json.dumps(data, indent=2))
        return
    _print_sheet(sheet)


def print_result(result: OutcomeResult) -> None:
    task = result.task
    click.echo(f"call task #{task.id}: {task.outcome.value if task.outcome else '?'} recorded")
    for effect in result.effects:
        click.echo(f"  {effect}")


@call.command("done")
@click.argument("task_id", type=int)
@click.option(
    "--outcome",
    required=True,
    type=click.Choice([o.value for o in CallOutcome]),
    help="; ".join(f"{o.value}: {text}" for o, text in OUTCOME_HELP.items()),
)
@click.option("--spoken-to", default=None, help="The name of the person you spoke to.")
@click.option("--note", default=None, help="What was said (kept in the ledger and dossier).")
@click.option("--on", "on_day", type=day_type, default=None,
              help="promise: pay-by day; in-approval: follow-up day; contact-absent: back-on "
                   "day; callback: the day; in-post: the day it was sent.")  # fmt: skip
@click.option("--at", "at_time", default=None, help="callback: the time we call (HH:MM).")
@click.option("--amount", callback=parse_amount, default=None,
              help="paid: the amount (default: all open); in-post: the amount sent.")  # fmt: skip
@click.option("--paid-on", type=day_type, default=None, help="paid: the day (default today).")
@click.option("--reference", default=None, help="in-post or paid: the payment's reference.")
@click.option("--instalment", "instalment_texts", multiple=True,
              help="arrangement: YYYY-MM-DD=AMOUNT, repeated.")  # fmt: skip
@click.option("--grace", type=click.IntRange(min=0), default=None,
              help="promise or arrangement: days of grace (default from pauses:).")  # fmt: skip
@click.option("--no-confirm", is_flag=True, help="Do not confirm the agreement in writing.")
@click.option("--by", default=None, help="Who made the call (default: you).")
@config_option
@date_option
@reports_errors
def done(
    task_id: int,
    outcome: str,
    spoken_to: str | None,
    note: str | None,
    on_day: datetime | None,
    at_time: str | None,
    amount: Decimal | None,
    paid_on: datetime | None,
    reference: str | None,
    instalment_texts: tuple[str, ...],
    grace: int | None,
    no_confirm: bool,
    by: str | None,
    config_path: Path | None,
    as_of: datetime | None,
) -> None:
    """Record what came of a call; the ladder follows (pause, follow-up call, payment)."""
    given = OutcomeInput(
        outcome=CallOutcome(outcome),
        by=by or current_user(),
        spoken_to=spoken_to,
        note=note,
        on=on_day.date() if on_day else None,
        at=at_time,
        amount=amount,
        paid_on=paid_on.date() if paid_on else None,
        reference=reference,
        instalments=tuple(parse_instalment(text) for text in instalment_texts),
        grace=grace,
        confirm=not no_confirm,
    )
    with opened(config_path) as (config, ledger):
        result = record_outcome(config, ledger, task_id, given, today_or(as_of))
    print_result(result)
    if result.failed:
        sys.exit(EXIT_PARTIAL)


COMMANDS = (calls, call)
