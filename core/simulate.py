"""``dunning simulate``: play the ladder forward day by day on the current ledger, sending
nothing and writing nothing. Every planned message is assumed sent and nothing is assumed paid, so
the figures are the most the ladder would send: the same as a real ``dunning run`` every day with
no payment arriving (and no message failing).

What a day of real runs would change is played along: steps taken move the ladder and the contact
gap; promises break after their day plus grace, arrangements at their first instalment (and a
broken one counts for the debtor's segment from that day on); thank-you notes for payments
already known go out once, on the first day the debtor gets no reminder. Messages planned
earlier and still waiting in the outbox (a send window, a mail server that was down) count on the
first day, when the next run sends them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from dunning.core.config import LoadedPipeline
from dunning.core.ledger import Ledger
from dunning.core.models import Invoice, MessageState, Pause, PauseStatus, StepHistory
from dunning.core.planning import plan_thanks
from dunning.core.policy import plan_due_actions
from dunning.core.policy.build import policy_rules, policy_steps, step_aliases
from dunning.core.policy.pauses import evaluate
from dunning.core.segments import figures_from_totals


@dataclass(slots=True)
class SimulatedDay:
    day: date
    closed: str | None
    """Why nothing may go out (weekend, holiday) when the pipeline sends on business days only."""
    messages: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(channel, step) -> messages that day."""

    @property
    def total(self) -> int:
        return sum(self.messages.values())


class _Segments:
    """Each debtor's segment as real runs would see it: from the ledger's payment history and
    broken agreements, plus the agreements that break during the simulation."""

    def __init__(self, ledger: Ledger, pipeline: LoadedPipeline, invoices: list[Invoice]) -> None:
        name = pipeline.name
        self.rules = pipeline.config.segments
        self.overrides = {k: o.segment for k, o in pipeline.config.debtors.items() if o.segment}
        self.paid = list(ledger.invoices.payment_totals(name))
        self.broken = Counter(ledger.pauses.broken_counts(name))
        self.open_of = {i.number: i.amount_open for i in invoices}
        self.watched: list[Pause] = [p for p in ledger.pauses.active(name) if p.invoice_numbers]
        self.current = self._compute()

    def _compute(self) -> dict[str, str]:
        figures = figures_from_totals(self.paid, self.broken, self.rules)
        return {k: f.segment for k, f in figures.items()} | self.overrides

    def on(self, today: date) -> dict[str, str]:
        """The segments on ``today``, after the agreements that break that day."""
        still_active = []
        for pause in self.watched:
            open_now = sum(
                (self.open_of.get(n, Decimal(0)) for n in pause.invoice_numbers), Decimal(0)
            )
            if evaluate(pause, today, open_now).status is PauseStatus.BROKEN:
                self.broken[pause.debtor_id] += 1
            else:
                still_active.append(pause)
        if len(still_active) != len(self.watched):
            self.watched = still_active
            self.current = self._compute()
        return self.current


def simulate(
    ledger: Ledger, pipeline: LoadedPipeline, start: date, days: int
) -> list[SimulatedDay]:
    """The plan of each of ``days`` days from ``start`` on, each day building on the last."""
    name = pipeline.name
    steps = policy_steps(pipeline)
    rules = policy_rules(pipeline.config)
    invoices = list(ledger.invoices.dunnable(name))
    debtors = ledger.invoices.debtors(name)
    history: dict[str, list[StepHistory]] = {
        k: list(v) for k, v in ledger.outbox.history(name).items()
    }
    last_contact = ledger.invoices.last_contact_days(name)
    recorded = [[s["name"] for s in version] for version in ledger.ladders.versions(name)]
    aliases = step_aliases([s.name for s in steps], recorded)
    segments = _Segments(ledger, pipeline, invoices)
    pauses = ledger.pauses.by_debtor(name)
    thanked: set[str] = set()
    calendar = rules.calendar()
    result = []
    for offset in range(days):
        today = start + timedelta(days=offset)
        closed = None
        if rules.business_days_only and not calendar.is_business_day(today):
            closed = calendar.why_closed(today)
        segment_of = segments.on(today)
        plan = plan_due_actions(
            name,
            steps,
            today,
            invoices,
            debtors,
            history,
            ledger.outbox.contacted(name, today) if offset == 0 else (),
            rules=rules,
            segments=segment_of,
            pauses=pauses,
            last_contact=last_contact,
            aliases=aliases,
            explain=False,
        )
        simulated = SimulatedDay(today, closed)
        if offset == 0:  # planned earlier, not sent yet: the next run sends these first
            for waiting in ledger.outbox.pending(name):
                simulated.messages[(waiting.channel, waiting.step)] += 1
        for message in plan.messages:
            simulated.messages[(message.channel, message.step)] += 1
            last_contact[message.debtor.debtor_id] = today
            for item in message.items:
                history.setdefault(item.invoice.number, []).append(
                    StepHistory(item.step, today, MessageState.SENT)
                )
        for thanks in plan_thanks(ledger, pipeline, today, segment_of, plan):
            numbers = {item.invoice.number for item in thanks.items} - thanked
            if numbers:
                simulated.messages[(thanks.channel, thanks.step)] += 1
                thanked |= numbers
        result.append(simulated)
    return result
