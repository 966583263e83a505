"""The ``dunning`` command line. Exit codes: 0 done, 1 some messages failed or are uncertain,
2 configuration or usage error, 3 the run could not proceed (source, ledger, another run)."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from dunning.core import report
from dunning.core.agreements import check_money, confirm_channel
from dunning.core.channel import Channel
from dunning.core.commands import agency as agency_commands
from dunning.core.commands import calls as call_commands
from dunning.core.commands import desk as desk_commands
from dunning.core.commands import distributed as distributed_commands
from dunning.core.commands import pauses as pause_commands
from dunning.core.commands import payments as payment_commands
from dunning.core.commands import policy as policy_commands
from dunning.core.commands import privacy as privacy_commands
from dunning.core.commands import report as report_commands
from dunning.core.commands import serve as serve_commands
from dunning.core.commands.common import (
    LogOptions,
    chosen,
    config_option,
    date_option,
    log_file_option,
    log_format_option,
    now_for,
    now_option,
    opened,
    out,
    parse_amount,
    pipeline_option,
    progress_for,
    reports_errors,
    today_or,
)
from dunning.core.commands.law import law as law_commands
from dunning.core.config import LoadedPipeline, default_config_path, load_config
from dunning.core.config.yamlfile import ConfigPath, YamlDocument, dotted, read_yaml
from dunning.core.dispatch import make_channel
from dunning.core.errors import EXIT_OK, EXIT_PARTIAL, ConfigError, PluginError
from dunning.core.fallback import plan_recipients
from dunning.core.ladder_diff import ladder_diff
from dunning.core.ledger import Ledger
from dunning.core.ledger.runs import RunRecord
from dunning.core.logs import LogFormat, log_summary, register_secrets
from dunning.core.models import MessageState, PauseKind
from dunning.core.payments import mark_paid
from dunning.core.planning import plan_pipeline
from dunning.core.plugins import load_registry, plugin_commands
from dunning.core.privacy.redaction import redact, redact_data
from dunning.core.privacy.secrets import config_secrets
from dunning.core.release import release_invoice
from dunning.core.runner import dry_run_pipeline, run_pipeline


def _today_and_now(as_of: datetime | None, now_text: str | None) -> tuple[date, datetime]:
    """The day to act as of and the moment for send windows: ``--now`` alone sets both."""
    now = now_for(now_text, as_of)
    if as_of is None and now_text:
        return now.date(), now
    return today_or(as_of), now


def _money(ctx: click.Context, param: click.Parameter, value: str | None) -> Decimal | None:
    amount = parse_amount(ctx, param, value)
    if amount is not None and not check_money(amount):
        raise click.BadParameter(f"{value!r} is not an amount above zero in cents, like 125.50")
    return amount


@click.group()
@click.version_option(package_name="dunning")
def main() -> None:
    """dunning: collect late invoices with a polite, predictable escalation ladder."""


@main.command()
@config_option
@pipeline_option
@date_option
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as JSON.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too (bad rows, bad addresses).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Sync and show what would be sent, and why; send, record and write back nothing.",
)
@now_option
@log_file_option
@log_format_option
@reports_errors
def run(
    config_path: Path | None,
    pipeline: str | None,
    as_of: datetime | None,
    as_json: bool,
    strict: bool,
    quiet: bool,
    dry_run: bool,
    now_text: str | None,
    log_file: Path | None,
    log_format: LogFormat | None,
) -> None:
    """Sync, plan, send and write back, for every pipeline (or --pipeline).

    Logs (docs/privacy.md) go to --log-file, or to stderr when only --log-format is given."""
    today, now = _today_and_now(as_of, now_text)
    exit_code = EXIT_OK
    summaries = []
    logs = LogOptions(log_file, log_format)
    if dry_run:
        _dry_run(config_path, pipeline, today, now, as_json, quiet, logs)
        return
    with opened(config_path, logs) as (config, ledger):
        for loaded in chosen(config, pipeline):
            progress = progress_for(quiet or as_json)
            summary = run_pipeline(config, loaded, ledger, today, progress, now=now)
            log_summary(summary, ledger.runs.recent(loaded.name, limit=1))
            summaries.append(summary.to_dict())
            exit_code = max(exit_code, summary.exit_code)
            if strict and summary.has_warnings:
                exit_code = max(exit_code, EXIT_PARTIAL)
            report.print_problems(summary.problems, summary.notes)
            if not as_json:
                report.print_summary(out, summary)
    if as_json:  # problems may quote what a provider echoed: a key, a token
        click.echo(redact(json.dumps(summaries, indent=2)))
    sys.exit(exit_code)


def _dry_run(
    config_path: Path | None,
    pipeline: str | None,
    today: date,
    now: datetime,
    as_json: bool,
    quiet: bool,
    logs: LogOptions,
) -> None:
    rows: list[dict[str, Any]] = []
    with opened(config_path, logs) as (config, ledger):
        for loaded in chosen(config, pipeline):
            progress = progress_for(quiet or as_json)
            summary, result = dry_run_pipeline(config, loaded, ledger, today, progress, now)
            report.print_problems(summary.problems, summary.notes)
            who = plan_recipients(result.messages, loaded, ledger, config.directory)
            if as_json:
                rows.extend(report.plan_rows(result, who))
            else:
                report.print_plan(out, loaded.name, result, False, who)
    if as_json:
        click.echo(json.dumps(rows, indent=2))


@main.command()
@config_option
@pipeline_option
@date_option
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--verbose", is_flag=True, help="Also list invoices that need nothing, and why.")
@click.option(
    "--diff", is_flag=True, help="Show what the changed ladder does to open cases, then stop."
)
@now_option
@reports_errors
def plan(
    config_path: Path | None,
    pipeline: str | None,
    as_of: datetime | None,
    as_json: bool,
    verbose: bool,
    diff: bool,
    now_text: str | None,
) -> None:
    """Show what a run would send today, to whom and why, without sending or recording it.

    The plan is made from the ledger as last synced (run `dunning run` to refresh it)."""
    today, now = _today_and_now(as_of, now_text)
    rows: list[dict[str, Any]] = []
    with opened(config_path) as (config, ledger):
        for loaded in chosen(config, pipeline):
            if diff:
                changes = ladder_diff(ledger, loaded, today)
                if as_json:
                    rows.append(report.diff_data(loaded.name, changes))
                else:
                    report.print_diff(out, loaded.name, changes)
                continue
            result = plan_pipeline(ledger, loaded, today, now=now, config_dir=config.directory)
            who = plan_recipients(result.messages, loaded, ledger, config.directory)
            if as_json:
                rows.extend(report.plan_rows(result, who))
            else:
                report.print_plan(out, loaded.name, result, verbose, who)
    if as_json:
        click.echo(json.dumps(rows, indent=2))


@main.command()
@config_option
@reports_errors
def check(config_path: Path | None) -> None:
    """Validate pipelines.yaml, .env and every plugin section; exit 0 when all is well, else 2."""
    path = default_config_path(config_path)
    config = load_config(path)
    register_secrets(config_secrets(config))
    document = read_yaml(config.path)
    problems: list[str] = []
    for loaded in config.pipelines.values():
        used = templates_in_use(loaded)
        for name in loaded.channels:
            channel = make_channel(loaded, name, config.directory)
            problems.extend(check_channel(channel, used.get(name, {}), document, loaded.name, name))
    if problems:
        raise ConfigError("\n".join(problems))
    names = ", ".join(config.pipelines)
    click.echo(f"{path}: ok ({len(config.pipelines)} pipeline(s): {names})")


def templates_in_use(loaded: LoadedPipeline) -> dict[str, dict[str, list[ConfigPath]]]:
    """Channel -> template -> where in pipelines.yaml it is named (steps, variants, thank_you,
    and the confirmations of ``pauses:``)."""
    base: ConfigPath = ("pipelines", loaded.name)
    used: dict[str, dict[str, list[ConfigPath]]] = defaultdict(lambda: defaultdict(list))
    for index, step in enumerate(loaded.steps):
        used[step.channel][step.template].append((*base, "steps", index, "template"))
        for variant, template in step.variants.items():
            used[step.channel][template].append((*base, "steps", index, "variants", variant))
    thanks = loaded.config.thank_you
    if thanks is not None:
        used[thanks.channel][thanks.template].append((*base, "thank_you", "template"))
    confirm = confirm_channel(loaded)
    if confirm is not None:
        for kind in PauseKind:
            used[confirm][f"confirm-{kind.value}"].append((*base, "pauses", "confirm_channel"))
    return used


def check_channel(
    channel: Channel,
    used: dict[str, list[ConfigPath]],
    document: YamlDocument,
    pipeline: str,
    name: str,
) -> list[str]:
    """Problems of one channel as ``file:line: key: what`` lines; none when it checks out.

    A failing check is repeated per template, so that each missing or broken template is
    reported at the line that names it."""
    try:
        channel.check(sorted(used))
        return []
    except ConfigError as error:
        whole = f"{document.where(('pipelines', pipeline, 'channels', name))}: {error}"
    try:
        channel.check(())
    except ConfigError:
        return [whole]
    problems: list[str] = []
    for template, places in sorted(used.items()):
        try:
            channel.check([template])
        except ConfigError as error:
            problems.extend(f"{document.where(loc)}: {dotted(loc)}: {error}" for loc in places)
    return problems or [whole]


@main.command()
@config_option
@pipeline_option
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 when a pipeline's last run failed or crashed, a message is uncertain, a "
    "write-back failed or bank lines wait for a person (for cron and Kubernetes probes).",
)
@reports_errors
def status(config_path: Path | None, pipeline: str | None, as_json: bool, check: bool) -> None:
    """Per pipeline the last run, failures and uncertain actions; counts of messages by state.

    Exit 0; with --check, exit 1 when something needs a person (see ``attention``)."""
    with opened(config_path) as (config, ledger):
        if pipeline:
            config.pipeline(pipeline)
        counts = ledger.outbox.state_counts(pipeline)
        uncertain = report.outbox_rows(ledger.outbox.in_state(MessageState.UNCERTAIN, pipeline))
        runs = ledger.runs.recent(pipeline, limit=5)
        names = [pipeline] if pipeline else list(config.pipelines)
        tasks = [t for name in names for t in ledger.calls.open(name)]
        today = date.today()
        calls = {
            "open": len(tasks),
            "due": sum(t.due_on <= today for t in tasks),
            "flagged": sum(t.flag is not None for t in tasks),
        }
        handed_over = sum(ledger.handoffs.delivered_count(name) for name in names)
        pipelines: dict[str, dict[str, Any]] = {
            name: pipeline_status(ledger, name) for name in names
        }
    data = {
        "calls": calls,
        "handed_over": handed_over,
        "messages": {state.value: counts.get(state.value, 0) for state in MessageState},
        "uncertain": uncertain,
        "runs": [run_row(r) for r in runs],
        "pipelines": pipelines,
        "attention": [line for p in pipelines.values() for line in p["attention"]],
    }
    data = redact_data(data)  # stored reasons may quote what a provider echoed
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        report.print_status(out, data)
        print_pipelines(data["pipelines"])
    if check and data["attention"]:
        sys.exit(EXIT_PARTIAL)


def run_row(run: RunRecord) -> dict[str, Any]:
    """A run as shown by ``status``; exit code and counts come from its stored summary."""
    summary = run.summary or {}
    exit_code = None
    if run.summary is not None:
        failing = ("failed", "retry_later", "uncertain_found", "writeback_failed")
        partial = any(summary.get(key) for key in failing) or summary.get("sync_incomplete")
        exit_code = EXIT_PARTIAL if partial else EXIT_OK
    return {
        "id": run.id,
        "pipeline": run.pipeline,
        "as_of": run.as_of.isoformat(),
        "status": run.status,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "exit_code": exit_code,
        "sent": summary.get("sent"),
        "failed": summary.get("failed"),
    }


def pipeline_status(ledger: Ledger, name: str) -> dict[str, Any]:
    """One pipeline's last run, failed and uncertain messages, failed write-backs, and the
    ``attention`` lines that make ``status --check`` exit 1."""
    last = ledger.runs.recent(name, limit=1)
    last_run = run_row(last[0]) if last else None
    failed = report.outbox_rows(ledger.outbox.in_state(MessageState.FAILED, name))
    uncertain = report.outbox_rows(ledger.outbox.in_state(MessageState.UNCERTAIN, name))
    writebacks = [
        {
            "invoice": stored.payment.invoice_number,
            "amount": str(stored.payment.amount),
            "paid_on": stored.payment.paid_on.isoformat(),
            "error": stored.writeback_error,
        }
        for stored in ledger.payments.unwritten(name)
        if stored.writeback_error
    ]
    waiting = ledger.bank.waiting(name)
    bank_waiting = {
        "lines": len(waiting),
        "amount": str(sum((line.remaining for line in waiting if line.remaining > 0), Decimal(0))),
    }
    attention = []
    if last_run is not None and (
        last_run["status"] in ("partial", "crashed") or last_run["exit_code"]
    ):
        attention.append(f"{name}: last run {last_run['id']} {last_run['status']}")
    if uncertain:
        attention.append(f"{name}: {len(uncertain)} message(s) uncertain: sent or not?")
    if writebacks:
        attention.append(f"{name}: {len(writebacks)} payment write-back(s) failed")
    if waiting:
        attention.append(
            f"{name}: {len(waiting)} bank line(s) wait for a person: dunning payments unmatched"
        )
    return {
        "last_run": last_run,
        "failed": failed,
        "uncertain": uncertain,
        "failed_writebacks": writebacks,
        "bank_waiting": bank_waiting,
        "attention": attention,
    }


def print_pipelines(pipelines: dict[str, dict[str, Any]]) -> None:
    for name, data in pipelines.items():
        run = data["last_run"]
        if run is None:
            out.print(f"{name}: never run")
        else:
            counts = (
                f"{run['sent']} sent, {run['failed']} failed" if run["sent"] is not None else ""
            )
            out.print(
                f"{name}: last run {run['id']} as of {run['as_of']}, {run['status']} "
                f"(started {run['started_at']}, finished {run['finished_at'] or '-'}, exit "
                f"{run['exit_code'] if run['exit_code'] is not None else '-'}) {counts}".rstrip()
            )
        for message in data["failed"][-20:]:
            out.print(
                f"  failed: message {message['id']} {message['channel']} to "
                f"{message['debtor_id']} ({', '.join(message['invoices'])}): {message['reason']}"
            )
        for message in data["uncertain"]:
            out.print(
                f"  uncertain: message {message['id']} {message['channel']} to "
                f"{message['debtor_id']} ({', '.join(message['invoices'])})"
            )
        for writeback in data["failed_writebacks"]:
            out.print(f"  write-back failed: {writeback['invoice']}: {writeback['error']}")
    for line in (line for data in pipelines.values() for line in data["attention"]):
        out.print(f"attention: {line}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@config_option
@reports_errors
def plugins(as_json: bool, config_path: Path | None) -> None:
    """Installed source and channel kinds, and the plugin that provides each."""
    registry = load_registry()
    data = {
        "sources": {k: registry.provided_by[("source", k)] for k in sorted(registry.sources)},
        "channels": {k: registry.provided_by[("channel", k)] for k in sorted(registry.channels)},
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for role, kinds in data.items():
        click.echo(f"{role}:")
        for kind, plugin in kinds.items():
            click.echo(f"  {kind}  (plugin {plugin})")


@main.command(name="mark-paid")
@click.argument("invoice")
@click.option("--amount", callback=_money, help="Amount received (default: all open).")
@date_option
@config_option
@pipeline_option
@reports_errors
def mark_paid_command(
    invoice: str,
    amount: Decimal | None,
    as_of: datetime | None,
    config_path: Path | None,
    pipeline: str | None,
) -> None:
    """Record a payment you learned about: stops the ladder and writes it back to the source.

    --date is the day it was paid (default today)."""
    with opened(config_path) as (config, ledger):
        result = mark_paid(config, ledger, invoice, amount, today_or(as_of), pipeline)
    state = "paid in full" if result.open_after <= 0 else f"{result.open_after:.2f} still open"
    click.echo(f"invoice {invoice}: recorded {result.amount:.2f} ({state})")
    if result.written_back:
        click.echo(
            f"written back to the {config.pipelines[result.pipeline].source_cls.kind} source"
        )
    elif result.writeback_error:
        click.echo(f"warning: {result.writeback_error}; the next run retries it", err=True)
        sys.exit(EXIT_PARTIAL)


for command in (
    *pause_commands.COMMANDS,
    *policy_commands.COMMANDS,
    law_commands,
    *call_commands.COMMANDS,
    *desk_commands.COMMANDS,
    *agency_commands.COMMANDS,
    *serve_commands.COMMANDS,
    *distributed_commands.COMMANDS,
    *privacy_commands.COMMANDS,
    *payment_commands.COMMANDS,
    *report_commands.COMMANDS,
):
    main.add_command(command)


@main.command()
@click.argument("invoice")
@config_option
@pipeline_option
@date_option
@reports_errors
def release(
    invoice: str, config_path: Path | None, pipeline: str | None, as_of: datetime | None
) -> None:
    """Let go of an open invoice: no more steps from dunning, and the source's own reminders
    (Moneybird's workflow) resume for it."""
    with opened(config_path) as (config, ledger):
        result = release_invoice(config, ledger, invoice, today_or(as_of), pipeline)
    click.echo(f"invoice {invoice} released: no more steps; {result.source_told}")
    if result.failed:
        sys.exit(EXIT_PARTIAL)


def _add_plugin_commands() -> None:
    """Commands plugins bring (``dunning moneybird ...``); a clash with a built-in is an error."""
    try:
        commands = plugin_commands()
    except PluginError:
        return  # a broken plugin is reported by the command that needs it
    for command in commands:
        present = main.commands.get(command.name or "")
        if isinstance(present, click.Group) and isinstance(command, click.Group):
            for sub in command.commands.values():  # two plugins adding to `dunning auth`
                present.add_command(sub)
            continue
        if present is not None:
            raise PluginError(f"a plugin registers the command {command.name!r}, which exists")
        main.add_command(command)


_add_plugin_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
