"""Recording a payment a credit controller learned about (``dunning mark-paid``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dunning.core.config import LoadedConfig, LoadedPipeline
from dunning.core.errors import UsageError
from dunning.core.ledger import Ledger
from dunning.core.models import Invoice, Payment
from dunning.core.runner import make_source
from dunning.core.writeback import write_back_payments


@dataclass(frozen=True)
class MarkPaidResult:
    pipeline: str
    invoice: Invoice
    amount: Decimal
    open_after: Decimal
    written_back: bool
    writeback_error: str | None


def find_invoice_pipeline(
    config: LoadedConfig, ledger: Ledger, number: str, pipeline: str | None
) -> LoadedPipeline:
    if pipeline:
        return config.pipeline(pipeline)
    found = [
        p for p in ledger.invoices.find_pipelines_with_invoice(number) if p in config.pipelines
    ]
    if not found:
        raise UsageError(
            f"invoice {number} is not in the ledger; check the number, or run "
            "'dunning run' first so the source is synced"
        )
    if len(found) > 1:
        raise UsageError(
            f"invoice {number} exists in pipelines {', '.join(found)}; choose one with --pipeline"
        )
    return config.pipelines[found[0]]


def mark_paid(
    config: LoadedConfig,
    ledger: Ledger,
    number: str,
    amount: Decimal | None,
    paid_on: date,
    pipeline_name: str | None = None,
) -> MarkPaidResult:
    """Record the payment, lower the open amount (stopping the ladder when nothing is left),
    and write it back to the source right away; a failed write-back is retried by later runs."""
    pipeline = find_invoice_pipeline(config, ledger, number, pipeline_name)
    found = ledger.invoices.get(pipeline.name, [number])
    if number not in found:
        raise UsageError(f"invoice {number} is not in pipeline {pipeline.name!r}")
    invoice = found[number][0]
    if invoice.is_credit_note or invoice.amount_total <= 0:
        raise UsageError(f"invoice {number} is a credit note; there is nothing to pay")
    if invoice.amount_open <= 0:
        raise UsageError(f"invoice {number} is already paid in full")
    paid = invoice.amount_open if amount is None else amount
    if paid <= 0:
        raise UsageError(f"--amount must be more than zero (got {paid})")
    if paid > invoice.amount_open:
        raise UsageError(
            f"--amount {paid} is more than the open amount {invoice.amount_open} of "
            f"invoice {number}; record an overpayment in the accounting platform"
        )
    ledger.payments.record(pipeline.name, Payment(number, paid, paid_on, origin="manual"))
    source = make_source(config, pipeline, ledger)
    written, errors = write_back_payments(source, ledger, pipeline.name)
    return MarkPaidResult(
        pipeline=pipeline.name,
        invoice=invoice,
        amount=paid,
        open_after=invoice.amount_open - paid,
        written_back=written > 0,
        writeback_error=errors[0] if errors else None,
    )
