"""The collection law pack, checked against the statutes' own numbers (see docs/law.md)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from dunning.core.cli import main
from dunning.core.config.schema import LawConfig
from dunning.core.law.claim import build_claim
from dunning.core.law.costs import be_consumer_damages, eu_flat_fee, nl_costs
from dunning.core.law.deadline import fourteen_day_term
from dunning.core.law.interest import anniversary, statutory_interest
from dunning.core.law.tables import rates
from dunning.core.models import DebtorKind, Invoice

NL_CONSUMER = rates("nl_statutory_interest.csv", "consumer")
NL_COMMERCIAL = rates("nl_statutory_interest.csv", "commercial")


@pytest.mark.parametrize(
    ("principal", "costs", "rule"),
    [
        ("100.00", "40.00", "minimum"),  # 15.00 by the staffel: the floor applies
        ("266.66", "40.00", "minimum"),  # 39.999
        ("266.67", "40.00", "staffel"),  # 40.0005
        ("1000.00", "150.00", "staffel"),
        ("2500.00", "375.00", "staffel"),  # end of the first slice
        ("2500.01", "375.00", "staffel"),  # 375.001
        ("5000.00", "625.00", "staffel"),
        ("10000.00", "875.00", "staffel"),
        ("200000.00", "2775.00", "staffel"),
        ("1000000.00", "6775.00", "staffel"),  # the staffel reaches the cap exactly here
        ("1000200.00", "6775.00", "maximum"),
    ],
)
def test_dutch_costs_follow_the_bik_staffel_floor_and_cap(
    principal: str, costs: str, rule: str
) -> None:
    result = nl_costs(Decimal(principal))
    assert (result.amount, result.rule) == (Decimal(costs), rule)
    assert result.vat == 0 and result.total == result.amount


def test_vat_is_added_only_when_asked() -> None:
    result = nl_costs(Decimal("3000.00"), vat=True)
    assert (result.amount, result.vat, result.total) == (
        Decimal("425.00"),
        Decimal("89.25"),
        Decimal("514.25"),
    )


def test_the_eu_flat_fee_is_per_invoice() -> None:
    assert eu_flat_fee(1) == Decimal("40.00")
    assert eu_flat_fee(3) == Decimal("120.00")


@given(st.decimals(min_value="0.01", max_value="100000000", places=2))
def test_dutch_costs_never_leave_the_floor_and_cap(principal: Decimal) -> None:
    amount = nl_costs(principal).amount
    assert Decimal("40.00") <= amount <= Decimal("6775.00")
    assert amount == amount.quantize(Decimal("0.01"))


@pytest.mark.parametrize(
    ("principal", "damages"),
    [
        ("100.00", "20.00"),
        ("150.00", "20.00"),
        ("150.01", "30.00"),  # 30 + 10% of 0.01
        ("500.00", "65.00"),
        ("500.01", "65.00"),  # 65 + 5% of 0.01
        ("1000.00", "90.00"),
        ("39000.00", "1990.00"),
        ("39500.00", "2000.00"),  # 2015 by the brackets: the cap applies
    ],
)
def test_belgian_consumer_damages_follow_the_brackets_and_cap(principal: str, damages: str) -> None:
    assert be_consumer_damages(Decimal(principal)).amount == Decimal(damages)


def test_interest_is_split_at_a_rate_change_across_the_half_year() -> None:
    # Commercial: 10.5% until 30 June 2023, 12% from 1 July 2023.
    result = statutory_interest(
        Decimal("10000.00"), date(2023, 6, 21), date(2023, 7, 10), NL_COMMERCIAL
    )
    assert [(line.days, line.percent) for line in result.lines] == [
        (10, Decimal("10.5")),
        (10, Decimal("12")),
    ]
    expected = Decimal(10000) * (Decimal("0.105") * 10 + Decimal("0.12") * 10) / 365
    assert result.amount == expected.quantize(Decimal("0.01"))  # 61.64


def test_interest_compounds_on_each_anniversary_over_two_years() -> None:
    # Consumer rate 2% throughout 2017-2019: compounding gives 1000 * 1.02^2 - 1000 = 40.40.
    result = statutory_interest(
        Decimal("1000.00"), date(2017, 3, 1), date(2019, 2, 28), NL_CONSUMER
    )
    assert result.amount == Decimal("40.40")
    assert [line.base for line in result.lines] == [Decimal("1000.00"), Decimal("1020.00")]
    simple = statutory_interest(
        Decimal("1000.00"), date(2017, 3, 1), date(2019, 2, 28), NL_CONSUMER, compound=False
    )
    assert simple.amount == Decimal("40.00")


def test_a_leap_year_counts_366_days_of_1_365th_each() -> None:
    # Day count actual/365: 2024 has 366 days, so a whole year at 7% earns 7% * 366/365.
    result = statutory_interest(
        Decimal("1000.00"), date(2024, 1, 1), date(2024, 12, 31), NL_CONSUMER
    )
    assert sum(line.days for line in result.lines) == 366
    assert result.amount == Decimal("70.19")
    assert anniversary(date(2024, 2, 29)) == date(2025, 3, 1)


def test_no_interest_before_the_table_starts() -> None:
    with pytest.raises(ValueError, match="no interest rate is known for 2010-01-01"):
        statutory_interest(Decimal(100), date(2010, 1, 1), date(2010, 2, 1), NL_CONSUMER)


@pytest.mark.parametrize(
    ("received", "last_day", "why"),
    [
        ("2026-03-02", "2026-03-16", None),  # a Monday plus 14 days: a Monday
        ("2026-03-07", "2026-03-23", "Saturday"),  # day 14 is Saturday 21 March
        ("2026-04-13", "2026-04-28", "King's Day"),  # day 14 is Monday 27 April
        ("2026-12-11", "2026-12-28", "Christmas Day"),  # 25 Dec (Fri), then the weekend
        ("2026-03-23", "2026-04-07", "Easter Monday"),  # 6 April
        ("2026-04-21", "2026-05-06", "Liberation Day"),  # 5 May counts every year (Atw)
    ],
)
def test_the_14_day_term_starts_after_receipt_and_ends_on_a_working_day(
    received: str, last_day: str, why: str | None
) -> None:
    term = fourteen_day_term(date.fromisoformat(received))
    assert term.last_day == date.fromisoformat(last_day)
    assert term.costs_due_from == date.fromisoformat(last_day) + timedelta(days=1)
    assert (term.moved is None) == (why is None)
    if why:
        assert why in (term.moved or "")


def cli_json(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, ["law", *args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert isinstance(data, dict)
    return data


def test_calculators_answer_in_json_under_the_documented_keys() -> None:
    assert cli_json("costs", "3000", "--vat")["amount"] == "514.25"
    assert cli_json("costs", "100", "--country", "be")["amount"] == "20.00"
    assert cli_json("costs", "100", "--country", "be", "--kind", "business")["amount"] == "40.00"
    interest = cli_json(
        "interest", "--principal", "10000", "--kind", "business",
        "--due", "2023-06-20", "--paid", "2023-07-10",
    )  # fmt: skip
    assert interest["amount"] == "61.64"
    deadline = cli_json("deadline", "--received", "2026-04-13")
    assert (deadline["last_day"], deadline["costs_due_from"]) == ("2026-04-28", "2026-04-29")


def test_calculator_mistakes_are_one_line_errors() -> None:
    result = CliRunner().invoke(
        main,
        ["law", "interest", "--principal", "100", "--kind", "consumer", "--due", "2009-01-01",
         "--paid", "2009-03-01"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: no interest rate is known for 2009-01-02; the table starts on 2015-01-01"
    ]


def _invoice(number: str, amount: str, due: date) -> Invoice:
    return Invoice(number, "D", due - timedelta(days=30), due, Decimal(amount), Decimal(amount))


def test_a_dutch_consumer_claim_leaves_costs_out_until_the_term_has_passed() -> None:
    invoices = [_invoice("F1", "1000.00", date(2026, 1, 31))]
    before = build_claim(invoices, DebtorKind.CONSUMER, date(2026, 3, 1), LawConfig(), False)
    after = build_claim(invoices, DebtorKind.CONSUMER, date(2026, 3, 1), LawConfig(), True)
    assert (before.costs, before.costs_now) == (Decimal("150.00"), False)
    assert before.total == before.principal + before.interest
    assert after.total == after.principal + after.interest + Decimal("150.00")
    assert before.interest == after.interest > 0


def test_business_costs_are_at_least_the_eu_fee_per_invoice() -> None:
    small = [_invoice(f"F{n}", "10.00", date(2026, 1, 31)) for n in range(5)]
    claim = build_claim(small, DebtorKind.BUSINESS, date(2026, 3, 1), LawConfig(), False)
    assert claim.costs == Decimal("200.00")  # 5 x 40.00 beats the staffel floor of 40.00
    assert claim.costs_now
    agreed = LawConfig(agreed_business_costs=Decimal("500"))
    assert build_claim(small, DebtorKind.BUSINESS, date(2026, 3, 1), agreed, False).costs == 500


def test_vat_is_added_to_costs_only_for_a_third_party_the_creditor_cannot_deduct() -> None:
    invoices = [_invoice("F1", "1000.00", date(2026, 1, 31))]
    own = build_claim(invoices, DebtorKind.CONSUMER, date(2026, 3, 1), LawConfig(), True)
    agency = LawConfig(third_party_collects=True, vat_deductible=False)
    charged = build_claim(invoices, DebtorKind.CONSUMER, date(2026, 3, 1), agency, True)
    assert own.vat == 0 and charged.vat == Decimal("31.50")


def test_a_belgian_consumer_claim_has_damages_after_the_free_reminder_term() -> None:
    invoices = [_invoice("F1", "1000.00", date(2026, 1, 31))]
    be = LawConfig(country="be")
    early = build_claim(invoices, DebtorKind.CONSUMER, date(2026, 3, 1), be, False)
    assert (early.costs, early.costs_now, early.interest) == (
        Decimal("90.00"),
        False,
        Decimal("0.00"),
    )


def test_an_amount_that_is_not_one_is_a_one_line_error() -> None:
    result = CliRunner().invoke(main, ["law", "costs", "12,3x"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: AMOUNT '12,3x' must be an amount above zero, like 1250.00"
    ]
