"""Today's plan for a whole portfolio: per debtor, per channel, one message, on the right day.

On top of :func:`~dunning.core.policy.ladder.decide` per invoice, the planner applies what holds
per debtor:

* Calendar: with ``business_days_only`` nothing goes out on a day the debtor's country calendar
  (weekends, public holidays, closing days in config) does not count as a business day; quiet
  channel kinds (sms, whatsapp, call) never go out on Sundays or public holidays.
* Send window: outside its hours in the debtor's time zone, the debtor's messages wait.
* One message per debtor per channel per day: invoices of the same debtor due for steps on the
  same channel are combined; the message takes the most severe step and its template (or the
  template of the debtor's variant).
* Contact gap: with ``contact.min_days_between`` a debtor contacted less than that many days ago
  waits, and gets at most one message (the most severe channel) on a day.
* Variants: the debtor's variant (``debtors:``) or their segment's (``variant_by_segment``) picks
  the step's template, except in a message that says a promise or arrangement was broken: that
  one always takes the step's own template.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby

from dunning.core.models import (
    Debtor,
    Invoice,
    Pause,
    Plan,
    PlannedItem,
    PlannedMessage,
    SkippedItem,
    StepHistory,
)
from dunning.core.policy.conditions import DebtorFacts
from dunning.core.policy.ladder import (
    START,
    DateCache,
    Position,
    cached_step_dates,
    days_text,
    decide,
    position_after,
    step_ranks,
)
from dunning.core.policy.pauses import PauseEffect, evaluate
from dunning.core.policy.steps import Rules, Step

DEFAULT_SEGMENT = "new"


def _debtor_of(invoice: Invoice) -> str:
    return invoice.debtor_id


def _effects(
    pauses: Sequence[Pause], invoices: Sequence[Invoice], today: date
) -> dict[str, list[PauseEffect]]:
    """Per invoice number, the pauses covering it, evaluated for today."""
    result: dict[str, list[PauseEffect]] = defaultdict(list)
    open_of = {i.number: i.amount_open for i in invoices}
    for pause in pauses:
        covered = [n for n in open_of if pause.covers(n)]
        if pause.invoice_numbers:
            open_now = sum((open_of.get(n, Decimal(0)) for n in pause.invoice_numbers), Decimal(0))
        else:
            open_now = sum((open_of[n] for n in covered), Decimal(0))
        effect = evaluate(pause, today, open_now)
        for number in covered:
            result[number].append(effect)
    return result


def calendar_block(step: Step, debtor: Debtor, today: date, rules: Rules) -> str | None:
    """Why ``step`` may not go out to ``debtor`` today by the calendar, or ``None``."""
    calendar = rules.calendar(debtor.country)
    if rules.business_days_only and not calendar.is_business_day(today):
        return f"waits: {today} is not a business day ({calendar.why_closed(today)})"
    if rules.is_quiet(step.channel_kind) and (today.weekday() == 6 or calendar.is_holiday(today)):
        why = calendar.holiday_name(today) or "Sunday"
        return f"waits: no {step.channel_kind} on Sundays or public holidays ({why})"
    return None


def window_block(debtor: Debtor, rules: Rules) -> str | None:
    """Why nothing may go out to ``debtor`` at ``rules.now`` (send window), or ``None``."""
    if rules.send_window is None or rules.now is None:
        return None
    zone = debtor.timezone or rules.timezone
    if rules.send_window.contains(rules.now, zone):
        return None
    local = rules.send_window.local(rules.now, zone)
    return (
        f"waits: outside the send window {rules.send_window} (local time {local:%H:%M} in {zone})"
    )


class NotDueYet:
    """A cheap test, on a bare ledger row, for "this invoice's next step is not due yet" (or
    its ladder is finished): the verdict of most invoices on most days, given before any object
    is built for them.

    Only usable (``usable``) when no step tests the debtor's totals (``amount_of: debtor``,
    open invoice counts): those need every open invoice of the debtor. Debtors with pauses are
    never skipped. Shares the planner's date cache; counts what it skipped in ``count``.
    """

    def __init__(
        self,
        steps: Sequence[Step],
        aliases: Mapping[str, int],
        rules: Rules,
        debtors: Mapping[str, Debtor],
        pauses: Mapping[str, object],
        today: date,
        cache: DateCache,
    ) -> None:
        self.steps = steps
        self.ranks = step_ranks(steps, aliases)
        self.rules = rules
        self.debtors = debtors
        self.country_of: Callable[[str], str | None] = getattr(
            debtors, "country_of", lambda debtor_id: debtors[debtor_id].country
        )
        self.pauses = pauses
        self.today = today
        self.cache = cache
        self.count = 0
        self.usable = not any(
            s.conditions.amount_of == "debtor"
            or s.conditions.min_open_invoices is not None
            or s.conditions.max_open_invoices is not None
            for s in steps
        )

    def __call__(self, debtor_id: str, due_date: date, step: str | None, day: date | None) -> bool:
        if debtor_id in self.pauses:
            return False
        latest = None if step is None or day is None else (step, day)
        where = position_after(latest, self.ranks)
        if where is None:
            return False
        if where.next_index >= len(self.steps):
            self.count += 1  # the ladder is finished: nothing can go out
            return True
        if debtor_id not in self.debtors:
            return False
        calendar = self.rules.calendar(self.country_of(debtor_id))
        dates = cached_step_dates(self.steps, due_date, where, calendar, 0, self.cache)
        first = dates[where.next_index]
        if first is not None and first > self.today:
            self.count += 1
            return True
        return False


def template_for(step: Step, debtor_id: str, segment: str, rules: Rules) -> str:
    """The step's template, or its variant chosen for the debtor (``debtors:``) or segment."""
    variant = rules.settings_of(debtor_id).variant or rules.variant_by_segment.get(segment)
    if variant is not None:
        return step.variants.get(variant, step.template)
    return step.template


