"""Write-back: tell the source what the pipeline learned (payments) and mirror call tasks."""

from __future__ import annotations

from dunning.core.errors import DunningError
from dunning.core.ledger import Ledger
from dunning.core.source import Capability, Source
from dunning.core.summary import RunSummary


def write_back_payments(
    source: Source, ledger: Ledger, pipeline: str, summary: RunSummary | None = None
) -> tuple[int, list[str]]:
    """Register every payment the source has not been told about. Returns (written, errors).

    A failure is recorded on the payment and retried on the next run; it never stops the run.
    """
    if Capability.REGISTER_PAYMENTS not in source.capabilities:
        return 0, []
    written, errors = 0, []
    for stored in ledger.payments.unwritten(pipeline):
        found = ledger.invoices.get(pipeline, [stored.payment.invoice_number])
        if stored.payment.invoice_number not in found:
            continue
        invoice = found[stored.payment.invoice_number][0]
        try:
            source.register_payment(invoice, stored.payment)
        except DunningError as error:
            message = f"payment of invoice {invoice.number} not written back: {error}"
            ledger.payments.mark_writeback_failed(stored.id, str(error))
            errors.append(message)
            continue
        ledger.payments.mark_written(stored.id)
        written += 1
    if summary is not None:
        summary.written_back += written
        summary.writeback_failed += len(errors)
        summary.problems.extend(errors)
    return written, errors


def mirror_call_tasks(
    source: Source, ledger: Ledger, pipeline: str, summary: RunSummary | None = None
) -> tuple[int, list[str]]:
    """Create each open call task in the source's own task list (sources with
    :attr:`Capability.TASKS`). A failure is recorded on the task and retried next run."""
    if Capability.TASKS not in source.capabilities:
        return 0, []
    mirrored, errors = 0, []
    for task in ledger.calls.unmirrored(pipeline):
        try:
            ref = source.create_task(task)
        except DunningError as error:
            ledger.calls.mark_mirror_failed(pipeline, task.id, str(error))
            errors.append(f"call task #{task.id} not created in the source: {error}")
            continue
        ledger.calls.mark_mirrored(pipeline, task.id, ref)
        mirrored += 1
    if summary is not None:
        summary.tasks_mirrored += mirrored
        summary.problems.extend(errors)
    return mirrored, errors
