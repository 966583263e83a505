"""``dunning plan --diff``: what a changed ladder in ``pipelines.yaml`` does to open cases.

Compares, for every open invoice, the next step and its day under the ladder of the last run
(recorded in the ledger) and under the ladder as configured now, with removed steps mapped to
the next step that still exists. The next step is found as a run would find it: steps whose
conditions do not hold are passed over, days move past the time the ladder stood still for a
pause and, with ``business_days_only``, to the next business day; while a pause holds the day
is not known yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import groupby
from typing import Any

from dunning.core.calendar import BusinessCalendar
from dunning.core.config import LoadedPipeline
from dunning.core.ledger import Ledger
from dunning.core.models import Invoice, Pause, StepHistory
from dunning.core.planning import segments
from dunning.core.policy import DebtorFacts, Step, position, step_dates
from dunning.core.policy.build import (
    ladder_snapshot,
    policy_rules,
    policy_steps,
    step_aliases,
    steps_from_snapshot,
)
from dunning.core.policy.conditions import why_not
from dunning.core.policy.pauses import PauseEffect, evaluate, paused_days


@dataclass(frozen=True, slots=True)
class CaseChange:
    invoice: str
    debtor_id: str
    last_step: str | None
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class LadderDiff:
    changed: bool
    """False when the configured ladder equals the last run's (or nothing ran yet)."""
    removed: tuple[str, ...]
    added: tuple[str, ...]
    cases: tuple[CaseChange, ...]
    open_cases: int


def _next_step(
    steps: Sequence[Step],
    invoice: Invoice,
    history: Sequence[StepHistory],
    aliases: Mapping[str, int],
    calendar: BusinessCalendar,
    today: date,
    facts: DebtorFacts | None,
    effects: Sequence[PauseEffect],
    business_days_only: bool,
) -> tuple[str | None, str]:
    where = position(steps, history, aliases)
    since = where.last_day or invoice.issue_date
    shift = paused_days(effects, since) if effects else 0
    dates = step_dates(steps, invoice, where, calendar, shift)
    for i in range(where.next_index, len(steps)):
        step, day = steps[i], dates[i]
        if day is None or (step.before_due is not None and today >= invoice.due_date):
            continue
        if facts is not None and why_not(step, invoice, facts) is not None:
            continue
        if any(effect.holds for effect in effects):
            return where.last_step, f"{step.name} once the pause ends"
        day = max(day, today)
        if business_days_only:
            day = calendar.next_business_day(day)
        return where.last_step, f"{step.name} on {day}"
    return where.last_step, "ladder finished"


def _effects(
    pauses: Sequence[Pause], own: Sequence[Invoice], today: date
) -> dict[str, list[PauseEffect]]:
    """Per invoice number of one debtor, the pauses that cover it, as they stand today."""
    open_of = {i.number: i.amount_open for i in own}
    result: dict[str, list[PauseEffect]] = {}
    for pause in pauses:
        numbers = pause.invoice_numbers or tuple(open_of)
        open_now = sum((open_of.get(n, Decimal(0)) for n in numbers), Decimal(0))
        effect = evaluate(pause, today, open_now)
        for number in open_of:
            if pause.covers(number):
                result.setdefault(number, []).append(effect)
    return result


def ladder_diff(ledger: Ledger, pipeline: LoadedPipeline, today: date) -> LadderDiff:
    name = pipeline.name
    versions = ledger.ladders.versions(name)
    current_snapshot: list[dict[str, Any]] = ladder_snapshot(pipeline)
    if not versions or versions[-1] == current_snapshot:
        return LadderDiff(False, (), (), (), 0)
    old_steps = steps_from_snapshot(versions[-1], pipeline)
    new_steps = policy_steps(pipeline)
    recorded = [[s["name"] for s in version] for version in versions]
    old_aliases = step_aliases([s.name for s in old_steps], recorded[:-1])
    new_aliases = step_aliases([s.name for s in new_steps], recorded)
    rules = policy_rules(pipeline.config)
    history = ledger.outbox.history(name)
    debtors = ledger.invoices.debtors(name)
    segment_of = segments(ledger, pipeline)
    pauses = ledger.pauses.by_debtor(name)
    cases: list[CaseChange] = []
    count = 0
    for debtor_id, group in groupby(ledger.invoices.dunnable(name), key=lambda i: i.debtor_id):
        own = list(group)
        count += len(own)
        debtor = debtors.get(debtor_id)
        calendar = rules.calendar(debtor.country if debtor else None)
        facts = None
        if debtor is not None:
            open_total = sum((i.amount_open for i in own), Decimal(0))
            facts = DebtorFacts(debtor, segment_of.get(debtor_id, "new"), open_total, len(own))
        effects = _effects(pauses.get(debtor_id, ()), own, today)
        for invoice in own:
            past = history.get(invoice.number, ())
            covering = effects.get(invoice.number, ())
            last, before = _next_step(
                old_steps, invoice, past, old_aliases, calendar, today, facts, covering,
                rules.business_days_only,
            )  # fmt: skip
            _, after = _next_step(
                new_steps, invoice, past, new_aliases, calendar, today, facts, covering,
                rules.business_days_only,
            )  # fmt: skip
            if before != after:
                cases.append(CaseChange(invoice.number, debtor_id, last, before, after))
    old_names = [s.name for s in old_steps]
    new_names = [s.name for s in new_steps]
    return LadderDiff(
        True,
        tuple(n for n in old_names if n not in new_names),
        tuple(n for n in new_names if n not in old_names),
        tuple(cases),
        count,
    )
