"""Match incoming bank credits to open invoices.

The rules, tried in this order; the first that finds something decides (confidence 0-100):

1. ``reference`` (100): the structured creditor reference (or an RF / Dutch 16-digit reference
   quoted in the text) equals an invoice's payment reference. A lower amount is a partial
   payment; a higher one pays the invoice and leaves the surplus for a person.
2. ``invoice-number`` (95): invoice numbers found in the remittance text whose open amounts add
   up to the amount paid (one invoice, or several). A number found with another amount is only
   a suggestion (70).
3. ``account`` (90): the payer's IBAN is a known account of a debtor and exactly one of that
   debtor's open invoices is open for the amount paid (several: a suggestion, 75).
4. ``several-invoices`` (90): the payer's IBAN is known and the amount equals all the debtor's
   open invoices together, or the oldest ones together (by due date); a unique combination of
   two or three is a suggestion (80).
5. ``name`` (50): the payer's name is a debtor's name and the amount equals one of their open
   invoices or all of them: only ever a suggestion.

The book (:class:`OpenBook`) is indexed once, so matching a line costs a handful of dictionary
lookups whatever the number of invoices; amounts applied are taken off the book at once, so two
lines paying the same invoice do not both take its open amount.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations

from dunning.core.bank.statement import StatementLine
from dunning.core.ibans import compact_iban
from dunning.core.models import to_cents

REFERENCE_CONFIDENCE = 100
REFERENCE_IN_TEXT_CONFIDENCE = 95
NUMBER_CONFIDENCE = 95
NUMBER_OTHER_AMOUNT_CONFIDENCE = 70
ACCOUNT_CONFIDENCE = 90
ACCOUNT_AMBIGUOUS_CONFIDENCE = 75
SEVERAL_CONFIDENCE = 90
COMBINATION_CONFIDENCE = 80
NAME_CONFIDENCE = 50
NAME_ONLY = "matched on the payer's name only"
MAX_COMBINATION_SEARCH = 30
"""A debtor with more open invoices than this is not searched for combinations of 2 or 3."""

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/._]*[A-Za-z0-9]|[A-Za-z0-9]")
_RF_IN_TEXT = re.compile(r"\bRF\s?\d{2}(?:\s?[A-Z0-9]){1,21}\b", re.IGNORECASE)
_DIGITS_IN_TEXT = re.compile(r"(?<![\d.])(?:\d[\s.]?){15}\d(?![\d.])")


def normal_reference(text: str) -> str:
    """A payment reference without spaces, dots and case: how banks and sources may differ."""
    return re.sub(r"[\s.]", "", text).upper()


def normal_number(text: str) -> str:
    return text.strip().upper()


def normal_name(text: str) -> str:
    words = re.sub(r"[^a-z0-9 ]", " ", text.lower()).split()
    noise = {"bv", "b", "v", "nv", "vof", "cv", "de", "het", "the", "en", "and", "ltd", "gmbh"}
    return " ".join(w for w in words if w not in noise)


@dataclass(slots=True)
class OpenInvoice:
    """One invoice as the matcher sees it; ``open_cents`` goes down as payments are applied."""

    number: str
    debtor_id: str
    due_date: date
    open_cents: int
    currency: str
    payment_reference: str | None = None
    pipeline: str = ""


@dataclass(frozen=True, slots=True)
class Allocation:
    invoice: OpenInvoice
    cents: int


@dataclass(frozen=True, slots=True)
class MatchResult:
    """What the rules found for one credit line.

    ``allocations`` are applied when ``confidence`` reaches the threshold; otherwise they are
    the suggestion shown to a person. ``surplus_cents`` is what the allocations leave of the
    amount paid; ``note`` explains anything a person should know (a double payment)."""

    rule: str | None
    confidence: int
    allocations: tuple[Allocation, ...]
    surplus_cents: int
    note: str = ""

    @property
    def debtor_id(self) -> str | None:
        return self.allocations[0].invoice.debtor_id if self.allocations else None


NO_MATCH = MatchResult(None, 0, (), 0)


@dataclass
class OpenBook:
    """The invoices of a pipeline, indexed for matching.

    ``accounts`` maps a payer IBAN to the debtors known to pay from it; ``names`` maps a
    normalised debtor name to debtor ids. Paid invoices stay in the number and reference
    indexes (with ``open_cents`` 0) so that paying one again is recognised as a double payment.
    """

    invoices: Iterable[OpenInvoice]
    accounts: dict[str, set[str]] = field(default_factory=dict)
    names: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_reference: dict[str, OpenInvoice] = {}
        self.by_number: dict[str, OpenInvoice] = {}
        self.by_debtor: dict[str, list[OpenInvoice]] = {}
        ambiguous: set[str] = set()
        for invoice in self.invoices:
            self.by_number[normal_number(invoice.number)] = invoice
            if invoice.payment_reference:
                key = normal_reference(invoice.payment_reference)
                if key in self.by_reference:
                    ambiguous.add(key)
                self.by_reference[key] = invoice
            self.by_debtor.setdefault(invoice.debtor_id, []).append(invoice)
        for key in ambiguous:  # a reference two invoices share identifies neither
            del self.by_reference[key]
        for items in self.by_debtor.values():
            items.sort(key=lambda i: (i.due_date, i.number))
        self.longest_number = max((len(n) for n in self.by_number), default=0)

    def learn_account(self, iban: str, debtor_id: str) -> None:
        self.accounts.setdefault(iban, set()).add(debtor_id)

    def open_of(self, debtor_id: str, currency: str) -> list[OpenInvoice]:
        return [
            i
            for i in self.by_debtor.get(debtor_id, ())
            if i.open_cents > 0 and i.currency == currency
        ]

    def apply(self, result: MatchResult) -> None:
        """Take the allocations of an accepted match off the book."""
        for allocation in result.allocations:
            allocation.invoice.open_cents -= allocation.cents


def match_line(line: StatementLine, book: OpenBook) -> MatchResult:
    """The best match for a credit ``line`` (positive amount); :data:`NO_MATCH` if none."""
    cents = to_cents(line.amount)
    if cents <= 0:
        return NO_MATCH
    for rule in (_by_reference, _by_invoice_number, _by_account, _by_name):
        result = rule(line, cents, book)
        if result is not None:
            return result
    return NO_MATCH


def _pay(
    rule: str, confidence: int, cents: int, invoices: Sequence[OpenInvoice], note: str = ""
) -> MatchResult:
    """Spread ``cents`` over ``invoices`` in order, each up to its open amount."""
    left, allocations = cents, []
    for invoice in invoices:
        if left <= 0:
            break
        take = min(left, invoice.open_cents)
        if take > 0:
            allocations.append(Allocation(invoice, take))
            left -= take
    if not allocations:
        return MatchResult(rule, 0, (), cents, note)
    return MatchResult(rule, confidence, tuple(allocations), left, note)


def _double_payment(rule: str, invoice: OpenInvoice, cents: int) -> MatchResult:
    return MatchResult(
        rule,
        0,
        (),
        cents,
        f"invoice {invoice.number} is already paid: a double payment? refund it or assign it "
        "to another invoice",
    )


def _by_reference(line: StatementLine, cents: int, book: OpenBook) -> MatchResult | None:
    candidates: list[tuple[str, int]] = []
    if line.structured_reference:
        candidates.append((line.structured_reference, REFERENCE_CONFIDENCE))
    text = line.remittance_text
    candidates += [(m.group(0), REFERENCE_IN_TEXT_CONFIDENCE) for m in _RF_IN_TEXT.finditer(text)]
    candidates += [
        (m.group(0), REFERENCE_IN_TEXT_CONFIDENCE) for m in _DIGITS_IN_TEXT.finditer(text)
    ]
    for reference, confidence in candidates:
        invoice = book.by_reference.get(normal_reference(reference))
        if invoice is None or invoice.currency != line.currency:
            continue
        if invoice.open_cents <= 0:
            return _double_payment("reference", invoice, cents)
        result = _pay("reference", confidence, cents, [invoice])
        if result.surplus_cents:
            note = (
                f"{result.surplus_cents / 100:.2f} more than invoice {invoice.number} had open; "
                "assign the rest to another invoice or refund it"
            )
            return MatchResult(
                result.rule, confidence, result.allocations, result.surplus_cents, note
            )
        return result
    return None


def invoice_numbers_in(text: str, book: OpenBook) -> list[OpenInvoice]:
    """Invoices whose number appears in ``text`` as a word (or as two or three adjacent words
    joined: ``INV 2026 0001``), in order of appearance, each once."""
    tokens = _TOKEN.findall(text.upper())
    found: dict[str, OpenInvoice] = {}
    for start in range(len(tokens)):
        for length in (1, 2, 3):
            if start + length > len(tokens):
                break
            parts = tokens[start : start + length]
            joined = [" ".join(parts), "-".join(parts), "".join(parts)] if length > 1 else parts
            for candidate in joined:
                if len(candidate) > book.longest_number:
                    continue
                invoice = book.by_number.get(candidate)
                if invoice is not None:
                    found.setdefault(invoice.number, invoice)
    return list(found.values())


def _by_invoice_number(line: StatementLine, cents: int, book: OpenBook) -> MatchResult | None:
    mentioned = [
        i for i in invoice_numbers_in(line.remittance_text, book) if i.currency == line.currency
    ]
    if not mentioned:
        return None
    open_ones = [i for i in mentioned if i.open_cents > 0]
    if not open_ones:
        return _double_payment("invoice-number", mentioned[0], cents)
    total = sum(i.open_cents for i in open_ones)
    if total == cents:
        rule = "invoice-number" if len(open_ones) == 1 else "several-invoices"
        return _pay(rule, NUMBER_CONFIDENCE, cents, open_ones)
    ordered = sorted(open_ones, key=lambda i: (i.due_date, i.number))
    note = (
        f"the text names {', '.join(i.number for i in ordered)} with {total / 100:.2f} open, "
        f"but {cents / 100:.2f} was paid"
    )
    return _pay("invoice-number", NUMBER_OTHER_AMOUNT_CONFIDENCE, cents, ordered, note)


def _by_account(line: StatementLine, cents: int, book: OpenBook) -> MatchResult | None:
    if not line.payer_iban:
        return None
    debtors = book.accounts.get(compact_iban(line.payer_iban))
    if not debtors:
        return None
    open_items = [i for d in sorted(debtors) for i in book.open_of(d, line.currency)]
    if not open_items:
        return None
    exact = [i for i in open_items if i.open_cents == cents]
    if len(exact) == 1:
        return _pay("account", ACCOUNT_CONFIDENCE, cents, exact)
    if exact:
        note = f"{len(exact)} open invoices of this payer are open for exactly this amount"
        return _pay("account", ACCOUNT_AMBIGUOUS_CONFIDENCE, cents, exact[:1], note)
    for debtor_id in sorted(debtors):
        items = book.open_of(debtor_id, line.currency)
        running = 0
        for count, invoice in enumerate(items, start=1):
            running += invoice.open_cents
            if running == cents and count > 1:
                return _pay("several-invoices", SEVERAL_CONFIDENCE, cents, items[:count])
            if running > cents:
                break
    combination = _unique_combination(open_items, cents)
    if combination:
        return _pay("several-invoices", COMBINATION_CONFIDENCE, cents, combination)
    return None


def _unique_combination(items: list[OpenInvoice], cents: int) -> list[OpenInvoice] | None:
    if len(items) > MAX_COMBINATION_SEARCH:
        return None
    found: list[tuple[OpenInvoice, ...]] = []
    for size in (2, 3):
        for combo in combinations(items, size):
            if sum(i.open_cents for i in combo) == cents:
                found.append(combo)
                if len(found) > 1:
                    return None
    return list(found[0]) if found else None


def _by_name(line: StatementLine, cents: int, book: OpenBook) -> MatchResult | None:
    if not line.payer_name:
        return None
    debtors = book.names.get(normal_name(line.payer_name))
    if not debtors:
        return None
    for debtor_id in sorted(debtors):
        items = book.open_of(debtor_id, line.currency)
        exact = [i for i in items if i.open_cents == cents]
        if exact:
            return _pay(
                "name", NAME_CONFIDENCE, cents, exact[:1], "matched on the payer's name only"
            )
        if items and sum(i.open_cents for i in items) == cents:
            return _pay("name", NAME_CONFIDENCE, cents, items, "matched on the payer's name only")
    return None
