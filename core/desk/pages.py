"""What the desk's templates need beyond the core's own data: the debtor's history as one
dated list (as ``dunning call show`` prints it) and the filters for money, phones and times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dunning.core.calls.model import CallTask
from dunning.core.calls.sheet import CallSheet
from dunning.core.phones import display_phone


@dataclass(frozen=True, slots=True)
class Event:
    """One line of a debtor's history; ``kind`` is message, call, pause or payment."""

    day: date
    kind: str
    text: str


def history(sheet: CallSheet) -> list[Event]:
    """Messages, the other calls, pauses and payments of the debtor, oldest first (stable for
    events of the same day, in that order)."""
    events = [
        Event(
            m.planned_for,
            "message",
            f"{m.kind} {m.step} by {m.channel}: {m.state.value}"
            + (f" to {m.recipient}" if m.recipient else ""),
        )
        for m in sheet.messages
    ]
    for task in sheet.calls:
        said = task.outcome.value if task.outcome else task.status.value
        who = f" (spoke to {task.spoken_to})" if task.spoken_to else ""
        note = f": {task.note}" if task.note else ""
        events.append(Event(task.due_on, "call", f"call #{task.id}: {said}{who}{note}"))
    for pause in sheet.pauses:
        until = f" until {pause.until}" if pause.until else ""
        text = f"{pause.kind.value} #{pause.id}{until}: {pause.status.value} - {pause.reason}"
        events.append(Event(pause.starts_on, "pause", text))
    for paid in sheet.payments:
        text = f"payment {paid.amount:.2f} on {paid.invoice_number} ({paid.origin})"
        events.append(Event(paid.paid_on, "payment", text))
    return sorted(events, key=lambda event: event.day)


def money(amount: Decimal) -> str:
    """Two decimals, exact (never through float), as the command line prints amounts."""
    return f"{amount:.2f}"


def share(fraction: Decimal) -> str:
    """``0.25`` as ``25%``."""
    return f"{fraction:.0%}"


def phone(number: str | None) -> str:
    return display_phone(number) if number else "no number"


def due(task: CallTask) -> str:
    """``2026-03-11`` or ``2026-03-12 14:30`` when a time was agreed."""
    return f"{task.due_on}{' ' + task.due_time if task.due_time else ''}"


FILTERS = {"money": money, "share": share, "phone": phone, "due": due}