def plan_due_actions(
    pipeline: str,
    steps: Sequence[Step],
    today: date,
    invoices: Iterable[Invoice],
    debtors: Mapping[str, Debtor],
    history: Mapping[str, Sequence[StepHistory]],
    contacted_today: Collection[tuple[str, str]] = (),
    *,
    rules: Rules | None = None,
    segments: Mapping[str, str] | None = None,
    pauses: Mapping[str, Sequence[Pause]] | None = None,
    last_contact: Mapping[str, date] | None = None,
    aliases: Mapping[str, int] | None = None,
    explain: bool = True,
    positions: Mapping[str, tuple[str, date]] | None = None,
    cache: DateCache | None = None,
) -> Plan:
    """Plan today's messages for ``invoices`` given what the ledger remembers.

    ``invoices`` must come grouped by debtor (a list is sorted here; the ledger streams them in
    debtor order). ``contacted_today`` holds (debtor, channel) pairs that already have a message
    today; ``last_contact`` the latest day each debtor got a step; ``pauses`` the pauses per
    debtor; ``segments`` each debtor's payment-behaviour segment. With ``explain`` off, invoices
    that get nothing are only counted (``Plan.not_planned``), not listed with a reason.
    ``positions`` (invoice -> its latest step and that step's day, as the ledger keeps them)
    stands in for ``history`` when given; it may be filled while ``invoices`` is consumed.
    The result's messages are ordered by debtor id.
    """
    rules = rules or Rules()
    segments = segments or {}
    pauses = pauses or {}
    last_contact = last_contact or {}
    if isinstance(invoices, Sequence):
        invoices = sorted(invoices, key=_debtor_of)
    plan = Plan()
    cache = cache if cache is not None else {}
    ranks = step_ranks(steps, aliases)
    last_index = len(steps)
    blocks: dict[tuple[str | None, str | None, str], str | None] = {}
    gap = rules.min_days_between_contacts

    def blocked_by_clock(step: Step, debtor: Debtor) -> str | None:
        """Calendar and send window, once per (country, time zone, channel kind) a plan."""
        key = (debtor.country, debtor.timezone, step.channel_kind)
        if key not in blocks:
            blocks[key] = calendar_block(step, debtor, today, rules) or (
                window_block(debtor, rules) if step.contacts_debtor else None
            )
        return blocks[key]

    def skip(invoice: Invoice, reason: str) -> None:
        plan.not_planned += 1
        if explain:
            plan.skipped.append(SkippedItem(invoice.number, invoice.debtor_id, reason))

    for debtor_id, group in groupby(invoices, key=_debtor_of):
        own = list(group)
        debtor = debtors.get(debtor_id)
        if debtor is None:
            for invoice in own:
                skip(invoice, "debtor unknown to the ledger")
            continue
        calendar = rules.calendar(debtor.country)
        paused = debtor_id in pauses
        waiting: list[tuple[Invoice, Position | None]] = []
        for invoice in own:
            where = None
            if positions is not None:
                where = position_after(positions.get(invoice.number), ranks) or START
                if not explain and not paused and where.next_index < last_index:
                    # Fast path: the common "next step is not due yet", without a call.
                    dates = cached_step_dates(steps, invoice.due_date, where, calendar, 0, cache)
                    first = dates[where.next_index]
                    if first is not None and first > today:
                        plan.not_planned += 1
                        continue
            waiting.append((invoice, where))
        if not waiting:
            continue
        settings = rules.settings_of(debtor_id)
        segment = settings.segment or segments.get(debtor_id, DEFAULT_SEGMENT)
        dunnable = [i for i in own if i.is_dunnable]
        facts = DebtorFacts(
            debtor,
            segment,
            sum((i.amount_open for i in dunnable), Decimal(0)),
            len(dunnable),
        )
        effects = _effects(pauses.get(debtor_id, ()), own, today) if paused else {}
        grouped: dict[str, list[PlannedItem]] = defaultdict(list)
        for invoice, where in waiting:
            decision = decide(
                steps,
                invoice,
                history.get(invoice.number, ()),
                today,
                where=where,
                calendar=calendar,
                facts=facts,
                effects=effects.get(invoice.number, ()),
                aliases=aliases,
                cache=cache,
                explain=explain,
            )
            if decision.index is None:
                skip(invoice, decision.reason)
                continue
            step = steps[decision.index]
            blocked = blocked_by_clock(step, debtor)
            if blocked is None and (debtor_id, step.channel) in contacted_today:
                blocked = (
                    f"debtor already has a message on channel {step.channel!r} today; "
                    "waits for tomorrow"
                )
            last = last_contact.get(debtor_id) if gap and blocked is None else None
            if last is not None and (today - last).days < gap:
                blocked = (
                    f"waits: last contact on {last}, at least {days_text(gap)} between contacts "
                    f"(from {last + timedelta(days=gap)})"
                )
            if blocked is not None:
                skip(invoice, f"{step.name!r} {blocked}")
                continue
            grouped[step.channel].append(
                PlannedItem(
                    invoice, step.name, decision.index, decision.reason, decision.resume_note
                )
            )
        channels = sorted(grouped.items())
        if gap and len(channels) > 1:
            channels.sort(key=lambda pair: -max(item.step_index for item in pair[1]))
            for _channel, items in channels[1:]:
                for item in items:
                    skip(
                        item.invoice,
                        f"{item.step!r} waits: one contact a day with this debtor; "
                        f"{channels[0][0]!r} goes first",
                    )
            channels = sorted(channels[:1])
        for channel, items in channels:
            items.sort(key=lambda item: (item.invoice.due_date, item.invoice.number))
            severest = steps[max(item.step_index for item in items)]
            plan.messages.append(
                PlannedMessage(
                    pipeline=pipeline,
                    debtor=debtor,
                    channel=channel,
                    step=severest.name,
                    template=severest.template
                    if any(item.resume_note for item in items)
                    else template_for(severest, debtor_id, segment, rules),
                    planned_for=today,
                    items=tuple(items),
                )
            )
    plan.messages.sort(key=lambda m: (m.debtor.debtor_id, m.channel))
    return plan
