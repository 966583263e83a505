"""``dunning simulate``: play the ladder forward day by day on the current ledger, sending
nothing and writing nothing. Every planned step is assumed sent and nothing is assumed paid, so
the figures are the most the ladder would send. Pauses end as they would without payment:
promises break after their day plus grace, arrangements at their first instalment."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from dunning.core.config import LoadedPipeline
from dunning.core.ledger import Ledger
from dunning.core.models import MessageState, StepHistory
from dunning.core.planning import segments
from dunning.core.policy import plan_due_actions
from dunning.core.policy.build import policy_rules, policy_steps, step_aliases


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
    last_contact = dict(ledger.outbox.last_contacts(name))
    recorded = [[s["name"] for s in version] for version in ledger.ladders.versions(name)]
    aliases = step_aliases([s.name for s in steps], recorded)
    segment_of = segments(ledger, pipeline)
    pauses = ledger.pauses.by_debtor(name)
    calendar = rules.calendar()
    result = []
    for offset in range(days):
        today = start + timedelta(days=offset)
        closed = None
        if rules.business_days_only and not calendar.is_business_day(today):
            closed = calendar.why_closed(today)
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
        for message in plan.messages:
            simulated.messages[(message.channel, message.step)] += 1
            last_contact[message.debtor.debtor_id] = today
            for item in message.items:
                history.setdefault(item.invoice.number, []).append(
                    StepHistory(item.step, today, MessageState.SENT)
                )
        result.append(simulated)
    return result
