"""Call tasks and call outcomes, as plain data (the ledger stores them, the desk shows them)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class CallOutcome(enum.StrEnum):
    """What came of a call; each drives the ladder (see :mod:`dunning.core.calls.outcomes`)."""

    PAID = "paid"
    PROMISE = "promise"
    ARRANGEMENT = "arrangement"
    IN_POST = "in-post"
    IN_APPROVAL = "in-approval"
    CONTACT_ABSENT = "contact-absent"
    CALLBACK = "callback"
    DISPUTE = "dispute"
    NO_ANSWER = "no-answer"
    WRONG_NUMBER = "wrong-number"


OUTCOME_HELP = {
    CallOutcome.PAID: "the debtor paid: amount and date are recorded and written back",
    CallOutcome.PROMISE: "a promise to pay by a date: the ladder waits until then plus grace",
    CallOutcome.ARRANGEMENT: "instalments agreed: paused while they arrive on time",
    CallOutcome.IN_POST: "payment said to be sent: call again a few business days later",
    CallOutcome.IN_APPROVAL: "invoice in their approval flow: call again on a follow-up date",
    CallOutcome.CONTACT_ABSENT: "the payer is away: call again when back (escalates after "
    "calls.escalate_absent_after times)",
    CallOutcome.CALLBACK: "they will call back: we fix a date and time and call then",
    CallOutcome.DISPUTE: "the invoice is disputed: ladder paused, flagged for a person",
    CallOutcome.NO_ANSWER: "nobody answered: retried per calls.retry.no_answer",
    CallOutcome.WRONG_NUMBER: "the number is wrong: retried per calls.retry.wrong_number",
}


@dataclass(frozen=True, slots=True)
class NewCallTask:
    """A call task to create: from a ladder step (``message_id``) or as the follow-up of an
    earlier task (``follows_task_id``). Either key makes creation idempotent."""

    debtor_id: str
    step: str
    reason: str
    invoice_numbers: tuple[str, ...]
    due_on: date
    contact_role: str
    contact_name: str | None
    contact_phone: str | None
    due_time: str | None = None
    hours: str | None = None
    assigned_to: str | None = None
    talking_points: tuple[str, ...] = ()
    attempt: int = 1
    flag: str | None = None
    message_id: int | None = None
    follows_task_id: int | None = None


@dataclass(frozen=True, slots=True)
class CallTask:
    """A call for a credit controller to make, and, once done, what came of it."""

    id: int
    pipeline: str
    debtor_id: str
    step: str
    reason: str
    invoice_numbers: tuple[str, ...]
    due_on: date
    due_time: str | None
    hours: str | None
    """Office hours the call is due in (``09:00-17:00``)."""
    assigned_to: str | None
    contact_role: str
    """``main`` (the debtor's contact), ``management`` or another role from the source."""
    contact_name: str | None
    contact_phone: str | None
    talking_points: tuple[str, ...]
    attempt: int
    status: TaskStatus
    flag: str | None
    """Set when the task needs a person's attention (escalation, dispute, retries used up)."""
    created_at: datetime
    message_id: int | None = None
    follows_task_id: int | None = None
    done_at: datetime | None = None
    done_by: str | None = None
    outcome: CallOutcome | None = None
    spoken_to: str | None = None
    details: dict[str, str] = field(default_factory=dict)
    note: str | None = None
    effect: str | None = None
    """What the outcome did to the ladder, in words (``promise #4 until 2026-12-01``)."""
    source_ref: str | None = None
    """The task's id in the source platform, when mirrored there."""
