"""The escalation policy: which invoice reaches which step today, and why. A pure function.

Rules (v1):

* Steps are ordered. A step is due ``after_due`` days after the invoice's due date, or
  ``after_previous`` days after the previous step (the day it was sent, or, for a step that was
  never sent, the day it would have been due).
* An invoice never gets a step twice, and never goes back down the ladder.
* After a missed run (or on the first run over old data) only the *latest* due step is planned;
  the steps it jumps over are named in the reason, not sent in a burst.
* A step is only planned when the open amount is at least its ``min_open_amount``.
* Credit notes and invoices with nothing open are never planned (the caller passes only
  dunnable invoices; this module checks again).
* One message per debtor per channel per day: invoices of the same debtor due for steps on the
  same channel are combined; the message takes the most severe step and its template.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dunning.core.models import (
    Debtor,
    Invoice,
    Plan,
    PlannedItem,
    PlannedMessage,
    SkippedItem,
    StepHistory,
)


@dataclass(frozen=True, slots=True)
class Step:
    """The policy's view of a configured step."""

    name: str
    channel: str
    template: str
    after_due: int | None = None
    after_previous: int | None = None
    min_open_amount: Decimal = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Decision:
    """For one invoice: the step to plan today (``index``), or why not (``reason``)."""

    index: int | None
    reason: str


def step_dates(
    steps: Sequence[Step], invoice: Invoice, history: Sequence[StepHistory]
) -> tuple[int, list[date | None]]:
    """Index of the last step the invoice had (-1: none) and the due date of every later step.

    Entries up to and including the last step taken are ``None``.
    """
    index_of = {step.name: i for i, step in enumerate(steps)}
    last, last_day = -1, None
    for entry in history:
        i = index_of.get(entry.step)
        if i is not None and i >= last:
            last, last_day = i, entry.planned_for
    dates: list[date | None] = [None] * len(steps)
    previous = last_day
    for i in range(last + 1, len(steps)):
        step = steps[i]
        if step.after_due is not None:
            day = invoice.due_date + timedelta(days=step.after_due)
        else:
            base = previous if previous is not None else invoice.due_date
            day = base + timedelta(days=step.after_previous or 0)
        dates[i] = day
        previous = day
    return last, dates


def decide(
    steps: Sequence[Step], invoice: Invoice, history: Sequence[StepHistory], today: date
) -> Decision:
    """Which step (if any) the invoice should get today."""
    if not invoice.is_dunnable:
        what = "a credit note" if invoice.is_credit_note or invoice.amount_total <= 0 else "paid"
        return Decision(None, f"not dunned: {what}")
    last, dates = step_dates(steps, invoice, history)
    if last == len(steps) - 1:
        return Decision(None, f"ladder finished: last step {steps[last].name!r} already taken")
    due = [i for i in range(last + 1, len(steps)) if (d := dates[i]) is not None and d <= today]
    eligible = [i for i in due if invoice.amount_open >= steps[i].min_open_amount]
    if not eligible:
        if due:
            step = steps[due[-1]]
            return Decision(
                None,
                f"open amount {invoice.amount_open} is below {step.name!r}'s minimum "
                f"{step.min_open_amount}",
            )
        next_day = dates[last + 1]
        return Decision(None, f"next step {steps[last + 1].name!r} on {next_day}")
    chosen = eligible[-1]
    overdue = invoice.days_overdue(today)
    when = f"{overdue} days after the due date" if overdue >= 0 else f"{-overdue} days before due"
    reason = f"{when}; {steps[chosen].name!r} due since {dates[chosen]}"
    jumped = [steps[i].name for i in range(last + 1, chosen)]
    if jumped:
        reason += f" (catching up: not sending earlier steps {', '.join(jumped)})"
    return Decision(chosen, reason)


def plan_due_actions(
    pipeline: str,
    steps: Sequence[Step],
    today: date,
    invoices: Iterable[Invoice],
    debtors: Mapping[str, Debtor],
    history: Mapping[str, Sequence[StepHistory]],
    contacted_today: Collection[tuple[str, str]] = (),
) -> Plan:
    """Plan today's messages for ``invoices`` given what the ledger remembers.

    ``contacted_today`` holds (debtor, channel) pairs that already have a message today; their
    items wait for another day. The result's messages are ordered by debtor id.
    """
    plan = Plan()
    grouped: dict[tuple[str, str], list[PlannedItem]] = defaultdict(list)
    for invoice in invoices:
        decision = decide(steps, invoice, history.get(invoice.number, ()), today)
        if decision.index is None:
            plan.skipped.append(SkippedItem(invoice.number, invoice.debtor_id, decision.reason))
            continue
        step = steps[decision.index]
        if invoice.debtor_id not in debtors:
            plan.skipped.append(
                SkippedItem(invoice.number, invoice.debtor_id, "debtor unknown to the ledger")
            )
            continue
        if (invoice.debtor_id, step.channel) in contacted_today:
            plan.skipped.append(
                SkippedItem(
                    invoice.number,
                    invoice.debtor_id,
                    f"debtor already has a message on channel {step.channel!r} today; "
                    "waits for tomorrow",
                )
            )
            continue
        grouped[(invoice.debtor_id, step.channel)].append(
            PlannedItem(invoice, step.name, decision.index, decision.reason)
        )
    for (debtor_id, channel), items in sorted(grouped.items()):
        items.sort(key=lambda item: (item.invoice.due_date, item.invoice.number))
        severest = steps[max(item.step_index for item in items)]
        plan.messages.append(
            PlannedMessage(
                pipeline=pipeline,
                debtor=debtors[debtor_id],
                channel=channel,
                step=severest.name,
                template=severest.template,
                planned_for=today,
                items=tuple(items),
            )
        )
    return plan
