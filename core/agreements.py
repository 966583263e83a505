"""Setting and ending pauses (promise, arrangement, dispute, manual), the daily review that
finds broken promises and missed instalments, and the written confirmation of each.

Every change is recorded in the ledger with who, when and why. A confirmation is an outbox
message like any other (kind ``confirmation``, its own idempotency key per pause and event),
sent at once through the pipeline's email channel in the debtor's language.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from dunning.core.config import LoadedConfig, LoadedPipeline
from dunning.core.dispatch import Dispatcher
from dunning.core.errors import UsageError
from dunning.core.ledger import Ledger
from dunning.core.ledger.outbox import CONFIRMATION
from dunning.core.models import (
    CENT,
    ConfirmationEvent,
    Instalment,
    Invoice,
    Pause,
    PauseKind,
    PauseStatus,
    PlannedItem,
    PlannedMessage,
)
from dunning.core.policy.pauses import evaluate
from dunning.core.progress import NoProgress
from dunning.core.summary import RunSummary

ENGINE = "dunning"


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


@dataclass(frozen=True, slots=True)
class Target:
    """What a pause command is about: a debtor, and possibly some of their invoices."""

    pipeline: LoadedPipeline
    debtor_id: str
    invoices: tuple[Invoice, ...]
    whole_debtor: bool


def find_target(
    config: LoadedConfig,
    ledger: Ledger,
    invoice: str | None,
    debtor: str | None,
    pipeline: str | None,
) -> Target:
    """Resolve ``--debtor`` or an invoice number to the pipeline, debtor and open invoices."""
    if (invoice is None) == (debtor is None):
        raise UsageError("name either an invoice number or --debtor ID (one of the two)")
    names = [pipeline] if pipeline else list(config.pipelines)
    for name in names:
        loaded = config.pipeline(name)
        if debtor is not None:
            if ledger.invoices.debtor(name, debtor) is not None:
                open_invoices = ledger.invoices.open_of_debtor(name, debtor)
                return Target(loaded, debtor, tuple(open_invoices), True)
            continue
        assert invoice is not None
        found = ledger.invoices.get(name, [invoice]).get(invoice)
        if found is not None:
            record, in_source = found
            handed = ledger.invoices.handed_over_among(name, [invoice])
            if invoice in handed:
                raise UsageError(
                    f"invoice {invoice} was handed over to a collection agency on "
                    f"{handed[invoice]}; the agency deals with the debtor now"
                )
            if not (in_source and record.is_dunnable):
                raise UsageError(f"invoice {invoice} has nothing open; there is nothing to pause")
            return Target(loaded, record.debtor_id, (record,), False)
    what = f"debtor {debtor}" if debtor else f"invoice {invoice}"
    raise UsageError(f"{what} is not in the ledger; run `dunning run` first to sync the source")


def open_total(invoices: tuple[Invoice, ...]) -> Decimal:
    return sum((i.amount_open for i in invoices), Decimal(0))


def new_pause(
    target: Target,
    kind: PauseKind,
    today: date,
    reason: str,
    by: str,
    until: date | None = None,
    grace_days: int = 0,
    instalments: tuple[Instalment, ...] = (),
) -> Pause:
    """The pause to record. Promises and arrangements always name their invoices (those open
    now); manual pauses and disputes on a debtor cover every invoice, also later ones."""
    fixed = kind in (PauseKind.PROMISE, PauseKind.ARRANGEMENT) or not target.whole_debtor
    if fixed and not target.invoices:
        raise UsageError(f"debtor {target.debtor_id} has no open invoice to agree on")
    if kind is PauseKind.PROMISE and until is None:
        raise UsageError("a promise needs --until, the day the debtor will pay by")
    if until is not None and until < today:
        raise UsageError(f"--until {until} is before today ({today}); give a day from today on")
    if kind is PauseKind.ARRANGEMENT:
        check_instalments(instalments, open_total(target.invoices), today)
    return Pause(
        id=0,
        debtor_id=target.debtor_id,
        kind=kind,
        starts_on=today,
        reason=reason,
        invoice_numbers=tuple(i.number for i in target.invoices) if fixed else (),
        until=until if kind is not PauseKind.ARRANGEMENT else instalments[-1].due_on,
        grace_days=grace_days,
        instalments=instalments,
        open_at_start=open_total(target.invoices),
        created_by=by,
    )


def check_instalments(instalments: tuple[Instalment, ...], owed: Decimal, today: date) -> None:
    if not instalments:
        raise UsageError(
            "an arrangement needs instalments: --instalment YYYY-MM-DD=AMOUNT, repeated"
        )
    days = [i.due_on for i in instalments]
    if days != sorted(days) or len(set(days)) != len(days):
        raise UsageError("instalment dates must be different and in order")
    if days[0] < today:
        raise UsageError(f"the first instalment ({days[0]}) is before today ({today})")
    for instalment in instalments:
        if not check_money(instalment.amount):
            raise UsageError(
                f"instalment of {instalment.due_on}: {instalment.amount} is not an amount above "
                "zero in cents; write it like 150.00"
            )
    total = sum((i.amount for i in instalments), Decimal(0))
    if total != owed:
        raise UsageError(
            f"the instalments add up to {total:.2f}, but {owed:.2f} is open; make them add up "
            f"to {owed:.2f}"
        )


def check_money(amount: Decimal) -> bool:
    """True for a finite amount above zero in whole cents (at most two decimals)."""
    try:
        return amount.is_finite() and amount > 0 and amount == amount.quantize(CENT)
    except InvalidOperation:
        return False


def confirm_channel(pipeline: LoadedPipeline) -> str | None:
    """The channel confirmations go through: ``pauses.confirm_channel``, else the first email
    channel, else none."""
    settings = pipeline.config.pauses
    if not settings.confirm:
        return None
    if settings.confirm_channel:
        return settings.confirm_channel
    return next((n for n, c in pipeline.channels.items() if c.cls.kind == "email"), None)


@dataclass(frozen=True, slots=True)
class Outcome:
    pause: Pause
    confirmation: str
    """What happened to the written confirmation, in words."""
    failed: bool = False
    uncertain_found: int = 0
    """Messages an earlier, crashed run left in ``sending``, now marked ``uncertain``."""


def confirm_pause(
    config: LoadedConfig,
    ledger: Ledger,
    target: Target,
    pause: Pause,
    event: ConfirmationEvent,
    today: date,
    run_id: int,
    send: bool,
) -> tuple[str, bool]:
    """Write to the debtor that ``pause`` was set or ended (through the outbox, at once).

    Returns what happened in words, and whether it failed. The caller holds the pipeline's
    run lock (``run_id``)."""
    pipeline = target.pipeline
    if not send:
        return "no confirmation sent (--no-confirm)", False
    channel = confirm_channel(pipeline)
    if channel is None:
        return (
            "no confirmation sent: confirmations are off (pauses.confirm) or the pipeline has no "
            "email channel",
            False,
        )
    if not target.invoices:
        return f"no confirmation sent: nothing of debtor {pause.debtor_id} it covers is open", False
    debtor = ledger.invoices.debtor(pipeline.name, pause.debtor_id)
    assert debtor is not None
    invoices = target.invoices
    step = f"confirm-{pause.kind.value}"
    suffix = f"confirm-{pause.id}-{event.value}"
    message = PlannedMessage(
        pipeline=pipeline.name,
        debtor=debtor,
        channel=channel,
        step=step,
        template=step,
        planned_for=today,
        items=tuple(PlannedItem(i, suffix, -1, "confirmation") for i in invoices),
        kind=CONFIRMATION,
        key_suffix=suffix,
    )
    if not ledger.outbox.add(run_id, message):
        return "confirmation was already recorded earlier; not sent again", False
    summary = RunSummary(pipeline=pipeline.name, as_of=today)
    Dispatcher(
        pipeline,
        ledger,
        run_id,
        today,
        summary,
        NoProgress(),
        config.directory,
        only_kind=CONFIRMATION,
    ).run()
    if summary.sent:
        return f"confirmation sent by {channel} ({debtor.language})", False
    problems = "; ".join(summary.problems) or "not sent"
    return f"confirmation not sent: {problems}", True


def _start_run(ledger: Ledger, pipeline: str, today: date) -> tuple[int, int]:
    """Take the pipeline's run lock: the run's id, and how many messages a crashed run had left
    in ``sending``. Those become ``uncertain`` here, as a run would do; else they would stay in
    ``sending`` for good, since the crashed run is no longer found once this one started."""
    run_id, dead_runs = ledger.runs.start(pipeline, today)
    return run_id, ledger.outbox.mark_uncertain(dead_runs)


def record_pause(
    config: LoadedConfig,
    ledger: Ledger,
    target: Target,
    pause: Pause,
    today: date,
    send_confirmation: bool = True,
) -> Outcome:
    """Record ``pause`` and confirm it in writing. The pipeline's run lock is held meanwhile."""
    name = target.pipeline.name
    run_id, uncertain = _start_run(ledger, name, today)
    status = "failed"
    try:
        stored = ledger.pauses.add(name, pause)
        text, failed = confirm_pause(
            config, ledger, target, stored, ConfirmationEvent.SET, today, run_id, send_confirmation
        )
        status = "partial" if failed else "completed"
        return Outcome(stored, text, failed, uncertain)
    finally:
        ledger.outbox.mark_uncertain([run_id])
        ledger.runs.finish(run_id, status, {"pause": pause.kind.value})


