"""The early-payment discount a message may mention: the invoice's own terms first, then the
debtor's (``debtors:``), then the pipeline's (``early_payment_discount:``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from dunning.core.models import CENT, EarlyDiscount, Invoice
from dunning.core.policy.steps import Discount, Rules


def terms_of(invoice: Invoice, debtor_id: str, rules: Rules) -> Discount | None:
    settings = rules.settings_of(debtor_id)
    if settings.no_discount:
        return None
    if invoice.discount_percent is not None:
        return Discount(invoice.discount_percent, invoice.discount_days or 0)
    return settings.discount or rules.discount


def early_discount(
    invoices: Sequence[Invoice], debtor_id: str, rules: Rules, today: date
) -> EarlyDiscount | None:
    """The discount still open on ``today`` for the message's invoices, or ``None``.

    When invoices offer different percentages, the one whose deadline comes first is shown and
    only the invoices with that percentage count.
    """
    offers = []
    for invoice in invoices:
        terms = terms_of(invoice, debtor_id, rules)
        if terms is None:
            continue
        deadline = invoice.issue_date + timedelta(days=terms.within_days)
        if today <= deadline:
            offers.append((deadline, terms.percent, invoice))
    if not offers:
        return None
    offers.sort(key=lambda offer: (offer[0], offer[2].number))
    deadline, percent, _ = offers[0]
    amount = sum(
        (
            (invoice.amount_open * percent / 100).quantize(CENT, rounding="ROUND_HALF_UP")
            for _, p, invoice in offers
            if p == percent
        ),
        Decimal(0),
    )
    total = sum((invoice.amount_open for invoice in invoices), Decimal(0))
    numbers = tuple(invoice.number for _, p, invoice in offers if p == percent)
    return EarlyDiscount(percent, deadline, amount, total - amount, numbers)
