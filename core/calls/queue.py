"""The call list: today's open call tasks, most money and most overdue first; and cancelling
the tasks whose invoices were paid or handed over before anyone called."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dunning.core.calls.model import CallTask
from dunning.core.ledger import Ledger
from dunning.core.models import Debtor, Invoice


@dataclass(frozen=True, slots=True)
class QueueEntry:
    task: CallTask
    debtor: Debtor | None
    invoices: tuple[Invoice, ...]
    """The debtor's open invoices (not handed over), oldest due first."""

    @property
    def open_total(self) -> Decimal:
        return sum((i.amount_open for i in self.invoices), Decimal(0))

    def days_overdue(self, today: date) -> int:
        return max((i.days_overdue(today) for i in self.invoices), default=0)


def call_queue(
    ledger: Ledger,
    pipeline: str,
    today: date,
    *,
    assigned_to: str | None = None,
    upcoming: bool = False,
) -> list[QueueEntry]:
    """Open tasks due by ``today`` (all open ones with ``upcoming``), for one controller when
    ``assigned_to`` is given (tasks assigned to nobody are everyone's). Tasks with nothing
    left open are not listed (they are cancelled by the next run). Flagged tasks come first,
    then the most money open, then the longest overdue."""
    entries = []
    for task in ledger.calls.open(pipeline, None if upcoming else today):
        if assigned_to and task.assigned_to not in (None, assigned_to):
            continue
        invoices = tuple(ledger.invoices.open_of_debtor(pipeline, task.debtor_id))
        if not any(i.number in task.invoice_numbers for i in invoices):
            continue
        debtor = ledger.invoices.debtor(pipeline, task.debtor_id)
        entries.append(QueueEntry(task, debtor, invoices))
    entries.sort(
        key=lambda e: (
            e.task.flag is None,
            e.task.due_on > today,
            -e.open_total,
            -e.days_overdue(today),
            e.task.due_on,
            e.task.id,
        )
    )
    return entries


def cancel_calls_about(ledger: Ledger, pipeline: str, debtor_id: str | None = None) -> int:
    """Cancel open tasks (of one debtor, or all) none of whose invoices is open any more:
    paid, closed, or handed over to a collection agency. Returns how many."""
    tasks = ledger.calls.open(pipeline)
    if debtor_id is not None:
        tasks = [t for t in tasks if t.debtor_id == debtor_id]
    cancelled = 0
    open_cache: dict[str, set[str]] = {}
    for task in tasks:
        if task.debtor_id not in open_cache:
            open_cache[task.debtor_id] = {
                i.number for i in ledger.invoices.open_of_debtor(pipeline, task.debtor_id)
            }
        if open_cache[task.debtor_id] & set(task.invoice_numbers):
            continue
        handed = ledger.invoices.handed_over_among(pipeline, task.invoice_numbers)
        reason = (
            "handed over to a collection agency before the call"
            if handed
            else "paid or closed before the call"
        )
        cancelled += ledger.calls.cancel(pipeline, [task.id], reason)
    return cancelled
