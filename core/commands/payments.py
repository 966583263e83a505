"""``dunning payments import | unmatched | assign | dismiss``: bank statements matched to
invoices, and what a person decides about the lines that were not."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from dunning.core.agreements import current_user
from dunning.core.bank.importing import ImportResult, import_statement
from dunning.core.bank.review import assign_line, dismiss_line
from dunning.core.commands.common import (
    config_option,
    opened,
    parse_amount,
    pipeline_option,
    reports_errors,
)
from dunning.core.errors import EXIT_PARTIAL
from dunning.core.ledger.bank import LineStatus, StoredLine

no_write_back_option = click.option(
    "--no-write-back",
    is_flag=True,
    help="Record in the ledger only; the next run writes the payments back to the source.",
)


@click.group()
def payments() -> None:
    """Bank statements: import them (payments are matched, recorded and written back), and
    settle the lines that could not be matched."""


def _money(cents: int) -> str:
    return f"{cents / 100:.2f}"


def _import_json(result: ImportResult) -> dict[str, Any]:
    return {
        "pipeline": result.pipeline,
        "file": result.file,
        "statements": result.statements,
        "lines": result.lines,
        "already_imported": result.already_imported,
        "matched": result.count(LineStatus.MATCHED),
        "unmatched": result.count(LineStatus.UNMATCHED),
        "returned": result.count(LineStatus.REVERSAL),
        "ignored": result.count(LineStatus.IGNORED),
        "recorded": _money(result.recorded_cents),
        "written_back": result.written_back,
        "writeback_errors": result.writeback_errors,
        "outcomes": [
            {
                "place": o.place,
                "amount": _money(o.amount_cents),
                "status": o.status,
                "rule": o.rule,
                "confidence": o.confidence,
                "invoices": list(o.invoices),
                "still_open": [_money(c) for c in o.still_open_cents],
                "left": _money(o.remaining_cents),
                "note": o.note,
            }
            for o in result.outcomes
        ],
    }


@payments.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the outcome per line as JSON.")
@no_write_back_option
@config_option
@pipeline_option
@reports_errors
def import_command(
    file: Path,
    as_json: bool,
    no_write_back: bool,
    config_path: Path | None,
    pipeline: str | None,
) -> None:
    """Import a bank statement (CAMT.053 or MT940): incoming payments are matched to open
    invoices, recorded (the ladder stops for what is paid) and written back to the source.

    The statement must be of the pipeline's account (creditor.iban or bank.accounts).
    Importing a file again records nothing twice."""
    with opened(config_path) as (_config, ledger):
        result = import_statement(_config, ledger, file, pipeline, write_back=not no_write_back)
    if as_json:
        click.echo(json.dumps(_import_json(result), indent=2))
    else:
        _print_import(result)
    if result.writeback_errors:
        sys.exit(EXIT_PARTIAL)


def _print_import(result: ImportResult) -> None:
    new = result.lines - result.already_imported
    click.echo(
        f"{result.file}: {result.lines} lines for pipeline {result.pipeline}, {new} new"
        + (f", {result.already_imported} imported before" if result.already_imported else "")
    )
    for outcome in result.outcomes:
        if outcome.status == LineStatus.IGNORED:
            continue
        what = {
            LineStatus.MATCHED: "paid",
            LineStatus.UNMATCHED: "waits",
            LineStatus.REVERSAL: "returned",
        }.get(outcome.status, outcome.status)
        invoices = ", ".join(
            number + (f" ({_money(left)} still open)" if left > 0 else "")
            for number, left in zip(outcome.invoices, outcome.still_open_cents, strict=True)
        )
        detail = f" {invoices} by {outcome.rule}, {outcome.confidence}%" if invoices else ""
        left = (
            f"; {_money(outcome.remaining_cents)} left for a person"
            if outcome.remaining_cents and invoices
            else ""
        )
        note = f" - {outcome.note}" if outcome.note else ""
        place = outcome.place.removeprefix(f"{result.file}: ")
        click.echo(f"  {place}: {_money(outcome.amount_cents)} {what}{detail}{left}{note}")
    click.echo(
        f"matched {result.count(LineStatus.MATCHED)}, waiting {result.count(LineStatus.UNMATCHED)}"
        f", returned {result.count(LineStatus.REVERSAL)}, money out "
        f"{result.count(LineStatus.IGNORED)}; recorded {_money(result.recorded_cents)}"
    )
    if result.written_back:
        click.echo(f"written back to the source: {result.written_back} payments")
    for error in result.writeback_errors:
        click.echo(f"warning: {error}; the next run retries it", err=True)
    if result.count(LineStatus.UNMATCHED):
        click.echo("see 'dunning payments unmatched' for the lines that wait for you")


def _line_json(line: StoredLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "pipeline": line.pipeline,
        "booked_on": line.booked_on.isoformat(),
        "amount": f"{line.amount:.2f}",
        "left": f"{line.remaining:.2f}",
        "currency": line.currency,
        "status": line.status,
        "payer": line.payer_name,
        "payer_iban": line.payer_iban,
        "reference": line.structured_reference,
        "text": line.remittance,
        "suggestion": line.suggestion,
        "note": line.note,
        "file": line.file,
        "place": line.place,
    }


@payments.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@config_option
@pipeline_option
@reports_errors
def unmatched(as_json: bool, config_path: Path | None, pipeline: str | None) -> None:
    """Bank lines waiting for a person: payments not matched with enough confidence (with a
    suggestion when there is one), surpluses, and returned payments to correct in the source."""
    with opened(config_path) as (config, ledger):
        names = [config.pipeline(pipeline).name] if pipeline else list(config.pipelines)
        lines = [line for name in names for line in ledger.bank.waiting(name)]
    if as_json:
        click.echo(json.dumps([_line_json(line) for line in lines], indent=2))
        return
    if not lines:
        click.echo("no bank lines wait for you")
        return
    for line in lines:
        payer = " ".join(p for p in (line.payer_name, line.payer_iban) if p) or "unknown payer"
        if line.status == LineStatus.REVERSAL:
            head = f"{line.amount:.2f} returned to {payer}"
        else:
            of = f" (of {line.amount:.2f})" if line.remaining != line.amount else ""
            head = f"{line.remaining:.2f}{of} not matched, from {payer}"
        click.echo(f"#{line.id} {line.booked_on} {line.currency} {head} [{line.pipeline}]")
        text = line.structured_reference or line.remittance
        if text:
            click.echo(f"    text: {text}")
        if line.suggestion:
            click.echo(f"    suggestion: {line.suggestion}")
        if line.note:
            click.echo(f"    note: {line.note}")
    click.echo(
        "assign one with 'dunning payments assign ID INVOICE...', or set it aside with "
        "'dunning payments dismiss ID --reason ...'"
    )


@payments.command()
@click.argument("line_id", type=int)
@click.argument("invoices", nargs=-1, required=True)
@click.option(
    "--amount",
    callback=parse_amount,
    help="How much of the line to assign (default: all that is left).",
)
@click.option("--by", default=None, help="Who decided (default: you).")
@no_write_back_option
@config_option
@pipeline_option
@reports_errors
def assign(
    line_id: int,
    invoices: tuple[str, ...],
    amount: Decimal | None,
    by: str | None,
    no_write_back: bool,
    config_path: Path | None,
    pipeline: str | None,
) -> None:
    """Assign bank line LINE_ID to INVOICES (in that order, each up to its open amount): the
    payments are recorded, the ladder stops for what is paid, and the source is told. The
    payer's account is remembered for the debtor."""
    with opened(config_path) as (config, ledger):
        result = assign_line(
            config,
            ledger,
            line_id,
            invoices,
            amount=amount,
            by=by or current_user(),
            pipeline_name=pipeline,
            write_back=not no_write_back,
        )
    for payment in result.payments:
        click.echo(f"invoice {payment.invoice_number}: recorded {_money(payment.cents)}")
    if result.left_cents:
        click.echo(f"{_money(result.left_cents)} of bank line {line_id} still waits")
    if result.written_back:
        click.echo(f"written back to the source: {result.written_back} payments")
    for error in result.writeback_errors:
        click.echo(f"warning: {error}; the next run retries it", err=True)
    if result.writeback_errors:
        sys.exit(EXIT_PARTIAL)


@payments.command()
@click.argument("line_id", type=int)
@click.option("--reason", required=True, help="Why dunning has nothing to do with it.")
@click.option("--by", default=None, help="Who decided (default: you).")
@config_option
@pipeline_option
@reports_errors
def dismiss(
    line_id: int, reason: str, by: str | None, config_path: Path | None, pipeline: str | None
) -> None:
    """Set a waiting bank line aside: a refund or a transfer that is not a customer's payment,
    or a returned payment already corrected in the accounting platform."""
    with opened(config_path) as (config, ledger):
        line = dismiss_line(
            config, ledger, line_id, reason, by=by or current_user(), pipeline_name=pipeline
        )
    click.echo(f"bank line {line.id} set aside: {reason}")


COMMANDS: list[click.Command] = [payments]
