"""``dunning payments import``: read a statement, match its lines, record, write back.

The whole file is read and checked before anything is stored, and everything it leads to (its
lines, the payments, the accounts learned) is stored in one transaction: a bad file records
nothing. Each line is stored once, under a fingerprint of what the bank says about it (account,
day, amount, counterparty, references, text, and how many identical lines came before it in the
file), so importing the same file twice, or two exports that overlap, records nothing twice.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from dunning.core.bank.matching import MatchResult, OpenBook, match_line, normal_number
from dunning.core.bank.read import read_statement
from dunning.core.bank.statement import Statement, StatementError, StatementLine
from dunning.core.config import LoadedConfig, LoadedPipeline
from dunning.core.errors import LedgerError, UsageError
from dunning.core.ibans import compact_iban
from dunning.core.ledger import Ledger
from dunning.core.ledger.bank import LineStatus, NewLine, NewPayment
from dunning.core.models import to_cents
from dunning.core.source import Capability

ORIGIN = "bank"


@dataclass(frozen=True, slots=True)
class LineOutcome:
    """What became of one statement line, for the command's report."""

    place: str
    amount_cents: int
    status: str
    rule: str | None
    confidence: int | None
    invoices: tuple[str, ...]
    remaining_cents: int
    note: str | None
    still_open_cents: tuple[int, ...] = ()
    """Per invoice in ``invoices``: what it has open after this line."""


@dataclass
class ImportResult:
    pipeline: str
    file: str
    statements: int = 0
    lines: int = 0
    already_imported: int = 0
    outcomes: list[LineOutcome] = field(default_factory=list)
    written_back: int = 0
    writeback_errors: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def recorded_cents(self) -> int:
        return sum(
            o.amount_cents - o.remaining_cents
            for o in self.outcomes
            if o.status in {LineStatus.MATCHED, LineStatus.UNMATCHED} and o.invoices
        )


def choose_pipeline(
    config: LoadedConfig, statements: Sequence[Statement], name: str | None, file: str
) -> LoadedPipeline:
    """The pipeline whose bank account the statements are of; a statement of another account
    is refused."""
    ibans = sorted({s.account_iban.upper() for s in statements if s.account_iban})
    if name is not None:
        pipeline = config.pipeline(name)
        accounts = pipeline.config.bank_accounts
        if not accounts:
            raise UsageError(
                f"pipeline {name!r} has no bank account; set creditor.iban (or bank.accounts) in "
                "pipelines.yaml so statements can be checked against it"
            )
        for iban in ibans:
            if iban not in accounts:
                raise StatementError(
                    f"{file} is a statement of account {iban}, not of pipeline {name!r} "
                    f"({', '.join(accounts)}); nothing was imported"
                )
        return pipeline
    if not ibans:
        raise UsageError(
            f"{file} does not name its account as an IBAN; choose the pipeline with --pipeline"
        )
    found = [
        p for p in config.pipelines.values() if all(i in p.config.bank_accounts for i in ibans)
    ]
    if not found:
        known = sorted({a for p in config.pipelines.values() for a in p.config.bank_accounts})
        raise StatementError(
            f"{file} is a statement of account {', '.join(ibans)}, which is not the account of "
            f"any pipeline ({', '.join(known) or 'none set'}); nothing was imported. Set "
            "creditor.iban or bank.accounts in pipelines.yaml if it is yours"
        )
    if len(found) > 1:
        raise UsageError(
            f"account {', '.join(ibans)} belongs to pipelines "
            f"{', '.join(p.name for p in found)}; choose one with --pipeline"
        )
    return found[0]


def fingerprints(statement: Statement) -> list[str]:
    """A stable key per line of ``statement`` (see the module docstring)."""
    seen: Counter[str] = Counter()
    keys = []
    for line in statement.lines:
        parts = (
            statement.account_iban or "",
            line.booked_on.isoformat(),
            str(to_cents(line.amount)),
            line.currency,
            line.payer_iban or "",
            line.payer_name or "",
            line.end_to_end_id or "",
            line.structured_reference or "",
            line.remittance_text,
            "R" if line.is_reversal or line.is_return else "",
        )
        digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
        seen[digest] += 1
        keys.append(f"{digest}#{seen[digest]}")
    return keys