def end_pause(
    config: LoadedConfig,
    ledger: Ledger,
    pipeline: LoadedPipeline,
    pause_id: int,
    status: PauseStatus,
    reason: str,
    by: str,
    today: date,
    send_confirmation: bool = True,
) -> Outcome:
    """Lift a pause (or resolve a dispute) by hand and confirm it in writing."""
    name = pipeline.name
    pause = ledger.pauses.get(name, pause_id)
    if pause is None:
        raise UsageError(f"no pause #{pause_id} in pipeline {name!r}; see `dunning pauses`")
    if pause.status is not PauseStatus.ACTIVE:
        raise UsageError(f"pause #{pause_id} already ended ({pause.status.value})")
    if status is PauseStatus.RESOLVED and pause.kind is not PauseKind.DISPUTE:
        raise UsageError(
            f"pause #{pause_id} is a {pause.kind.value}, not a dispute; use `dunning lift`"
        )
    if status is PauseStatus.LIFTED and pause.kind is PauseKind.DISPUTE:
        raise UsageError(f"pause #{pause_id} is a dispute; end it with `dunning resolve`")
    run_id, uncertain = _start_run(ledger, name, today)
    run_status = "failed"
    try:
        ledger.pauses.close(name, pause_id, status, today, by, reason)
        ended = ledger.pauses.get(name, pause_id)
        assert ended is not None
        invoices = tuple(
            i
            for i in ledger.invoices.open_of_debtor(name, pause.debtor_id)
            if pause.covers(i.number)
        )
        target = Target(pipeline, pause.debtor_id, invoices, not pause.invoice_numbers)
        event = (
            ConfirmationEvent.RESOLVED
            if status is PauseStatus.RESOLVED
            else ConfirmationEvent.LIFTED
        )
        text, failed = confirm_pause(
            config,
            ledger,
            target,
            ended,
            event,
            today,
            run_id,
            send_confirmation,
        )
        run_status = "partial" if failed else "completed"
        return Outcome(ended, text, failed, uncertain)
    finally:
        ledger.outbox.mark_uncertain([run_id])
        ledger.runs.finish(run_id, run_status, {"pause_ended": pause_id})


def review_pauses(ledger: Ledger, pipeline: str, today: date) -> list[str]:
    """Close active pauses whose agreement was kept or broken, or whose date passed.

    Returns one line per change for the run summary."""
    changes = []
    for pause in ledger.pauses.active(pipeline):
        if pause.invoice_numbers:
            current = ledger.invoices.get(pipeline, pause.invoice_numbers)
            open_now = sum(
                (
                    inv.amount_open
                    for inv, in_source in current.values()
                    if in_source and inv.is_dunnable
                ),
                Decimal(0),
            )
        else:
            open_now = Decimal(1)
        effect = evaluate(pause, today, open_now)
        if effect.status is PauseStatus.ACTIVE:
            continue
        what = {
            PauseStatus.KEPT: "kept: everything it covered is paid",
            PauseStatus.BROKEN: "broken: the payment did not arrive in time",
            PauseStatus.LIFTED: f"ended on its date {pause.until}",
        }.get(effect.status, effect.status.value)
        ended_on = effect.ended_on or today
        if ledger.pauses.close(pipeline, pause.id, effect.status, ended_on, ENGINE, what):
            changes.append(f"{pause.kind.value} #{pause.id} of debtor {pause.debtor_id} {what}")
    return changes
