"""Gather what the policy needs from the ledger and plan: today's steps, and thank-you notes.

The policy itself (:mod:`dunning.core.policy`) is pure; this module is the one place that reads
its inputs from the ledger (invoices, debtors, history, pauses, contacts, segments, old ladders).
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from dunning.core.config import LoadedPipeline
from dunning.core.fallback import choose_channels
from dunning.core.ledger import Ledger
from dunning.core.ledger.outbox import THANKS
from dunning.core.models import Debtor, Plan, PlannedItem, PlannedMessage
from dunning.core.policy import Step, plan_due_actions
from dunning.core.policy.build import policy_rules, policy_steps, step_aliases
from dunning.core.policy.ladder import DateCache
from dunning.core.policy.planner import NotDueYet, calendar_block, window_block
from dunning.core.segments import DebtorFigures, figures_from_totals

THANK_YOU_STEP = "thank-you"


def figures(
    ledger: Ledger, pipeline: LoadedPipeline, every_debtor: bool = True
) -> dict[str, DebtorFigures]:
    """Payment behaviour and segment of every debtor of the pipeline (or, without
    ``every_debtor``, of those with any history: the others are ``new``)."""
    name = pipeline.name
    return figures_from_totals(
        ledger.invoices.payment_totals(name),
        ledger.pauses.broken_counts(name),
        pipeline.config.segments,
        ledger.invoices.debtor_ids(name) if every_debtor else (),
    )


def segments(ledger: Ledger, pipeline: LoadedPipeline) -> dict[str, str]:
    """Segment per debtor with history, ``debtors:`` overrides applied (absent: ``new``)."""
    overrides = {k: o.segment for k, o in pipeline.config.debtors.items() if o.segment}
    computed = {k: f.segment for k, f in figures(ledger, pipeline, False).items()}
    return computed | overrides


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Planning holds millions of objects and makes no reference cycles; the cycle collector
    would walk them all again and again (a third of the plan's time at a million invoices)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def plan_pipeline(
    ledger: Ledger,
    pipeline: LoadedPipeline,
    today: date,
    *,
    now: datetime | None = None,
    explain: bool = True,
    steps: Sequence[Step] | None = None,
    config_dir: Path | None = None,
) -> Plan:
    """What the policy would send today, from the ledger as it stands (no sync, no writes).

    ``now`` (timezone-aware) enables the send-window check; ``steps`` replaces the configured
    ladder (``plan --diff`` plans with the ladder of the last run).
    """
    name = pipeline.name
    ladder = list(steps) if steps is not None else policy_steps(pipeline)
    recorded = [[s["name"] for s in version] for version in ledger.ladders.versions(name)]
    aliases = step_aliases([s.name for s in ladder], recorded)
    positions: dict[str, tuple[str, date]] = {}
    with no_cycle_collection():
        segment_of = segments(ledger, pipeline)
        debtors = ledger.invoices.debtors(name)
        rules = policy_rules(pipeline.config, now)
        pauses = ledger.pauses.by_debtor(name)
        cache: DateCache = {}
        not_due = NotDueYet(ladder, aliases, rules, debtors, pauses, today, cache)
        plan = plan_due_actions(
            pipeline=name,
            steps=ladder,
            today=today,
            invoices=ledger.invoices.dunnable(
                name, positions, None if explain or not not_due.usable else not_due
            ),
            debtors=debtors,
            history={},
            contacted_today=ledger.outbox.contacted(name, today),
            rules=rules,
            segments=segment_of,
            pauses=pauses,
            last_contact=ledger.invoices.last_contact_days(name),
            aliases=aliases,
            explain=explain,
            positions=positions,
            cache=cache,
        )
        plan.not_planned += not_due.count
        plan.messages[:] = choose_channels(
            plan.messages, ladder, pipeline, ledger, config_dir or Path.cwd()
        )
        agency = {n for n, c in pipeline.channels.items() if c.cls.hands_over}
        if agency:
            plan.messages[:] = [
                replace(m, hands_over=True) if m.channel in agency else m for m in plan.messages
            ]
        plan.messages.extend(plan_thanks(ledger, pipeline, today, segment_of, plan, now, debtors))
    return plan


def plan_thanks(
    ledger: Ledger,
    pipeline: LoadedPipeline,
    today: date,
    segment_of: dict[str, str],
    plan: Plan,
    now: datetime | None = None,
    debtors: Mapping[str, Debtor] | None = None,
) -> list[PlannedMessage]:
    """Thank-you messages for invoices paid on time (by their due date) in the last
    ``within_days`` by debtors of the configured segments; once per invoice. Never to a debtor
    who gets a reminder today or has an overdue invoice open, and only when a message may go
    out (business day, send window), like any other contact."""
    config = pipeline.config.thank_you
    if config is None:
        return []
    name = pipeline.name
    rules = policy_rules(pipeline.config, now)
    step = Step(THANK_YOU_STEP, config.channel, config.template, after_due=0,
                channel_kind=pipeline.channels[config.channel].cls.kind)  # fmt: skip
    since = today - timedelta(days=config.within_days)
    candidates = [
        invoice
        for invoice in ledger.invoices.paid_on_time_between(name, since, today)
        if invoice.paid_on is not None
        and invoice.paid_on <= invoice.due_date
        and segment_of.get(invoice.debtor_id, "new") in config.segment
    ]
    if not candidates:
        return []
    reminded = {m.debtor.debtor_id for m in plan.messages}
    reminded |= {debtor for debtor, _ in ledger.outbox.contacted(name, today)}
    reminded |= ledger.invoices.debtors_with_overdue(
        name, today, {invoice.debtor_id for invoice in candidates}
    )
    debtors = debtors if debtors is not None else ledger.invoices.debtors(name)
    thanked = ledger.outbox.invoices_with(name, THANKS, [i.number for i in candidates])
    per_debtor: dict[str, list[PlannedItem]] = defaultdict(list)
    for invoice in candidates:
        debtor = invoice.debtor_id
        if invoice.number in thanked or debtor in reminded or debtor not in debtors:
            continue
        record = debtors[debtor]
        if calendar_block(step, record, today, rules) or window_block(record, rules):
            continue
        per_debtor[debtor].append(
            PlannedItem(invoice, THANK_YOU_STEP, -1, f"paid on {invoice.paid_on}; thank you")
        )
    return [
        PlannedMessage(
            pipeline=name,
            debtor=debtors[debtor],
            channel=config.channel,
            step=THANK_YOU_STEP,
            template=config.template,
            planned_for=today,
            items=tuple(items),
            kind=THANKS,
            key_suffix=THANKS,
        )
        for debtor, items in sorted(per_debtor.items())
    ]
