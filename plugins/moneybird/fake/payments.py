"""The ``payment`` object of ``POST sales_invoices/{id}/payments.json``, checked the way Moneybird
checks it: ``payment_date`` and ``price`` required, ``manual_payment_action`` from a fixed list,
``bank_transfer`` only with a ``financial_mutation_id`` (API-CONTRACTS.md 2.6).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from werkzeug.wrappers import Response

from dunning.plugins.moneybird.fake.responses import field_errors, symbolic_error
from dunning.plugins.moneybird.fake.values import InvalidValue, parse_identifier, parse_money

MANUAL_PAYMENT_ACTIONS = frozenset(
    {
        "private_payment",
        "payment_without_proof",
        "cash_payment",
        "rounding_error",
        "bank_transfer",
        "balance_settlement",
        "invoices_settlement",
    }
)


def payment_fields(body: Any) -> dict[str, Any] | Response:
    """The validated ``payment`` object of a request, or its 400/422 answer."""
    payment = body.get("payment") if isinstance(body, dict) else None
    if not isinstance(payment, dict):
        return symbolic_error(400, "Payment is required", payment="required")
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name in ("payment_date", "price"):
        if payment.get(name) in (None, ""):
            errors[name] = ["can't be blank"]
    if "payment_date" not in errors:
        try:
            values["payment_date"] = date.fromisoformat(str(payment["payment_date"]))
        except ValueError:
            errors["payment_date"] = ["is invalid"]
    if "price" not in errors:
        try:
            values["price"] = parse_money(payment["price"])
        except InvalidValue as error:
            errors["price"] = [str(error)]
    action = payment.get("manual_payment_action")
    if action is not None and action not in MANUAL_PAYMENT_ACTIONS:
        errors["manual_payment_action"] = ["is not included in the list"]
    mutation = parse_identifier(payment.get("financial_mutation_id"))
    if action == "bank_transfer" and mutation is None:
        errors["financial_mutation_id"] = ["can't be blank"]
    if errors:
        return field_errors(errors)
    identifier = payment.get("transaction_identifier")
    values["transaction_identifier"] = None if identifier is None else str(identifier)
    values["manual_payment_action"] = action
    values["financial_mutation_id"] = mutation
    return values
