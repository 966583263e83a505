"""``dunning agency import FILE`` and ``dunning agency list``: the collection agency's side."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from dunning.core.commands.common import (
    chosen,
    config_option,
    opened,
    out,
    pipeline_option,
    reports_errors,
)
from dunning.core.errors import EXIT_PARTIAL, UsageError
from dunning.core.handoff.agency_report import import_report, read_report
from dunning.core.ledger.outbox import STEP
from dunning.core.models import MessageState
from dunning.core.payments import find_invoice_pipeline
from dunning.core.runner import make_source
from dunning.core.writeback import write_back_payments


@click.group()
def agency() -> None:
    """The collection agency: its status reports, and what was handed over."""


@agency.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@config_option
@pipeline_option
@reports_errors
def import_(file: Path, config_path: Path | None, pipeline: str | None) -> None:
    """Record an agency's status report (CSV or JSON: invoice, status, amount_collected, date):
    payments are recorded and written back to the source, closures noted. Importing the same
    report twice records nothing twice."""
    lines = read_report(file)
    if not lines:
        raise UsageError(f"{file.name}: the report lists no invoices")
    with opened(config_path) as (config, ledger):
        loaded = find_invoice_pipeline(config, ledger, lines[0].invoice, pipeline)
        run_id, _ = ledger.runs.start(loaded.name, lines[0].reported_on)
        status = "failed"
        try:
            result = import_report(ledger, loaded, lines)
            status = "completed"
        finally:
            ledger.runs.finish(run_id, status, {"agency_report": file.name})
        source = make_source(config, loaded, ledger)
        written, errors = write_back_payments(source, ledger, loaded.name)
    for line in result.recorded:
        click.echo(line)
    if result.already:
        click.echo(f"{result.already} line(s) were imported before; not recorded again")
    if written:
        click.echo(f"{written} payment(s) written back to the source")
    for error in errors:
        click.echo(f"warning: {error}; the next run retries it", err=True)
    if errors:
        sys.exit(EXIT_PARTIAL)


@agency.command("resend")
@click.argument("reference")
@config_option
@reports_errors
def resend(reference: str, config_path: Path | None) -> None:
    """Deliver a dossier again that failed for good (after fixing the cause, e.g. the token):
    the next `dunning run` sends it. REFERENCE is the handoff's key from `agency list`."""
    with opened(config_path) as (config, ledger):
        message = ledger.outbox.by_key(reference)
        if message is None or message.pipeline not in config.pipelines:
            raise UsageError(f"no handoff {reference!r}; see `dunning agency list`")
        loaded = config.pipeline(message.pipeline)
        channel = loaded.channels.get(message.channel)
        if channel is None or not channel.cls.hands_over or message.kind != STEP:
            raise UsageError(f"{reference!r} is not a handoff to an agency")
        if message.state is not MessageState.FAILED:
            raise UsageError(
                f"handoff {reference!r} is {message.state.value}, not failed; only a failed "
                "dossier can be sent again (an uncertain one: ask the agency first)"
            )
        ledger.outbox.requeue_failed(message.id, "sent again by hand (dunning agency resend)")
    click.echo(f"handoff {reference} will be delivered by the next `dunning run`")


@agency.command("list")
@config_option
@pipeline_option
@click.option("--json", "as_json", is_flag=True, help="Print the handoffs as JSON.")
@reports_errors
def list_(config_path: Path | None, pipeline: str | None, as_json: bool) -> None:
    """Every dossier handed to an agency, with the agency's latest report per invoice."""
    rows = []
    with opened(config_path) as (config, ledger):
        for loaded in chosen(config, pipeline):
            reports = {r.invoice_number: r for r in ledger.handoffs.reports(loaded.name)}
            for handoff in ledger.handoffs.all(loaded.name):
                for number in handoff.invoice_numbers:
                    latest = reports.get(number)
                    rows.append(
                        {
                            "pipeline": loaded.name,
                            "debtor_id": handoff.debtor_id,
                            "invoice": number,
                            "handed_on": handoff.handed_on.isoformat(),
                            "channel": handoff.channel,
                            "reference": handoff.reference,
                            "open_at_handoff": f"{handoff.open_at_handoff[number]:.2f}",
                            "agency_status": latest.status if latest else None,
                            "collected": f"{latest.collected:.2f}" if latest else None,
                        }
                    )
            agencies = {n for n, c in loaded.channels.items() if c.cls.hands_over}
            for state in (MessageState.FAILED, MessageState.UNCERTAIN, MessageState.PENDING):
                for message in ledger.outbox.in_state(state, loaded.name):
                    if message.channel not in agencies or message.kind != STEP:
                        continue
                    for item in message.items:
                        rows.append(
                            {
                                "pipeline": loaded.name,
                                "debtor_id": message.debtor_id,
                                "invoice": item.invoice_number,
                                "handed_on": message.planned_for.isoformat(),
                                "channel": message.channel,
                                "reference": message.idempotency_key,
                                "open_at_handoff": None,
                                "agency_status": f"dossier not delivered: {state.value}"
                                + (f" ({message.reason})" if message.reason else ""),
                                "collected": None,
                            }
                        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        out.print("nothing was handed over to an agency")
        return
    for row in rows:
        status = row["agency_status"] or "no report yet"
        out.print(
            f"{row['invoice']} (debtor {row['debtor_id']}) handed over on {row['handed_on']} "
            f"via {row['channel']}, {row['open_at_handoff'] or '?'} open: {status}"
        )


COMMANDS = (agency,)
