"""Recording what came of a call, and what that does to the ladder.

One function serves ``dunning call done`` and the web desk, so both do exactly the same:

===============  =====================================================================
outcome          effect
===============  =====================================================================
paid             payment recorded on the task's invoices (oldest first), written back
promise          promise pause until the date + grace; written confirmation
arrangement      arrangement pause with its instalments; written confirmation
in-post          ladder waits; new call ``calls.in_post_days`` business days later
in-approval      ladder waits; new call on the follow-up date
contact-absent   ladder waits; new call on the back-on date, to management (or flagged)
                 once the payer was absent ``calls.escalate_absent_after`` times
callback         ladder waits; new call at the date and time we proposed
dispute          dispute pause (no escalation), the task flagged for a person
no-answer        new call after ``calls.retry.no_answer`` until the attempts are used
wrong-number     as no-answer, per ``calls.retry.wrong_number``, flagged to check the number
===============  =====================================================================

The task is marked done first (a task is done once, even if two people record at the same
time), then the effects follow under the pipeline's run lock, and what they did is kept on
the task (``effect``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from dunning.core.agreements import (
    Target,
    check_instalments,
    check_money,
    confirm_pause,
    new_pause,
)
from dunning.core.calls.model import CallOutcome, CallTask, TaskStatus
from dunning.core.calls.tasks import follow_up
from dunning.core.config import LoadedConfig, LoadedPipeline
from dunning.core.errors import DunningError, UsageError
from dunning.core.ledger import Ledger
from dunning.core.models import (
    ConfirmationEvent,
    Debtor,
    Instalment,
    Invoice,
    Pause,
    PauseKind,
    Payment,
)
from dunning.core.policy.build import policy_rules
from dunning.core.runner import make_source
from dunning.core.writeback import write_back_payments

SPOKEN = {
    CallOutcome.PROMISE,
    CallOutcome.ARRANGEMENT,
    CallOutcome.IN_POST,
    CallOutcome.IN_APPROVAL,
    CallOutcome.CONTACT_ABSENT,
    CallOutcome.CALLBACK,
    CallOutcome.DISPUTE,
}
"""Outcomes of a conversation: the name of the person spoken to is required."""
WAITS = {
    CallOutcome.IN_POST,
    CallOutcome.IN_APPROVAL,
    CallOutcome.CONTACT_ABSENT,
    CallOutcome.CALLBACK,
}
"""Outcomes after which the ladder waits for the next call."""
CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
CALL_ORIGIN = "call"


@dataclass(frozen=True, slots=True)
class OutcomeInput:
    """What the credit controller records. ``on`` is the outcome's day: the promised payment
    day, the follow-up day, the day the payer is back, the callback day, or the day the
    payment was said to be sent (in-post)."""

    outcome: CallOutcome
    by: str
    spoken_to: str | None = None
    note: str | None = None
    on: date | None = None
    at: str | None = None
    amount: Decimal | None = None
    paid_on: date | None = None
    reference: str | None = None
    instalments: tuple[Instalment, ...] = ()
    grace: int | None = None
    confirm: bool = True


@dataclass
class OutcomeResult:
    task: CallTask
    effects: list[str] = field(default_factory=list)
    follow_up: CallTask | None = None
    pause: Pause | None = None
    failed: bool = False
    """Something the outcome asked for did not fully happen (confirmation not sent, payment not
    written back): said in ``effects``; the outcome itself is recorded."""


def find_task(
    config: LoadedConfig, ledger: Ledger, task_id: int
) -> tuple[CallTask, LoadedPipeline]:
    task = ledger.calls.find(task_id)
    if task is None or task.pipeline not in config.pipelines:
        raise UsageError(f"no call task #{task_id}; see `dunning calls`")
    return task, config.pipeline(task.pipeline)


def _details(given: OutcomeInput) -> dict[str, str]:
    facts = {
        "on": given.on.isoformat() if given.on else None,
        "at": given.at,
        "amount": f"{given.amount:.2f}" if given.amount is not None else None,
        "paid_on": given.paid_on.isoformat() if given.paid_on else None,
        "reference": given.reference,
        "instalments": ", ".join(f"{i.due_on}={i.amount:.2f}" for i in given.instalments) or None,
    }
    return {k: v for k, v in facts.items() if v}


def _validate(given: OutcomeInput, task: CallTask, invoices: list[Invoice], today: date) -> None:
    outcome = given.outcome
    if task.status is not TaskStatus.OPEN:
        what = f"{task.outcome.value} " if task.outcome else ""
        raise UsageError(
            f"call task #{task.id} is already {task.status.value} ({what}"
            f"{task.effect or ''}); nothing recorded"
        )
    if outcome in SPOKEN and not (given.spoken_to or "").strip():
        raise UsageError(
            f"{outcome.value}: give the name of the person you spoke to (--spoken-to NAME)"
        )
    needs_day = {
        CallOutcome.PROMISE: "the day the debtor will pay by",
        CallOutcome.IN_APPROVAL: "the day to call again",
        CallOutcome.CONTACT_ABSENT: "the day the payer is back",
        CallOutcome.CALLBACK: "the day we call back",
    }
    if outcome in needs_day and given.on is None:
        raise UsageError(f"{outcome.value} needs --on YYYY-MM-DD: {needs_day[outcome]}")
    if outcome in needs_day and given.on is not None and given.on < today:
        raise UsageError(f"--on {given.on} is before today ({today}); give a day from today on")
    if outcome is CallOutcome.CALLBACK and not (given.at and CLOCK.match(given.at)):
        raise UsageError("callback needs --at HH:MM, the time we proposed to call back")
    if outcome is CallOutcome.IN_POST and given.on is not None and given.on > today:
        raise UsageError(f"in-post: --on {given.on} is in the future; give the day it was sent")
    needs_open = (
        CallOutcome.PAID,
        CallOutcome.PROMISE,
        CallOutcome.ARRANGEMENT,
        CallOutcome.DISPUTE,
    )
    if outcome in needs_open and not invoices:
        raise UsageError(
            f"call task #{task.id}: nothing it is about is open any more; record "
            "no-answer or the like, or leave it (the next run cancels it)"
        )
    if outcome is CallOutcome.ARRANGEMENT:
        check_instalments(given.instalments, sum((i.amount_open for i in invoices), Decimal(0)),
                          today)  # fmt: skip
    if outcome is CallOutcome.PAID:
        open_total = sum((i.amount_open for i in invoices), Decimal(0))
        if given.amount is not None and not check_money(given.amount):
            raise UsageError(f"--amount {given.amount}: give an amount above zero, like 125.50")
        if given.amount is not None and given.amount > open_total:
            raise UsageError(
                f"--amount {given.amount:.2f} is more than the {open_total:.2f} open on the "
                "call's invoices; record an overpayment in the accounting platform"
            )
        if given.paid_on is not None and given.paid_on > today:
            raise UsageError(f"--paid-on {given.paid_on} is in the future")


def record_outcome(
    config: LoadedConfig,
    ledger: Ledger,
    task_id: int,
    given: OutcomeInput,
    today: date,
) -> OutcomeResult:
    """Record ``given`` on call task ``task_id`` and apply its effect (see module doc).

    Raises :class:`UsageError` (nothing recorded) when the task is unknown or not open, or the
    input does not fit the outcome."""
    task, pipeline = find_task(config, ledger, task_id)
    name = pipeline.name
    debtor = ledger.invoices.debtor(name, task.debtor_id)
    if debtor is None:
        raise UsageError(f"call task #{task_id}: debtor {task.debtor_id} is not in the ledger")
    invoices = [
        i
        for i in ledger.invoices.open_of_debtor(name, task.debtor_id)
        if i.number in task.invoice_numbers
    ]
    _validate(given, task, invoices, today)
    run_id, dead = ledger.runs.start(name, today)
    ledger.outbox.mark_uncertain(dead)
    status = "failed"
    try:
        if not ledger.calls.complete(
            name,
            task.id,
            given.outcome,
            spoken_to=(given.spoken_to or "").strip() or None,
            details=_details(given),
            note=given.note,
            by=given.by,
        ):
            raise UsageError(f"call task #{task.id} was completed meanwhile; nothing recorded")
        done = ledger.calls.get(name, task.id)
        assert done is not None
        result = OutcomeResult(done)
        _apply(config, ledger, pipeline, done, debtor, tuple(invoices), given, today, run_id,
               result)  # fmt: skip
        ledger.calls.set_effect(name, task.id, "; ".join(result.effects))
        result.task = ledger.calls.get(name, task.id) or done
        status = "partial" if result.failed else "completed"
        return result
    finally:
        ledger.outbox.mark_uncertain([run_id])
        ledger.runs.finish(run_id, status, {"call_task": task.id, "outcome": given.outcome.value})


def _reason(task: CallTask, given: OutcomeInput) -> str:
    who = f" with {given.spoken_to}" if given.spoken_to else ""
    note = f": {given.note}" if given.note else ""
    return f"call #{task.id}{who}, {given.outcome.value}{note}"


def _pause(
    config: LoadedConfig,
    ledger: Ledger,
    target: Target,
    pause: Pause,
    today: date,
    run_id: int,
    confirm: bool,
    result: OutcomeResult,
) -> None:
    stored = ledger.pauses.add(target.pipeline.name, pause)
    result.pause = stored
    until = f" until {stored.until}" if stored.until else ""
    grace = f" (+{stored.grace_days} days grace)" if stored.grace_days else ""
    result.effects.append(f"ladder paused: {stored.kind.value} #{stored.id}{until}{grace}")
    if not confirm:
        return
    text, failed = confirm_pause(
        config, ledger, target, stored, ConfirmationEvent.SET, today, run_id, True
    )
    result.effects.append(text)
    result.failed |= failed


def _apply(
    config: LoadedConfig,
    ledger: Ledger,
    pipeline: LoadedPipeline,
    task: CallTask,
    debtor: Debtor,
    invoices: tuple[Invoice, ...],
    given: OutcomeInput,
    today: date,
    run_id: int,
    result: OutcomeResult,
) -> None:
    name, outcome, settings = pipeline.name, given.outcome, pipeline.config.calls
    calendar = policy_rules(pipeline.config).calendar(debtor.country)
    target = Target(pipeline, debtor.debtor_id, invoices, False)
    reason = _reason(task, given)
    pauses = pipeline.config.pauses
    if not invoices:  # paid, closed or handed over since the task was made: no next call
        result.effects.append("nothing it is about is open any more: no next call")
        return
    if outcome is CallOutcome.PAID:
        _paid(config, ledger, pipeline, task, invoices, given, today, result)
    elif outcome is CallOutcome.PROMISE:
        grace = pauses.promise_grace_days if given.grace is None else given.grace
        pause = new_pause(target, PauseKind.PROMISE, today, reason, given.by, given.on, grace)
        _pause(config, ledger, target, pause, today, run_id, given.confirm, result)
    elif outcome is CallOutcome.ARRANGEMENT:
        grace = pauses.arrangement_grace_days if given.grace is None else given.grace
        pause = new_pause(
            target, PauseKind.ARRANGEMENT, today, reason, given.by, None, grace, given.instalments
        )
        _pause(config, ledger, target, pause, today, run_id, given.confirm, result)
    elif outcome is CallOutcome.DISPUTE:
        pause = new_pause(target, PauseKind.DISPUTE, today, reason, given.by)
        _pause(config, ledger, target, pause, today, run_id, given.confirm, result)
        flag = "dispute: a person must look into it"
        if result.pause is not None:
            flag += f", then `dunning resolve {result.pause.id}`"
        ledger.calls.set_flag(name, task.id, flag)
        result.effects.append("flagged for a person")
    elif outcome in WAITS:
        if outcome is CallOutcome.IN_POST:
            due = calendar.add_business_days(today, settings.in_post_days)
            why = "payment said to be in the post"
            sent = f" on {given.on}" if given.on else ""
            points = (
                f"Said to be sent{sent}"
                + (f", {given.amount:.2f}" if given.amount is not None else "")
                + (f", reference {given.reference}" if given.reference else "")
                + "; check whether it arrived before calling.",
            )
        elif outcome is CallOutcome.IN_APPROVAL:
            assert given.on is not None
            due, why = given.on, "invoice in the debtor's approval flow"
            points = ("Invoice was in their approval flow; ask whether the payment run started.",)
        elif outcome is CallOutcome.CONTACT_ABSENT:
            assert given.on is not None
            due, why = given.on, "the payer was away"
            points = (f"{given.spoken_to} said the payer is back on {given.on}.",)
        else:
            assert given.on is not None
            due, why = given.on, f"callback agreed for {given.on} {given.at}"
            points = (f"We agreed with {given.spoken_to} to call back at {given.at}.",)
        if target.invoices:
            pause = new_pause(target, PauseKind.MANUAL, today, reason, given.by, due)
            stored = ledger.pauses.add(name, pause)
            result.pause = stored
            result.effects.append(f"ladder waits for the next call: pause #{stored.id} until {due}")
        _follow(ledger, pipeline, task, debtor, due, why, result, points=points,
                due_time=given.at if outcome is CallOutcome.CALLBACK else None)  # fmt: skip
    else:
        rule = (
            settings.retry.no_answer
            if outcome is CallOutcome.NO_ANSWER
            else settings.retry.wrong_number
        )
        what = "nobody answered" if outcome is CallOutcome.NO_ANSWER else "wrong number"
        if task.attempt >= rule.max_attempts:
            result.effects.append(
                f"{what}; no retry left ({task.attempt} of {rule.max_attempts} calls made): "
                "the ladder goes on"
            )
            if outcome is CallOutcome.WRONG_NUMBER:  # a person must find the right number
                flag = (
                    f"wrong number: {task.contact_phone or 'the number'} does not reach the "
                    "debtor; find the right one (and correct it in the source)"
                )
                _follow(ledger, pipeline, task, debtor, calendar.add_business_days(today, 1),
                        "find the right number after a wrong number", result,
                        attempt=task.attempt + 1, flag=flag)  # fmt: skip
            return
        due = calendar.add_business_days(today, rule.after_business_days)
        retry_flag = (
            f"check the number first: {task.contact_phone or 'the number'} was wrong"
            if outcome is CallOutcome.WRONG_NUMBER
            else None
        )
        _follow(ledger, pipeline, task, debtor, due,
                f"retry after {what} (call {task.attempt + 1} of {rule.max_attempts})", result,
                attempt=task.attempt + 1, flag=retry_flag)  # fmt: skip


def _follow(
    ledger: Ledger,
    pipeline: LoadedPipeline,
    task: CallTask,
    debtor: Debtor,
    due: date,
    why: str,
    result: OutcomeResult,
    *,
    points: tuple[str, ...] = (),
    due_time: str | None = None,
    attempt: int = 1,
    flag: str | None = None,
) -> None:
    nxt = follow_up(
        ledger, pipeline.name, pipeline.config, task, debtor, due, why,
        attempt=attempt, due_time=due_time, points=points, flag=flag,
    )  # fmt: skip
    result.follow_up = nxt
    at = f" at {nxt.due_time}" if nxt.due_time else ""
    whom = f" to {nxt.contact_name or nxt.contact_role}" if nxt.contact_role != "main" else ""
    result.effects.append(f"next call #{nxt.id} on {nxt.due_on}{at}{whom}")
    if nxt.flag:
        result.effects.append(f"flagged: {nxt.flag}")


def _paid(
    config: LoadedConfig,
    ledger: Ledger,
    pipeline: LoadedPipeline,
    task: CallTask,
    invoices: tuple[Invoice, ...],
    given: OutcomeInput,
    today: date,
    result: OutcomeResult,
) -> None:
    left = (
        given.amount
        if given.amount is not None
        else sum((i.amount_open for i in invoices), Decimal(0))
    )
    paid_on = given.paid_on or today
    for invoice in sorted(invoices, key=lambda i: (i.due_date, i.number)):
        if left <= 0:
            break
        part = min(left, invoice.amount_open)
        ledger.payments.record(
            pipeline.name,
            Payment(
                invoice.number,
                part,
                paid_on,
                origin=CALL_ORIGIN,
                reference=given.reference or f"call task #{task.id}",
            ),
        )
        left -= part
        result.effects.append(f"payment of {part:.2f} recorded on invoice {invoice.number}")
    try:
        source = make_source(config, pipeline, ledger)
        written, errors = write_back_payments(source, ledger, pipeline.name)
    except DunningError as error:
        written, errors = 0, [str(error)]
    if errors:
        result.failed = True
        result.effects.append(f"not yet written back (the next run retries): {errors[0]}")
    elif written:
        result.effects.append("written back to the source")
