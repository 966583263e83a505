"""Creating call tasks: for a ladder step (the call channel), and as follow-ups of a call.

Who is called (the main contact, or management after the payer was absent too often), who
calls (``calls.assign_to``, by segment), when (the step's day, in office hours) and with what
talking points. Creation is idempotent: one task per step message, one follow-up per task.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from dunning.core.calls.model import CallOutcome, CallTask, NewCallTask
from dunning.core.config.schema import CallsConfig, PipelineConfig
from dunning.core.ledger import Ledger
from dunning.core.models import Debtor
from dunning.core.phones import BadPhoneNumber, normalise_phone
from dunning.core.segments import DebtorFigures, figures_from_totals

MAIN = "main"
MANAGEMENT = "management"


@dataclass(frozen=True, slots=True)
class CallContact:
    role: str
    name: str | None
    phone: str | None


def figures_for(
    ledger: Ledger, pipeline: str, config: PipelineConfig, debtor_id: str
) -> DebtorFigures:
    """One debtor's payment figures and segment (a ``debtors:`` segment override wins)."""
    figures = figures_from_totals(
        ledger.invoices.payment_totals(pipeline, debtor_id),
        {debtor_id: ledger.pauses.broken_counts(pipeline).get(debtor_id, 0)},
        config.segments,
        [debtor_id],
    )[debtor_id]
    override = config.debtors.get(debtor_id)
    if override is not None and override.segment:
        return replace(figures, segment=override.segment)
    return figures


def segment_for(ledger: Ledger, pipeline: str, config: PipelineConfig, debtor_id: str) -> str:
    """The debtor's payment-behaviour segment (``debtors:`` override first)."""
    return figures_for(ledger, pipeline, config, debtor_id).segment


def assignee(settings: CallsConfig, segment: str) -> str | None:
    return settings.assign_by_segment.get(segment) or settings.assign_to


def _phone(number: str | None, debtor: Debtor) -> str | None:
    if not number:
        return None
    try:
        return normalise_phone(number, debtor.country)
    except BadPhoneNumber:
        return None


def main_contact(debtor: Debtor) -> CallContact:
    """The debtor's own contact: the source's contact person and phone number."""
    person = debtor.contact_name or debtor.first_name
    phone = _phone(debtor.phone, debtor)
    if phone is None:  # the main number is missing or unusable: a listed person's number
        for other in debtor.contacts:
            if other.role != MANAGEMENT and _phone(other.phone, debtor):
                return CallContact(MAIN, other.name, _phone(other.phone, debtor))
    return CallContact(MAIN, person, phone)


def contact_for(
    ledger: Ledger, pipeline: str, settings: CallsConfig, debtor: Debtor
) -> tuple[CallContact, str | None]:
    """Whom to call, and a flag when a person must step in.

    After ``calls.escalate_absent_after`` "contact absent" outcomes the call goes to the
    debtor's management contact; without one, the task is flagged for escalation."""
    absent = ledger.calls.outcome_count(pipeline, debtor.debtor_id, CallOutcome.CONTACT_ABSENT)
    if absent < settings.escalate_absent_after:
        return main_contact(debtor), None
    manager = debtor.contact_with_role(MANAGEMENT)
    phone = _phone(manager.phone, debtor) if manager else None
    if manager is not None and phone is not None:
        return CallContact(MANAGEMENT, manager.name, phone), None
    return main_contact(debtor), (
        f"escalate: the payer was absent {absent} times and the source has no management "
        "contact with a phone number; find someone higher up"
    )


def create_task(ledger: Ledger, pipeline: str, new: NewCallTask) -> tuple[CallTask, bool]:
    """Store ``new`` (idempotent: an existing task for the same key is returned)."""
    return ledger.calls.create(pipeline, new)


def follow_up(
    ledger: Ledger,
    pipeline: str,
    config: PipelineConfig,
    task: CallTask,
    debtor: Debtor,
    due_on: date,
    reason: str,
    *,
    attempt: int = 1,
    due_time: str | None = None,
    points: tuple[str, ...] = (),
    flag: str | None = None,
) -> CallTask:
    """The next call after ``task`` (one per task, however often this is called)."""
    contact, escalation = contact_for(ledger, pipeline, config.calls, debtor)
    segment = segment_for(ledger, pipeline, config, debtor.debtor_id)
    open_numbers = {i.number for i in ledger.invoices.open_of_debtor(pipeline, debtor.debtor_id)}
    numbers = tuple(n for n in task.invoice_numbers if n in open_numbers) or task.invoice_numbers
    created, _ = ledger.calls.create(
        pipeline,
        NewCallTask(
            debtor_id=debtor.debtor_id,
            step=task.step,
            reason=reason,
            invoice_numbers=numbers,
            due_on=due_on,
            due_time=due_time,
            hours=config.calls.office_hours,
            assigned_to=assignee(config.calls, segment),
            contact_role=contact.role,
            contact_name=contact.name,
            contact_phone=contact.phone,
            talking_points=points + task.talking_points,
            attempt=attempt,
            flag=flag or escalation,
            follows_task_id=task.id,
        ),
    )
    return created
