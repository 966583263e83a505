"""``dunning purge`` and ``dunning export``: data protection (docs/privacy.md)."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path

import click

from dunning.core.commands.common import (
    config_option,
    date_option,
    opened,
    pipeline_option,
    reports_errors,
    today_or,
)
from dunning.core.errors import UsageError
from dunning.core.privacy import redact
from dunning.core.privacy.export import export_debtor
from dunning.core.privacy.purge import cutoff_for, find_candidates, purge


@click.command(name="purge")
@click.option(
    "--older-than",
    "period",
    required=True,
    help="Retention period: purge closed cases whose last activity is older (7y, 18m, 730d).",
)
@pipeline_option
@click.option(
    "--dry-run", is_flag=True, help="List the debtors that would be purged; change nothing."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for cron).")
@date_option
@config_option
@reports_errors
def purge_command(
    period: str,
    pipeline: str | None,
    dry_run: bool,
    yes: bool,
    as_of: datetime | None,
    config_path: Path | None,
) -> None:
    """Anonymise the personal data of debtors whose cases are all closed and older than
    --older-than; amounts, dates, steps and outcomes stay for the figures."""
    cutoff = cutoff_for(period, today_or(as_of))
    with opened(config_path) as (config, ledger):
        if pipeline:
            config.pipeline(pipeline)
        found = find_candidates(ledger.engine, cutoff, pipeline)
        if not found:
            click.echo(f"nothing to purge: no closed case with its last activity before {cutoff}")
            return
        verb = "would purge" if dry_run else "to purge"
        click.echo(f"{verb} {len(found)} debtor(s), last activity before {cutoff}:")
        for candidate in found:
            last = candidate.last_activity.isoformat() if candidate.last_activity else "none"
            click.echo(
                f"  {candidate.pipeline}/{candidate.debtor_id}: {candidate.invoices} invoice(s), "
                f"last activity {last}"
            )
        if dry_run:
            return
        if not yes:
            if not sys.stdin.isatty():
                raise UsageError("purge asks for confirmation; add --yes to purge without asking")
            if not click.confirm("anonymise these debtors? This cannot be undone", default=False):
                click.echo("nothing purged")
                return
        done = purge(ledger.engine, found)
    click.echo(f"purged {len(done)} debtor(s): personal data removed, figures kept")


@click.command(name="export")
@click.argument("debtor")
@pipeline_option
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the JSON to this file (created owner-only) instead of stdout.",
)
@config_option
@reports_errors
def export_command(
    debtor: str, pipeline: str | None, out_file: Path | None, config_path: Path | None
) -> None:
    """Everything stored about one debtor, as JSON (a data subject access request).

    Secrets a provider may have echoed into a stored reason are redacted."""
    with opened(config_path) as (config, ledger):
        if pipeline:
            config.pipeline(pipeline)
        data = export_debtor(ledger.engine, debtor, pipeline)
    text = redact(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"
    if out_file is None:
        click.echo(text, nl=False)
        return
    try:
        descriptor = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", encoding="utf-8") as stream:  # noqa: PTH123
            stream.write(text)
    except OSError as exc:
        raise UsageError(f"--out {out_file}: cannot write it ({exc.strerror})") from None
    click.echo(f"debtor {debtor}: exported to {out_file}")


COMMANDS: list[click.Command] = [purge_command, export_command]
