"""One invoice on the ladder: where it stands, when its next steps are due, which step today.

Rules:

* Steps are ordered. A step is due ``before_due`` days before or ``after_due`` days after the
  invoice's due date, or ``after_previous`` days after the previous step (the day it went out,
  or, for a step that never went out, the day it would have been due). Delays count calendar or
  business days (``delays_in``).
* An invoice never gets a step twice and never goes back down the ladder. A ``before_due`` step
  lapses on the due date.
* After a missed run (or on the first run over old data) only the *latest* due step is planned;
  the steps it jumps over are named in the reason, not sent in a burst.
* A step whose conditions do not hold is skipped; the ladder continues with the steps after it.
* A pause (promise, arrangement, dispute, manual) stops the ladder while it holds. When it ends,
  every later step moves by the days the ladder stood still and the first due step goes out (not
  the latest), so the ladder resumes where it was instead of jumping; after a broken promise or
  missed instalment the next step carries a :class:`~dunning.core.models.ResumeNote`.
* Steps removed from ``pipelines.yaml`` are mapped through ``aliases`` (removed step name ->
  index of the next step that still exists), so their cases continue there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from dunning.core.calendar import BusinessCalendar
from dunning.core.models import Invoice, ResumeNote, StepHistory
from dunning.core.policy.conditions import DebtorFacts, why_not
from dunning.core.policy.pauses import PauseEffect, describe, paused_days
from dunning.core.policy.steps import Step

DateCache = dict[tuple[object, ...], list[date | None]]


@dataclass(frozen=True, slots=True)
class Decision:
    """For one invoice: the step to plan today (``index``), or why not (``reason``)."""

    index: int | None
    reason: str
    resume_note: ResumeNote | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """Where an invoice stands: the first step not yet taken, and the day of the last one."""

    next_index: int
    last_day: date | None
    last_step: str | None


START = Position(0, None, None)


def step_ranks(steps: Sequence[Step], aliases: Mapping[str, int] | None = None) -> dict[str, int]:
    """Step name -> index of the step that comes after it; removed steps through ``aliases``
    (see :func:`~dunning.core.policy.build.step_aliases`)."""
    return {step.name: i + 1 for i, step in enumerate(steps)} | dict(aliases or {})


def position(
    steps: Sequence[Step],
    history: Sequence[StepHistory],
    aliases: Mapping[str, int] | None = None,
) -> Position:
    """Where an invoice stands after the steps of ``history`` (the furthest one counts)."""
    if not history:
        return START
    ranks = step_ranks(steps, aliases)
    best = START
    for entry in history:
        following = ranks.get(entry.step)
        if following is not None and following >= best.next_index and following > 0:
            best = Position(following, entry.planned_for, entry.step)
    return best


def position_after(latest: tuple[str, date] | None, ranks: Mapping[str, int]) -> Position | None:
    """The position after an invoice's latest step as the ledger keeps it on the invoice:
    ``START`` without one, ``None`` when that step is in no ladder ``ranks`` knows."""
    if latest is None:
        return START
    following = ranks.get(latest[0])
    return None if following is None else Position(following, latest[1], latest[0])


def cached_step_dates(
    steps: Sequence[Step],
    due_date: date,
    where: Position,
    calendar: BusinessCalendar | None,
    shift: int,
    cache: DateCache | None,
) -> list[date | None]:
    """:func:`step_dates`, remembered in ``cache``: invoices due the same day at the same place
    on the ladder share their dates (most of a portfolio)."""
    key = (due_date, where.next_index, where.last_day, shift, calendar)
    dates = cache.get(key) if cache is not None else None
    if dates is None:
        dates = step_dates(steps, due_date, where, calendar, shift)
        if cache is not None:
            cache[key] = dates
    return dates


def _shifted(day: date, count: int, step: Step, calendar: BusinessCalendar | None) -> date:
    if step.delays_in == "business" and calendar is not None:
        return calendar.add_business_days(day, count)
    return day + timedelta(days=count)


def step_dates(
    steps: Sequence[Step],
    invoice: Invoice | date,
    where: Position,
    calendar: BusinessCalendar | None = None,
    shift: int = 0,
) -> list[date | None]:
    """The due day of every step from ``where.next_index`` on (earlier entries are ``None``).

    ``shift`` (days the ladder stood still) moves every one of them."""
    due_date = invoice if isinstance(invoice, date) else invoice.due_date
    dates: list[date | None] = [None] * len(steps)
    previous = where.last_day
    for i in range(where.next_index, len(steps)):
        step = steps[i]
        if step.before_due is not None:
            day = _shifted(due_date, -step.before_due, step, calendar)
        elif step.after_due is not None:
            day = _shifted(due_date, step.after_due, step, calendar)
        else:
            base = previous if previous is not None else due_date
            day = _shifted(base, step.after_previous or 0, step, calendar)
        dates[i] = day + timedelta(days=shift)
        previous = day
    return dates


def days_text(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _problem(step: Step, invoice: Invoice, facts: DebtorFacts | None) -> str | None:
    """Why ``step`` does not apply to ``invoice`` (``None``: it does)."""
    if facts is not None:
        return why_not(step, invoice, facts)
    if invoice.amount_open < step.min_open_amount:
        return f"open amount {invoice.amount_open} is below the minimum {step.min_open_amount}"
    return None


def _lapsed(step: Step, invoice: Invoice, today: date) -> bool:
    return step.before_due is not None and today >= invoice.due_date


def decide(
    steps: Sequence[Step],
    invoice: Invoice,
    history: Sequence[StepHistory],
    today: date,
    *,
    calendar: BusinessCalendar | None = None,
    facts: DebtorFacts | None = None,
    effects: Sequence[PauseEffect] = (),
    aliases: Mapping[str, int] | None = None,
    cache: DateCache | None = None,
    explain: bool = True,
    where: Position | None = None,
) -> Decision:
    """Which step (if any) ``invoice`` should get today, and why.

    ``facts`` enables step conditions (without it only ``min_open_amount`` is checked);
    ``effects`` are the pauses that cover the invoice, evaluated for today. With ``explain``
    off, reasons for invoices that get nothing are left empty (planning a million invoices).
    ``where`` is the invoice's position when the caller already knows it (then ``history`` is
    not read).
    """
    if not invoice.is_dunnable:
        what = "a credit note" if invoice.is_credit_note or invoice.amount_total <= 0 else "paid"
        return Decision(None, f"not dunned: {what}")
    for effect in effects:
        if effect.holds:
            return Decision(None, describe(effect) if explain else "")
    if where is None:
        where = position(steps, history, aliases)
    if where.next_index >= len(steps):
        return Decision(
            None, f"ladder finished: last step {where.last_step!r} already taken" if explain else ""
        )
    since = where.last_day or invoice.issue_date
    shift = paused_days(effects, since) if effects else 0
    dates = cached_step_dates(steps, invoice.due_date, where, calendar, shift, cache)
    first = dates[where.next_index]
    if first is not None and first > today:
        if not explain:
            return Decision(None, "")
        return Decision(None, f"next step {steps[where.next_index].name!r} on {first}")
    due = [
        i
        for i in range(where.next_index, len(steps))
        if (d := dates[i]) is not None and d <= today and not _lapsed(steps[i], invoice, today)
    ]

    skipped: list[str] = []
    chosen = None
    # After a missed run the latest due step goes out (catch-up); after a pause the ladder
    # resumes at the next step instead, also when the calendar held that step back.
    for i in due if shift else reversed(due):
        problem = _problem(steps[i], invoice, facts)
        if problem is None:
            chosen = i
            break
        skipped.append(f"{steps[i].name!r} skipped: {problem}")
    if chosen is None:
        if not explain:
            return Decision(None, "")
        upcoming = next(
            (
                i
                for i in range(where.next_index, len(steps))
                if (d := dates[i]) is not None
                and d > today
                and not _lapsed(steps[i], invoice, today)
            ),
            None,
        )
        parts = list(reversed(skipped))
        if upcoming is not None:
            parts.append(f"next step {steps[upcoming].name!r} on {dates[upcoming]}")
        elif not parts:
            parts.append("no step left that can still go out")
        return Decision(None, "; ".join(parts))
    note = None
    for effect in effects:
        if (
            effect.note is not None
            and effect.ended_on is not None
            and (where.last_day is None or effect.ended_on > where.last_day)
        ):
            note = effect.note
    reason = ""
    if explain:
        overdue = invoice.days_overdue(today)
        days = abs(overdue)
        unit = "day" if days == 1 else "days"
        when = f"{days} {unit} after the due date" if overdue >= 0 else f"{days} {unit} before due"
        reason = f"{when}; {steps[chosen].name!r} due since {dates[chosen]}"
        jumped = []
        for i in (i for i in due if i < chosen):
            problem = _problem(steps[i], invoice, facts)
            if problem is None:
                jumped.append(steps[i].name)
            else:
                skipped.append(f"{steps[i].name!r} skipped: {problem}")
        if jumped:
            reason += f" (catching up: not sending earlier steps {', '.join(jumped)})"
        if skipped:
            reason += f" ({'; '.join(reversed(skipped))})"
        if shift:
            reason += f" (ladder moved {days_text(shift)} for a pause)"
        if note is not None:
            reason += f" (resumes after a broken {note.kind.value})"
    return Decision(chosen, reason, note)
