"""Everything a credit controller needs for one call, read live from the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dunning.core.calls.model import CallTask
from dunning.core.calls.tasks import figures_for
from dunning.core.config import LoadedPipeline
from dunning.core.ledger import Ledger
from dunning.core.ledger.outbox import SentRecord
from dunning.core.models import Debtor, Invoice, Pause, Payment
from dunning.core.segments import DebtorFigures


@dataclass(frozen=True, slots=True)
class CallSheet:
    task: CallTask
    debtor: Debtor
    invoices: tuple[Invoice, ...]
    """Every open invoice of the debtor (not handed over), oldest due first."""
    messages: tuple[SentRecord, ...]
    """Every message to the debtor, any kind, oldest first."""
    calls: tuple[CallTask, ...]
    """The debtor's other call tasks (earlier and later), with their outcomes."""
    pauses: tuple[Pause, ...]
    """Promises, arrangements, disputes and pauses, any status."""
    payments: tuple[Payment, ...]
    figures: DebtorFigures
    today: date

    @property
    def open_total(self) -> Decimal:
        return sum((i.amount_open for i in self.invoices), Decimal(0))

    @property
    def days_overdue(self) -> int:
        return max((i.days_overdue(self.today) for i in self.invoices), default=0)

    @property
    def active_pauses(self) -> tuple[Pause, ...]:
        return tuple(p for p in self.pauses if p.status.value == "active")


def call_sheet(ledger: Ledger, pipeline: LoadedPipeline, task: CallTask, today: date) -> CallSheet:
    name = pipeline.name
    debtor = ledger.invoices.debtor(name, task.debtor_id) or Debtor(task.debtor_id, "?")
    figures = figures_for(ledger, name, pipeline.config, task.debtor_id)
    numbers = ledger.invoices.numbers_of_debtor(name, task.debtor_id)
    return CallSheet(
        task=task,
        debtor=debtor,
        invoices=tuple(ledger.invoices.open_of_debtor(name, task.debtor_id)),
        messages=tuple(ledger.outbox.of_debtor(name, task.debtor_id)),
        calls=tuple(t for t in ledger.calls.of_debtor(name, task.debtor_id) if t.id != task.id),
        pauses=tuple(ledger.pauses.by_debtor(name).get(task.debtor_id, [])),
        payments=tuple(ledger.payments.of_invoices(name, numbers)),
        figures=figures,
        today=today,
    )


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
