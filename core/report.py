"""Rendering results for people (rich tables) and for machines (JSON-ready dicts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from dunning.core.ladder_diff import LadderDiff
from dunning.core.ledger import OutboxMessage
from dunning.core.models import Plan
from dunning.core.summary import RunSummary


def plan_rows(
    plan: Plan, recipients: Mapping[tuple[str, str], str] | None = None
) -> list[dict[str, Any]]:
    """One row per planned message, JSON-ready; ``recipients`` as :func:`plan_recipients`."""
    found = recipients or {}
    return [
        {
            "pipeline": m.pipeline,
            "debtor_id": m.debtor.debtor_id,
            "debtor": m.debtor.name,
            "recipient": found.get((m.debtor.debtor_id, m.channel), m.debtor.email),
            "channel": m.channel,
            "step": m.step,
            "template": m.template,
            "date": m.planned_for.isoformat(),
            "total_open": str(m.total_open),
            "invoices": [
                {
                    "number": i.invoice.number,
                    "amount_open": str(i.invoice.amount_open),
                    "due_date": i.invoice.due_date.isoformat(),
                    "step": i.step,
                    "reason": i.reason,
                }
                for i in m.items
            ],
        }
        for m in plan.messages
    ]


def print_plan(
    console: Console,
    pipeline: str,
    plan: Plan,
    verbose: bool,
    recipients: Mapping[tuple[str, str], str] | None = None,
) -> None:
    found = recipients or {}
    table = Table(title=f"Plan for {pipeline}: {len(plan.messages)} message(s)")
    for column in ("debtor", "to", "channel", "step", "invoices", "open", "why"):
        table.add_column(column, overflow="fold")
    for message in plan.messages:
        table.add_row(
            f"{message.debtor.name} ({message.debtor.debtor_id})",
            found.get((message.debtor.debtor_id, message.channel), message.debtor.email or "-"),
            message.channel,
            message.step,
            "\n".join(i.invoice.number for i in message.items),
            "\n".join(str(i.invoice.amount_open) for i in message.items),
            "\n".join(i.reason for i in message.items),
        )
    console.print(table)
    if verbose and plan.skipped:
        skipped = Table(title="Not planned today")
        for column in ("invoice", "debtor", "why"):
            skipped.add_column(column)
        for item in plan.skipped:
            skipped.add_row(item.invoice_number, item.debtor_id, item.reason)
        console.print(skipped)
    elif plan.not_planned:
        console.print(f"{plan.not_planned} open invoice(s) need nothing today (--verbose: why)")


def print_summary(console: Console, summary: RunSummary) -> None:
    table = Table(title=f"Run of {summary.pipeline} as of {summary.as_of}", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("synced invoices", summary.synced_invoices),
        ("synced debtors", summary.synced_debtors),
        ("rows skipped (bad input)", summary.skipped_rows),
        ("invoices gone from source", summary.closed_invoices),
        ("messages planned", summary.planned),
        ("messages sent", summary.sent),
        ("not sent: bad recipient", summary.bad_recipients),
        ("cancelled (paid before sending)", summary.cancelled),
        ("failed", summary.failed),
        ("will retry next run", summary.retry_later),
        ("uncertain (see dunning status)", summary.uncertain_found),
        ("payments written back", summary.written_back),
        ("write-backs failed", summary.writeback_failed),
        ("open invoices needing nothing today", summary.not_due),
        ("waiting for the send window", summary.waiting),
        ("pauses that ended (see notes)", summary.pauses_ended),
    ]
    rows += [
        (label, count)
        for label, count in (
            ("handed over to an agency", summary.handed_over),
            ("notices to the agency planned", summary.agency_updates),
            ("call tasks cancelled (paid or handed over)", summary.calls_cancelled),
            ("call tasks created in the source", summary.tasks_mirrored),
        )
        if count
    ]
    for label, count in rows:
        table.add_row(label, str(count))
    for step, count in sorted(summary.sent_per_step.items()):
        table.add_row(f"  sent: {step}", str(count))
    for step, count in sorted(summary.failed_per_step.items()):
        table.add_row(f"  not sent: {step}", str(count))
    console.print(table)


def print_problems(problems: list[str], notes: list[str] = ()) -> None:  # type: ignore[assignment]
    """Warnings (and notes) on stderr, one line each (never wrapped), for people and logs."""
    for note in notes:
        click.echo(f"note: {note}", err=True)
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)


def outbox_rows(messages: list[OutboxMessage]) -> list[dict[str, Any]]:
    return [
        {
            "id": m.id,
            "pipeline": m.pipeline,
            "idempotency_key": m.idempotency_key,
            "debtor_id": m.debtor_id,
            "channel": m.channel,
            "step": m.step,
            "planned_for": m.planned_for.isoformat(),
            "invoices": [i.invoice_number for i in m.items],
            "reason": m.reason,
        }
        for m in messages
    ]


def print_status(console: Console, data: dict[str, Any]) -> None:
    counts = Table(title="Messages by state", show_header=False)
    counts.add_column("state")
    counts.add_column("count", justify="right")
    for state, count in data["messages"].items():
        counts.add_row(state, str(count))
    console.print(counts)
    if data["uncertain"]:
        table = Table(title="Uncertain: sent or not? Check, then resolve by hand")
        for column in ("key", "invoices", "reason"):
            table.add_column(column, overflow="fold")
        for row in data["uncertain"]:
            table.add_row(row["idempotency_key"], ", ".join(row["invoices"]), row["reason"] or "")
        console.print(table)
    calls = data.get("calls")
    if calls:
        console.print(
            f"calls: {calls['open']} open, {calls['due']} due by today, {calls['flagged']} "
            "flagged (see dunning calls)"
        )
    if data.get("handed_over"):
        console.print(f"handed over to an agency: {data['handed_over']} dossier(s)")
    runs = Table(title="Last runs")
    for column in ("id", "pipeline", "as of", "status", "started"):
        runs.add_column(column)
    for run in data["runs"]:
        runs.add_row(
            str(run["id"]), run["pipeline"], run["as_of"], run["status"], run["started_at"]
        )
    console.print(runs)


def diff_data(pipeline: str, diff: LadderDiff) -> dict[str, Any]:
    return {
        "pipeline": pipeline,
        "changed": diff.changed,
        "removed_steps": list(diff.removed),
        "added_steps": list(diff.added),
        "open_cases": diff.open_cases,
        "cases": [
            {
                "invoice": c.invoice,
                "debtor_id": c.debtor_id,
                "last_step": c.last_step,
                "before": c.before,
                "after": c.after,
            }
            for c in diff.cases
        ],
    }


def print_diff(console: Console, pipeline: str, diff: LadderDiff) -> None:
    if not diff.changed:
        console.print(
            f"{pipeline}: the ladder in pipelines.yaml is the one the last run used; "
            "nothing changes for open cases"
        )
        return
    console.print(
        f"{pipeline}: ladder changed since the last run; removed steps: "
        f"{', '.join(diff.removed) or 'none'}; new steps: {', '.join(diff.added) or 'none'}"
    )
    table = Table(title=f"{len(diff.cases)} of {diff.open_cases} open case(s) change")
    for column in (
        "invoice",
        "debtor",
        "last step",
        "next under the last run's ladder",
        "next now",
    ):
        table.add_column(column, overflow="fold")
    for c in diff.cases:
        table.add_row(c.invoice, c.debtor_id, c.last_step or "-", c.before, c.after)
    console.print(table)
