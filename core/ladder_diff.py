"""``dunning plan --diff``: what a changed ladder in ``pipelines.yaml`` does to open cases.

Compares, for every open invoice, the next step and its day under the ladder of the last run
(recorded in the ledger) and under the ladder as configured now, with removed steps mapped to
the next step that still exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from dunning.core.calendar import BusinessCalendar
from dunning.core.config import LoadedPipeline
from dunning.core.ledger import Ledger
from dunning.core.models import Invoice, StepHistory
from dunning.core.policy import Step, position, step_dates
from dunning.core.policy.build import (
    ladder_snapshot,
    policy_rules,
    policy_steps,
    step_aliases,
    steps_from_snapshot,
)


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
) -> tuple[str | None, str]:
    where = position(steps, history, aliases)
    dates = step_dates(steps, invoice, where, calendar)
    for i in range(where.next_index, len(steps)):
        day = dates[i]
        if steps[i].before_due is not None and today >= invoice.due_date:
            continue
        if day is not None:
            return where.last_step, f"{steps[i].name} on {max(day, today)}"
    return where.last_step, "ladder finished"


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
    cases: list[CaseChange] = []
    count = 0
    for invoice in ledger.invoices.dunnable(name):
        count += 1
        debtor = debtors.get(invoice.debtor_id)
        calendar = rules.calendar(debtor.country if debtor else None)
        past = history.get(invoice.number, ())
        last, before = _next_step(old_steps, invoice, past, old_aliases, calendar, today)
        _, after = _next_step(new_steps, invoice, past, new_aliases, calendar, today)
        if before != after:
            cases.append(CaseChange(invoice.number, invoice.debtor_id, last, before, after))
    old_names = [s.name for s in old_steps]
    new_names = [s.name for s in new_steps]
    return LadderDiff(
        True,
        tuple(n for n in old_names if n not in new_names),
        tuple(n for n in new_names if n not in old_names),
        tuple(cases),
        count,
    )