def import_statement(
    config: LoadedConfig,
    ledger: Ledger,
    path: Path,
    pipeline_name: str | None = None,
    *,
    write_back: bool = True,
) -> ImportResult:
    """Import the statement file at ``path`` (see the module docstring)."""
    statements = read_statement(path)
    pipeline = choose_pipeline(config, statements, pipeline_name, path.name)
    result = ImportResult(pipeline.name, path.name, statements=len(statements))
    # the pipeline's run lock: no run (or other import) changes what is open meanwhile
    run_id, _ = ledger.runs.start(pipeline.name, date.today())
    status = "failed"
    try:
        planned = plan_lines(ledger, pipeline, statements, result)
        ledger.bank.save_import(
            pipeline.name, planned, ORIGIN, source_undoes=source_undoes(pipeline)
        )
        status = "completed"
    except IntegrityError:
        raise LedgerError(
            f"{path.name}: another import stored lines of this statement at the same time; "
            "nothing of this one was stored, import it again (lines stored already are skipped)"
        ) from None
    finally:
        ledger.runs.finish(run_id, status, {"bank_statement": path.name, "lines": result.lines})
    if write_back and any(line.payments or line.status == LineStatus.REVERSAL for line in planned):
        from dunning.core.runner import make_source
        from dunning.core.writeback import write_back_payments

        source = make_source(config, pipeline, ledger)
        result.written_back, result.writeback_errors = write_back_payments(
            source, ledger, pipeline.name
        )
    return result


def source_undoes(pipeline: LoadedPipeline) -> bool:
    """Whether the pipeline's source can undo a payment it was told about (a returned one)."""
    return Capability.REVERSE_PAYMENTS in pipeline.source_cls.capabilities


def plan_lines(
    ledger: Ledger,
    pipeline: LoadedPipeline,
    statements: Sequence[Statement],
    result: ImportResult,
) -> list[NewLine]:
    """Decide what each new line of ``statements`` does; nothing is stored yet."""
    threshold = pipeline.config.bank.match_threshold
    keyed = [
        (statement, line, key)
        for statement in statements
        for line, key in zip(statement.lines, fingerprints(statement), strict=True)
    ]
    result.lines = len(keyed)
    known = ledger.bank.known_fingerprints(pipeline.name, (key for _, _, key in keyed))
    book = ledger.bank.open_book(pipeline.name)
    planned: list[NewLine] = []
    for statement, line, key in keyed:
        if key in known:
            result.already_imported += 1
            continue
        known.add(key)
        if line.is_reversal or line.is_return:
            new = _returned(ledger, pipeline, statement, line, key, planned, book)
        elif line.amount > 0:
            new = _credit(statement, line, key, book, threshold)
        else:
            new = _line(statement, line, key, LineStatus.IGNORED, 0, note="money out")
        planned.append(new)
        result.outcomes.append(
            LineOutcome(
                line.place,
                new.amount_cents,
                new.status,
                new.rule,
                new.confidence,
                tuple(p.invoice_number for p in new.payments),
                new.remaining_cents,
                new.note,
                tuple(_open_now(book, p.invoice_number) for p in new.payments),
            )
        )
    return planned


def _line(
    statement: Statement,
    line: StatementLine,
    key: str,
    status: str,
    remaining: int,
    **extra: object,
) -> NewLine:
    return NewLine(
        fingerprint=key,
        account=statement.account_iban,
        file=statement.source,
        place=line.place,
        booked_on=line.booked_on,
        amount_cents=to_cents(line.amount),
        currency=line.currency,
        kind="reversal"
        if line.is_reversal or line.is_return
        else "credit"
        if line.amount > 0
        else "debit",
        payer_name=line.payer_name,
        payer_iban=line.payer_iban,
        structured_reference=line.structured_reference,
        remittance=line.remittance_text,
        end_to_end_id=line.end_to_end_id,
        status=status,
        remaining_cents=remaining,
        **extra,  # type: ignore[arg-type]
    )


def describe(result: MatchResult) -> str:
    """A suggestion a person can act on: ``INV-1 (120.00), INV-2 (30.00) by account, 75%``."""
    invoices = ", ".join(f"{a.invoice.number} ({a.cents / 100:.2f})" for a in result.allocations)
    return f"{invoices} by {result.rule}, {result.confidence}%"


