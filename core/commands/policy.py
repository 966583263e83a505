"""``dunning debtors`` (payment behaviour and segment) and ``dunning simulate``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from dunning.core.commands.common import (
    chosen,
    config_option,
    date_option,
    opened,
    out,
    pipeline_option,
    reports_errors,
    today_or,
)
from dunning.core.config.schema import SEGMENT_NAMES
from dunning.core.planning import figures
from dunning.core.simulate import simulate


@click.command()
@click.option("--segment", type=click.Choice(SEGMENT_NAMES), default=None, help="Only these.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@config_option
@pipeline_option
@reports_errors
def debtors(
    segment: str | None, as_json: bool, config_path: Path | None, pipeline: str | None
) -> None:
    """Debtors with their payment figures and segment (from the ledger's history)."""
    rows: list[dict[str, Any]] = []
    with opened(config_path) as (config, ledger):
        for loaded in chosen(config, pipeline):
            known = ledger.invoices.debtors(loaded.name)
            overrides = {k: o.segment for k, o in loaded.config.debtors.items() if o.segment}
            open_count: dict[str, int] = {}
            for invoice in ledger.invoices.dunnable(loaded.name):
                open_count[invoice.debtor_id] = open_count.get(invoice.debtor_id, 0) + 1
            active = {p.debtor_id for p in ledger.pauses.active(loaded.name)}
            for debtor_id, f in figures(ledger, loaded).items():
                chosen_segment = overrides.get(debtor_id, f.segment)
                if segment and chosen_segment != segment:
                    continue
                debtor = known.get(debtor_id)
                rows.append(
                    {
                        "pipeline": loaded.name,
                        "debtor_id": debtor_id,
                        "name": debtor.name if debtor else "",
                        "paid_invoices": f.paid_invoices,
                        "avg_days_late": f"{f.avg_days_late:.2f}",
                        "on_time_share": f"{f.on_time_share:.2f}",
                        "broken_promises": f.broken_promises,
                        "open_invoices": open_count.get(debtor_id, 0),
                        "paused": debtor_id in active,
                        "segment": chosen_segment,
                        "segment_set_in_config": debtor_id in overrides,
                    }
                )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(rows)} debtor(s)")
    for column in ("debtor", "paid", "avg days late", "on time", "broken", "open", "segment"):
        table.add_column(column, justify="left" if column in ("debtor", "segment") else "right")
    for r in rows:
        share = f"{float(r['on_time_share']):.0%}"
        mark = " (config)" if r["segment_set_in_config"] else ""
        paused = " \\[paused]" if r["paused"] else ""  # escaped: not rich markup
        table.add_row(
            f"{r['name']} ({r['debtor_id']}){paused}",
            str(r["paid_invoices"]),
            r["avg_days_late"],
            share,
            str(r["broken_promises"]),
            str(r["open_invoices"]),
            f"{r['segment']}{mark}",
        )
    out.print(table)


@click.command(name="simulate")
@click.option("--days", type=click.IntRange(1, 366), default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@date_option
@config_option
@pipeline_option
@reports_errors
def simulate_command(
    days: int,
    as_json: bool,
    as_of: datetime | None,
    config_path: Path | None,
    pipeline: str | None,
) -> None:
    """Play the ladder forward day by day on the current ledger; sends and records nothing.

    Every planned message is assumed sent and no payment assumed, so the figures are the most
    the ladder would send."""
    start = today_or(as_of)
    result: list[dict[str, Any]] = []
    with opened(config_path) as (config, ledger):
        for loaded in chosen(config, pipeline):
            for day in simulate(ledger, loaded, start, days):
                result.append(
                    {
                        "pipeline": loaded.name,
                        "date": day.day.isoformat(),
                        "weekday": day.day.strftime("%a"),
                        "closed": day.closed,
                        "messages": [
                            {"channel": channel, "step": step, "count": count}
                            for (channel, step), count in sorted(day.messages.items())
                        ],
                        "total": day.total,
                    }
                )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    table = Table(title=f"Simulation of {days} day(s) from {start} (nothing is sent)")
    for column in ("pipeline", "day", "channel: step x count", "total"):
        table.add_column(column)
    for row in result:
        what = ", ".join(f"{m['channel']}: {m['step']} x{m['count']}" for m in row["messages"])
        if not what and row["closed"]:
            what = f"(closed: {row['closed']})"
        table.add_row(
            row["pipeline"], f"{row['weekday']} {row['date']}", what or "-", str(row["total"])
        )
    out.print(table)
    total = sum(row["total"] for row in result)
    out.print(f"{total} message(s) in {days} day(s)")


COMMANDS = (debtors, simulate_command)
