"""A person's decisions on bank lines the matcher left (``dunning payments assign``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from dunning.core.bank.importing import ORIGIN
from dunning.core.config import LoadedConfig, LoadedPipeline
from dunning.core.errors import UsageError
from dunning.core.ibans import compact_iban
from dunning.core.ledger import Ledger
from dunning.core.ledger.bank import LineStatus, NewPayment, StoredLine
from dunning.core.models import to_cents


@dataclass(frozen=True)
class AssignResult:
    pipeline: str
    line: StoredLine
    payments: tuple[NewPayment, ...]
    left_cents: int
    written_back: int
    writeback_errors: list[str]


def find_line(
    config: LoadedConfig, ledger: Ledger, line_id: int, pipeline: str | None
) -> tuple[LoadedPipeline, StoredLine]:
    names = [pipeline] if pipeline else ledger.bank.find_pipelines(line_id)
    for name in names:
        if name in config.pipelines:
            line = ledger.bank.get(name, line_id)
            if line is not None:
                return config.pipelines[name], line
    raise UsageError(
        f"bank line {line_id} does not exist; 'dunning payments unmatched' lists the lines "
        "waiting for you with their numbers"
    )


def assign_line(
    config: LoadedConfig,
    ledger: Ledger,
    line_id: int,
    numbers: Sequence[str],
    *,
    amount: Decimal | None,
    by: str,
    pipeline_name: str | None = None,
    write_back: bool = True,
) -> AssignResult:
    """Apply (part of) what is left of bank line ``line_id`` to ``numbers``, in that order,
    each up to its open amount; what stays over keeps waiting. Written back like an import."""
    pipeline, line = find_line(config, ledger, line_id, pipeline_name)
    if line.status not in {LineStatus.UNMATCHED} or line.remaining <= 0:
        raise UsageError(
            f"bank line {line_id} has nothing left to assign (it is {line.status}); "
            "'dunning payments unmatched' lists the lines that have"
        )
    left = to_cents(line.remaining)
    if amount is not None and amount <= 0:
        raise UsageError(f"--amount must be more than zero (got {amount})")
    if amount is not None:
        if to_cents(amount) > left:
            raise UsageError(
                f"--amount {amount:.2f} is more than the {line.remaining:.2f} left of bank line "
                f"{line_id}"
            )
        left = to_cents(amount)
    if not numbers:
        raise UsageError("name at least one invoice to assign the payment to")
    found = ledger.invoices.get(pipeline.name, list(numbers))
    new_payments: list[NewPayment] = []
    debtors: set[str] = set()
    for number in numbers:
        if number not in found:
            raise UsageError(f"invoice {number} is not in pipeline {pipeline.name!r}")
        invoice = found[number][0]
        if not invoice.is_dunnable:
            raise UsageError(f"invoice {number} has nothing open; choose an open invoice")
        if invoice.currency != line.currency:
            raise UsageError(
                f"invoice {number} is in {invoice.currency}, the payment in {line.currency}"
            )
        take = min(left, to_cents(invoice.amount_open))
        if take <= 0:
            break
        new_payments.append(
            NewPayment(
                number,
                take,
                line.booked_on,
                line.end_to_end_id or f"bank line {line_id}",
                invoice.due_date,
            )
        )
        debtors.add(invoice.debtor_id)
        left -= take
    learn = None
    if line.payer_iban and len(debtors) == 1:
        learn = (compact_iban(line.payer_iban), next(iter(debtors)))
    ledger.bank.assign(pipeline.name, line_id, new_payments, by, ORIGIN, learn)
    written, errors = 0, list[str]()
    if write_back:
        from dunning.core.runner import make_source
        from dunning.core.writeback import write_back_payments

        written, errors = write_back_payments(
            make_source(config, pipeline, ledger), ledger, pipeline.name
        )
    stored = ledger.bank.get(pipeline.name, line_id)
    assert stored is not None
    return AssignResult(
        pipeline.name,
        stored,
        tuple(new_payments),
        to_cents(stored.remaining),
        written,
        errors,
    )


def dismiss_line(
    config: LoadedConfig,
    ledger: Ledger,
    line_id: int,
    reason: str,
    *,
    by: str,
    pipeline_name: str | None = None,
) -> StoredLine:
    """Mark a waiting line as needing nothing from dunning (a refund, a returned payment the
    accounting platform now shows)."""
    pipeline, line = find_line(config, ledger, line_id, pipeline_name)
    if all(waiting.id != line_id for waiting in ledger.bank.waiting(pipeline.name)):
        raise UsageError(
            f"bank line {line_id} is not waiting for anyone (it is {line.status}"
            + (f", settled by {line.resolved_by}" if line.resolved_by else "")
            + ")"
        )
    ledger.bank.dismiss(pipeline.name, line_id, by, f"{reason} (by {by})")
    stored = ledger.bank.get(pipeline.name, line_id)
    assert stored is not None
    return stored