def _credit(
    statement: Statement, line: StatementLine, key: str, book: OpenBook, threshold: int
) -> NewLine:
    match = match_line(line, book)
    cents = to_cents(line.amount)
    if match.allocations and match.confidence >= threshold:
        book.apply(match)
        payer = compact_iban(line.payer_iban or "")
        debtor = match.debtor_id
        if payer and debtor and payer not in book.accounts:
            book.learn_account(payer, debtor)
        return _line(
            statement,
            line,
            key,
            LineStatus.UNMATCHED if match.surplus_cents else LineStatus.MATCHED,
            match.surplus_cents,
            rule=match.rule,
            confidence=match.confidence,
            note=match.note or None,
            payments=tuple(
                NewPayment(
                    a.invoice.number,
                    a.cents,
                    line.booked_on,
                    line.end_to_end_id or line.structured_reference,
                    a.invoice.due_date,
                )
                for a in match.allocations
            ),
            learn=(payer, debtor) if payer and debtor else None,
        )
    return _line(
        statement,
        line,
        key,
        LineStatus.UNMATCHED,
        cents,
        rule=match.rule,
        confidence=match.confidence or None,
        suggestion=describe(match) if match.allocations else None,
        note=match.note or None,
    )


def _returned(
    ledger: Ledger,
    pipeline: LoadedPipeline,
    statement: Statement,
    line: StatementLine,
    key: str,
    planned: list[NewLine],
    book: OpenBook,
) -> NewLine:
    """A returned or reversed payment: undo the credit it sends back, found in this import or
    an earlier one by end-to-end id, else by payer account, for the same amount. The invoices
    it paid are open again, in the book too (a later line may pay them again)."""
    cents = to_cents(line.amount)
    if cents > 0:
        return _line(
            statement, line, key, LineStatus.IGNORED, 0, note="a reversed debit: money back in"
        )
    for index in range(len(planned) - 1, -1, -1):
        earlier = planned[index]
        if (
            earlier.kind == "credit"
            and earlier.payments
            and earlier.amount_cents == -cents
            and _same_payment(earlier.end_to_end_id, earlier.payer_iban, line)
            and not any(p.reverses_batch_index == index for p in planned)
        ):
            _reopen(book, [(p.invoice_number, p.cents) for p in earlier.payments])
            return _line(
                statement,
                line,
                key,
                LineStatus.REVERSAL,
                0,
                reverses_batch_index=index,
                note=None,
            )
    for stored in ledger.bank.credits_to_reverse(pipeline.name, -cents):
        if not _same_payment(stored.end_to_end_id, stored.payer_iban, line):
            continue
        paid = [p for p in ledger.bank.payments_of(stored.id) if p.cents > 0]
        _reopen(book, [(p.invoice_number, p.cents) for p in paid])
        told = [p.invoice_number for p in paid if p.written_back]
        note = None
        if told and not source_undoes(pipeline):
            note = (
                f"returned payment for invoice {', '.join(told)}: the invoice is open again in "
                f"dunning, but {pipeline.source_cls.kind} was told it was paid; record the "
                "returned payment there, then the ladder goes on"
            )
        return _line(
            statement, line, key, LineStatus.REVERSAL, 0, reverses_line_id=stored.id, note=note
        )
    return _line(
        statement,
        line,
        key,
        LineStatus.REVERSAL,
        0,
        note="a returned payment dunning did not record (not matched, or imported elsewhere); "
        "check it in the accounting platform",
    )


def _open_now(book: OpenBook, number: str) -> int:
    return book.by_number[normal_number(number)].open_cents


def _reopen(book: OpenBook, paid: list[tuple[str, int]]) -> None:
    for number, cents in paid:
        invoice = book.by_number.get(normal_number(number))
        if invoice is not None:
            invoice.open_cents += cents


def _same_payment(end_to_end: str | None, payer_iban: str | None, line: StatementLine) -> bool:
    if end_to_end and line.end_to_end_id:
        return end_to_end == line.end_to_end_id
    return bool(payer_iban) and payer_iban == line.payer_iban
