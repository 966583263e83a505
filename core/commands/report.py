"""``dunning report``: the figures of each pipeline as a self-contained HTML file or JSON.

Writes ``report-<pipeline>.html`` per pipeline into ``--out`` (default: ``reports/`` next to
pipelines.yaml) and prints each path; ``--json`` prints the figures instead (a list, one object
per pipeline) and writes no file. What each figure means: :mod:`dunning.core.insight.figures`
and ``docs/report.md``. An unknown pipeline or an ``--out`` that cannot be written is a usage
error: one line on stderr, exit status 2.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from dunning.core.commands.common import (
    chosen,
    config_option,
    date_option,
    opened,
    pipeline_option,
    reports_errors,
    today_or,
)
from dunning.core.errors import UsageError
from dunning.core.insight.figures import compute_figures, to_json_dict

REPORTS_FOLDER = "reports"


@click.command("report")
@config_option
@pipeline_option
@date_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Folder for the HTML files (default: {REPORTS_FOLDER}/ next to pipelines.yaml).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON; no file.")
@reports_errors
def report(
    config_path: Path | None,
    pipeline: str | None,
    as_of: datetime | None,
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """Write an HTML report per pipeline: aging, DSO and its trend, the ladder funnel,
    promises, top debtors and channel results (charts included, viewable offline)."""
    today = today_or(as_of)
    with opened(config_path) as (config, ledger):
        names = [p.name for p in chosen(config, pipeline)]
        all_figures = [compute_figures(config, ledger, name, today) for name in names]
        if as_json:
            data = [to_json_dict(figures) for figures in all_figures]
            click.echo(json.dumps(data, indent=2, ensure_ascii=False))
            return
        folder = out_dir if out_dir is not None else config.directory / REPORTS_FOLDER
        for figures in all_figures:
            try:
                from dunning.core.insight.html import write_report  # matplotlib: only when needed

                path = write_report(figures, folder)
            except OSError as error:
                raise UsageError(
                    f"--out {folder}: cannot write the report there "
                    f"({error.strerror or error}); choose another folder"
                ) from None
            click.echo(str(path))


COMMANDS: list[click.Command] = [report]
