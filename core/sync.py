"""The sync stage: stream the source into the ledger in batches, then store the cursor."""

from __future__ import annotations

from dunning.core.ledger import Ledger
from dunning.core.models import Debtor, Invoice, RowProblem, SyncCursor, SyncIncomplete
from dunning.core.progress import Progress
from dunning.core.source import Capability, Source
from dunning.core.summary import RunSummary

BATCH_SIZE = 500


def sync_source(
    source: Source,
    ledger: Ledger,
    pipeline: str,
    sync_id: int,
    summary: RunSummary,
    progress: Progress,
) -> None:
    """Store what ``source`` yields. The cursor is saved only after every record is stored."""
    snapshot = Capability.FULL_SNAPSHOT in source.capabilities
    cursor = None if snapshot else ledger.invoices.cursor(pipeline)
    unwritten = ledger.invoices.unwritten_payment_cents(pipeline)
    debtors: list[Debtor] = []
    invoices: list[Invoice] = []
    unreadable: set[str] = set()
    new_cursor: str | None = None

    def flush() -> None:
        ledger.invoices.save_batch(pipeline, sync_id, debtors, invoices, unwritten)
        progress.advance(len(invoices))
        debtors.clear()
        invoices.clear()

    progress.begin(f"{pipeline}: syncing from {source.kind}")
    for record in source.sync(cursor):
        if isinstance(record, Invoice):
            invoices.append(record)
            summary.synced_invoices += 1
            if len(invoices) >= BATCH_SIZE:
                flush()
        elif isinstance(record, Debtor):
            debtors.append(record)
            summary.synced_debtors += 1
        elif isinstance(record, RowProblem) and not record.skipped:
            summary.problems.append(f"warning {record}")
        elif isinstance(record, RowProblem):
            summary.skipped_rows += 1
            summary.problems.append(f"skipped {record}")
            if record.invoice_number:
                unreadable.add(record.invoice_number)
        elif isinstance(record, SyncIncomplete):
            summary.sync_incomplete = record.reason
        elif isinstance(record, SyncCursor):
            new_cursor = record.value
    flush()
    progress.end()
    if summary.sync_incomplete is not None:
        summary.problems.append(
            f"the sync from {source.kind} stopped early: {summary.sync_incomplete}; what was read "
            "is kept and the next run goes on from there"
        )
    if snapshot and summary.sync_incomplete is not None:
        pass  # a partial snapshot says nothing about what is missing from it
    elif snapshot and summary.synced_invoices == 0:
        summary.problems.append(
            f"{source.kind} returned no invoices at all; nothing was marked settled"
        )
    elif snapshot:
        summary.closed_invoices = ledger.invoices.close_unseen(pipeline, sync_id, unreadable)
    if new_cursor is not None:
        ledger.invoices.save_cursor(pipeline, new_cursor)
