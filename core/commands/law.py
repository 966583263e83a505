"""``dunning law costs | interest | deadline``: the calculators behind final demands, for
credit controllers. With ``--json`` each prints one object; the answer is under ``amount``
(costs, interest) or ``last_day`` and ``costs_due_from`` (deadline), as strings."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import click

from dunning.core.commands.common import amount_from, reports_errors
from dunning.core.errors import UsageError
from dunning.core.law.costs import be_consumer_damages, eu_flat_fee, nl_costs
from dunning.core.law.deadline import fourteen_day_term
from dunning.core.law.interest import statutory_interest
from dunning.core.law.tables import rates

day_type = click.DateTime(formats=["%Y-%m-%d"])
country_option = click.option(
    "--country", type=click.Choice(["nl", "be"]), default="nl", show_default=True
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _emit(data: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        for line in lines:
            click.echo(line)


def _positive(text: str, what: str) -> Decimal:
    """``text`` as an amount above zero, else a one-line :class:`UsageError`."""
    amount = amount_from(text)
    if amount is None or amount <= 0:
        raise UsageError(f"{what} {text!r} must be an amount above zero, like 1250.00")
    return amount


@click.group()
def law() -> None:
    """Collection law calculators: costs, statutory interest, the 14-day term."""


@law.command()
@click.argument("amount")
@country_option
@click.option("--kind", type=click.Choice(["consumer", "business"]), default="consumer")
@click.option("--vat", is_flag=True, help="A third party collects and the VAT is not deductible.")
@click.option("--invoices", type=click.IntRange(min=1), default=1, help="Late invoices (EU fee).")
@json_option
@reports_errors
def costs(amount: str, country: str, kind: str, vat: bool, invoices: int, as_json: bool) -> None:
    """Extrajudicial collection costs on a principal of AMOUNT."""
    principal = _positive(amount, "AMOUNT")
    data: dict[str, Any] = {"country": country, "kind": kind, "principal": _money(principal)}
    if country == "be" and kind == "business":
        fee = eu_flat_fee(invoices)
        data |= {"amount": _money(fee), "rule": "flat compensation per invoice"}
        _emit(data, as_json, [f"flat compensation for {invoices} invoice(s): {_money(fee)}"])
        return
    result = be_consumer_damages(principal) if country == "be" else nl_costs(principal, vat=vat)
    data |= {
        "amount": _money(result.total),
        "costs": _money(result.amount),
        "vat": _money(result.vat),
        "rule": result.rule,
        "lines": [
            {
                "from": _money(line.low),
                "to": _money(line.high),
                "percent": str(line.percent),
                "amount": _money(line.amount),
            }
            for line in result.lines
        ],
    }
    text = [
        f"{line.percent}% of {_money(line.low)}-{_money(line.high)}: {_money(line.amount)}"
        for line in result.lines
    ]
    text.append(f"costs: {_money(result.amount)} ({result.rule})")
    if vat:
        text.append(f"VAT: {_money(result.vat)}")
    if country == "nl" and kind == "business":
        fee = eu_flat_fee(invoices)
        data["eu_flat_fee"] = _money(fee)
        text.append(
            f"at least the EU flat compensation: {_money(fee)} ({invoices} invoice(s)); "
            "an agreed amount may replace the staffel"
        )
    text.append(f"total: {_money(result.total)}")
    _emit(data, as_json, text)


@law.command()
@click.option("--principal", "principal_text", required=True, help="The amount owed.")
@click.option("--kind", type=click.Choice(["consumer", "business"]), required=True)
@click.option(
    "--due", type=day_type, required=True, help="The due date (interest from the day after)."
)
@click.option("--paid", type=day_type, required=True, help="The day of payment (included).")
@country_option
@click.option("--simple", is_flag=True, help="No yearly compounding.")
@click.option("--rate", "fixed_rate", default=None, help="An agreed rate in percent instead.")
@json_option
@reports_errors
def interest(
    principal_text: str,
    kind: str,
    due: datetime,
    paid: datetime,
    country: str,
    simple: bool,
    fixed_rate: str | None,
    as_json: bool,
) -> None:
    """Statutory interest from the day after --due through --paid."""
    principal = _positive(principal_text, "--principal")
    start, end = due.date() + timedelta(days=1), paid.date()
    if fixed_rate is not None:
        schedule: tuple[tuple[date, Decimal], ...] = ((date.min, _positive(fixed_rate, "--rate")),)
    elif country == "be":
        if kind == "consumer":
            raise UsageError(
                "no Belgian consumer rate table is shipped; give the agreed rate with --rate"
            )
        schedule = rates("be_commercial_interest.csv", "commercial")
    else:
        schedule = rates("nl_statutory_interest.csv", kind.replace("business", "commercial"))
    try:
        result = statutory_interest(principal, start, end, schedule, compound=not simple)
    except ValueError as error:
        raise UsageError(str(error)) from None
    data = {
        "principal": _money(principal),
        "from": start.isoformat(),
        "through": end.isoformat(),
        "compounded": not simple,
        "day_count": "actual/365",
        "amount": _money(result.amount),
        "periods": [
            {
                "from": line.first_day.isoformat(),
                "through": line.last_day.isoformat(),
                "days": line.days,
                "percent": str(line.percent),
                "base": _money(line.base),
                "amount": _money(line.amount),
            }
            for line in result.lines
        ],
    }
    text = [
        f"{line.first_day} - {line.last_day}: {line.days} days at {line.percent}% on "
        f"{_money(line.base)} = {_money(line.amount)}"
        for line in result.lines
    ]
    text.append(f"interest: {_money(result.amount)}")
    _emit(data, as_json, text)


@law.command()
@click.option("--received", type=day_type, required=True, help="The day the letter was received.")
@country_option
@json_option
@reports_errors
def deadline(received: datetime, country: str, as_json: bool) -> None:
    """The last day of the 14-day term of a 14-day letter, and the first day costs are due."""
    if country != "nl":
        raise UsageError("the 14-day letter is Dutch law; use --country nl")
    term = fourteen_day_term(received.date())
    data = {
        "received": term.received.isoformat(),
        "last_day": term.last_day.isoformat(),
        "costs_due_from": term.costs_due_from.isoformat(),
        "moved": term.moved,
    }
    lines = [f"last day of the term: {term.last_day}", f"costs due from: {term.costs_due_from}"]
    if term.moved:
        lines.insert(1, f"(moved: {term.moved})")
    _emit(data, as_json, lines)
