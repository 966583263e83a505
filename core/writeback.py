"""Write-back: tell the source what the pipeline learned (payments) and mirror call tasks."""

from __future__ import annotations

from datetime import date

from dunning.core.errors import DunningError, SourceError, SourceLimitReached
from dunning.core.ledger import Ledger
from dunning.core.ledger.outbox import SentRecord
from dunning.core.models import Invoice, Payment
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
            if stored.payment.amount < 0:
                _reverse(source, invoice, stored.payment)
            else:
                source.register_payment(invoice, stored.payment)
        except SourceLimitReached as error:
            errors.append(f"payments not written back yet (the next run tries again): {error}")
            break
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


def _reverse(source: Source, invoice: Invoice, returned: Payment) -> None:
    """Tell the source a payment it was told about came back (see ``Source.reverse_payment``)."""
    if returned.reverses is None:
        raise SourceError(f"a returned payment of invoice {invoice.number} names no payment")
    if Capability.REVERSE_PAYMENTS not in source.capabilities:
        raise SourceError(
            f"the {source.kind} source cannot undo a payment: record the returned payment of "
            f"invoice {invoice.number} there"
        )
    source.reverse_payment(invoice, returned.reverses)


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
        except SourceLimitReached as error:
            errors.append(f"call tasks not created in the source yet (next run): {error}")
            break
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


def take_over_invoices(
    source: Source, ledger: Ledger, pipeline: str, today: date, summary: RunSummary | None = None
) -> int:
    """Tell the source to pause its own reminders for every invoice the ladder has reached
    (sources with :attr:`Capability.OWN_REMINDERS`), before anything is sent. A failure is
    reported and tried again on the next run; it holds nothing back."""
    if Capability.OWN_REMINDERS not in source.capabilities:
        return 0
    done = 0
    for invoice in ledger.invoices.to_take_over(pipeline):
        try:
            source.take_over(invoice)
        except SourceLimitReached as error:
            if summary is not None:
                summary.problems.append(f"own reminders not paused yet (next run): {error}")
            break
        except DunningError as error:
            if summary is not None:
                summary.problems.append(
                    f"invoice {invoice.number}: the source's own reminders not paused: {error}"
                )
            continue
        ledger.invoices.mark_taken_over(pipeline, invoice.number, today)
        done += 1
    return done


def note_text(message: SentRecord) -> str:
    """One line per action for the source's invoice: what went out, when, how, to whom."""
    to = f" to {message.recipient}" if message.recipient else ""
    what = {"step": "step", "confirmation": "confirmation", "thanks": "thank-you note"}.get(
        message.kind, message.kind
    )
    when = message.planned_for
    return f"dunning: {what} '{message.step}' sent by {message.channel}{to} on {when}"


def write_back_notes(
    source: Source, ledger: Ledger, pipeline: str, summary: RunSummary | None = None
) -> tuple[int, list[str]]:
    """Add a note of each sent message to its invoices at the source (sources with
    :attr:`Capability.ATTACH_NOTES`). A failure is kept on the message and retried next run."""
    if Capability.ATTACH_NOTES not in source.capabilities:
        return 0, []
    written, errors = 0, []
    for message in ledger.outbox.unnoted(pipeline):
        found = ledger.invoices.get(pipeline, message.invoice_numbers)
        try:
            for number in message.invoice_numbers:
                if number in found:
                    source.attach_note(found[number][0], note_text(message))
        except SourceLimitReached as error:
            errors.append(
                f"notes not written to the source yet (the next run tries again): {error}"
            )
            break
        except DunningError as error:
            ledger.outbox.mark_noted(message.id, str(error))
            errors.append(f"note of message {message.id} not written to the source: {error}")
            continue
        ledger.outbox.mark_noted(message.id)
        written += 1
    if summary is not None:
        summary.notes_written += written
        summary.problems.extend(errors)
    return written, errors
