"""The matching rules on their own: an indexed book of invoices and statement lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from dunning.core.bank.matching import (
    NO_MATCH,
    OpenBook,
    OpenInvoice,
    invoice_numbers_in,
    match_line,
)
from dunning.core.bank.statement import StatementLine

DUE = date(2026, 10, 1)


def invoice(number: str, debtor: str, cents: int, **extra: object) -> OpenInvoice:
    day = extra.pop("due", DUE)
    assert isinstance(day, date)
    return OpenInvoice(number, debtor, day, cents, str(extra.pop("currency", "EUR")), **extra)  # type: ignore[arg-type]


def line(amount: str, **extra: object) -> StatementLine:
    values: dict[str, object] = {
        "key": "k",
        "booked_on": date(2026, 11, 3),
        "amount": Decimal(amount),
        "currency": "EUR",
        "is_credit": True,
        "is_reversal": False,
        "is_return": False,
        "structured_reference": None,
        "remittance_text": "",
        "payer_name": None,
        "payer_iban": None,
        "end_to_end_id": None,
        "place": "test",
    }
    values.update(extra)
    return StatementLine(**values)  # type: ignore[arg-type]


def test_a_reference_two_invoices_share_identifies_neither() -> None:
    book = OpenBook(
        [
            invoice("A-1", "D1", 1000, payment_reference="RF18 5390 0754 7034"),
            invoice("A-2", "D2", 1000, payment_reference="rf18539007547034"),
        ]
    )
    assert match_line(line("10.00", structured_reference="RF18539007547034"), book) == NO_MATCH


def test_a_dutch_reference_quoted_in_the_text_with_spaces() -> None:
    book = OpenBook([invoice("A-1", "D1", 1000, payment_reference="1234567890123456")])
    result = match_line(line("10.00", remittance_text="kenmerk 1234 5678 9012 3456"), book)
    assert (result.rule, result.confidence) == ("reference", 95)
    assert [a.invoice.number for a in result.allocations] == ["A-1"]


def test_paying_a_paid_invoice_again_is_flagged_not_applied() -> None:
    book = OpenBook([invoice("A-1", "D1", 0, payment_reference="RF712348231")])
    result = match_line(line("25.00", structured_reference="RF712348231"), book)
    assert result.allocations == () and result.surplus_cents == 2500
    assert "already paid: a double payment?" in result.note


def test_another_currency_never_matches() -> None:
    book = OpenBook([invoice("A-1", "D1", 1000, currency="USD")])
    assert match_line(line("10.00", remittance_text="A-1"), book) == NO_MATCH


def test_numbers_are_found_as_words_not_inside_other_numbers() -> None:
    book = OpenBook([invoice("2026-1", "D1", 100), invoice("2026-12", "D1", 100)])
    found = invoice_numbers_in("facturen 2026-12 en 2026 1", book)
    assert [i.number for i in found] == ["2026-12", "2026-1"]
    assert invoice_numbers_in("order 12026-12x", book) == []


def test_account_rules_exact_ambiguous_oldest_first_and_combination() -> None:
    items = [
        invoice("B-1", "D1", 3000, due=date(2026, 9, 1)),
        invoice("B-2", "D1", 2000, due=date(2026, 9, 15)),
        invoice("B-3", "D1", 2000, due=date(2026, 10, 1)),
        invoice("B-4", "D1", 700, due=date(2026, 10, 15)),
    ]
    book = OpenBook(items, accounts={"NL20INGB0001234567": {"D1"}})
    iban = {"payer_iban": "NL20 INGB 0001 2345 67"}
    exact = match_line(line("30.00", **iban), book)
    assert (exact.rule, exact.confidence, exact.allocations[0].invoice.number) == (
        "account",
        90,
        "B-1",
    )
    two_alike = match_line(line("20.00", **iban), book)
    assert (two_alike.confidence, two_alike.allocations[0].invoice.number) == (75, "B-2")
    oldest = match_line(line("70.00", **iban), book)  # B-1 + B-2 + B-3, oldest first
    assert (oldest.rule, oldest.confidence) == ("several-invoices", 90)
    assert [a.invoice.number for a in oldest.allocations] == ["B-1", "B-2", "B-3"]
    combination = match_line(line("37.00", **iban), book)  # B-1 + B-4, not a prefix
    assert (combination.rule, combination.confidence) == ("several-invoices", 80)
    assert [a.invoice.number for a in combination.allocations] == ["B-1", "B-4"]


def test_name_alone_is_a_suggestion_and_legal_forms_do_not_matter() -> None:
    book = OpenBook([invoice("C-1", "D9", 1500)], names={"mulder bouw": {"D9"}})
    result = match_line(line("15.00", payer_name="Mulder Bouw B.V."), book)
    assert (result.rule, result.confidence) == ("name", 50)


def test_applied_amounts_come_off_the_book() -> None:
    book = OpenBook([invoice("A-1", "D1", 1000, payment_reference="RF712348231")])
    first = match_line(line("6.00", structured_reference="RF712348231"), book)
    book.apply(first)
    second = match_line(line("6.00", structured_reference="RF712348231"), book)
    assert [a.cents for a in second.allocations] == [400] and second.surplus_cents == 200


@settings(max_examples=200, deadline=None)
@given(
    opens=st.lists(st.integers(min_value=0, max_value=50_000), min_size=1, max_size=8),
    paid=st.integers(min_value=1, max_value=120_000),
    mention=st.lists(st.integers(min_value=0, max_value=7), max_size=3),
    with_account=st.booleans(),
)
def test_a_match_never_takes_more_than_is_open_or_paid(
    opens: list[int], paid: int, mention: list[int], with_account: bool
) -> None:
    items = [
        invoice(f"N-{i}", "D1", cents, payment_reference=f"RF{i}") for i, cents in enumerate(opens)
    ]
    accounts = {"NL20INGB0001234567": {"D1"}} if with_account else {}
    book = OpenBook(items, accounts=accounts)
    text = " ".join(f"N-{i}" for i in mention if i < len(opens))
    amount = f"{paid / 100:.2f}"
    result = match_line(line(amount, remittance_text=text, payer_iban="NL20INGB0001234567"), book)
    taken = sum(a.cents for a in result.allocations)
    assert taken + result.surplus_cents == (paid if result.rule else 0) or result == NO_MATCH
    assert taken <= paid
    for allocation in result.allocations:
        assert 0 < allocation.cents <= allocation.invoice.open_cents
    if result.confidence >= 90:
        assert result.allocations
