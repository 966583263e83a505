"""The parts of a letter the layout draws itself: the invoice table, the claim and how to pay.

Each part is drawn where the template's ``@invoices``, ``@claim`` or ``@payment`` line stands
(see :mod:`dunning.channels.letter.render`), onto a :class:`LetterWriter`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from dunning.channels.letter.address import grouped_iban
from dunning.channels.letter.render import Line
from dunning.core.pdf import format_day, format_money

if TYPE_CHECKING:
    from dunning.channels.letter.layout import LetterWriter

ROW = 4.6
"""The height of a table row."""
LINE = 5.0
GAP = 3.0


def invoice_table(letter: LetterWriter) -> None:
    """The invoices: number, dates and open amount (and the original amount on legal steps or
    when one is partly paid), with the total."""
    invoices = letter.message.invoices
    if not invoices:
        return
    with_original = letter.message.claim is not None or any(
        invoice.amount_open != invoice.amount_total for invoice in invoices
    )
    letter.keep(ROW * (len(invoices) + 2))
    total = letter.money(sum((invoice.amount_open for invoice in invoices), Decimal(0)))
    headings = [letter.label("invoice"), letter.label("issue_date"), letter.label("due_date")]
    rows: list[list[str]] = []
    for invoice in invoices:
        row = [
            invoice.number,
            format_day(invoice.issue_date, letter.language),
            format_day(invoice.due_date, letter.language),
        ]
        if with_original:
            row.append(format_money(invoice.amount_total, invoice.currency, letter.language))
        rows.append([*row, format_money(invoice.amount_open, invoice.currency, letter.language)])
    if with_original:
        headings.append(letter.label("amount_total"))
        widths: tuple[float, ...] = (38, 30, 30, 36, 36)
    else:
        widths = (44, 38, 38, 50)
    headings.append(letter.label("amount_open"))
    rows.append([letter.label("total"), *([""] * (len(widths) - 2)), total])
    aligns = ["LEFT", "LEFT", "LEFT", *(["RIGHT"] * (len(widths) - 3))]
    letter.table(headings, rows, widths, aligns, bold_last=True)


def claim(letter: LetterWriter) -> None:
    """The claim, itemised as claim transparency asks: per invoice the principal and the
    interest (period, rate), then interest basis, collection costs with their basis, VAT and
    the total; costs that only follow a missed term are shown apart, as such."""
    claim = letter.message.claim
    if claim is None:
        return
    letter.heading(
        letter.label("claim_heading", date=letter.long_day(claim.as_of)),
        keep=ROW * (len(claim.lines) + 4),
    )
    rows = []
    for line in claim.lines:
        if line.interest is not None and line.interest.lines:
            percents = dict.fromkeys(item.percent for item in line.interest.lines)
            period = letter.label(
                "interest_period",
                start=format_day(line.interest.start, letter.language),
                end=format_day(line.interest.end, letter.language),
                percent=" / ".join(letter.percent(p) for p in percents),
            )
            interest = letter.money(line.interest.amount)
        else:
            period, interest = letter.label("no_interest"), letter.money(Decimal(0))
        rows.append(
            [
                line.invoice,
                format_day(line.due_date, letter.language),
                letter.money(line.principal),
                interest,
                period,
            ]
        )
    headings = [
        letter.label("invoice"),
        letter.label("due_date"),
        letter.label("principal"),
        letter.label("interest"),
        letter.label("interest_period_heading"),
    ]
    letter.table(headings, rows, (25, 27, 27, 21, 70), ("LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT"))
    costs = [(letter.label("costs", basis=claim.costs_basis), letter.money(claim.costs))]
    if claim.vat:
        costs.append((letter.label("vat"), letter.money(claim.vat)))
    totals = [
        (letter.label("principal"), letter.money(claim.principal)),
        (letter.label("interest_total", basis=claim.interest_basis), letter.money(claim.interest)),
    ]
    if claim.costs_now:
        totals += [*costs, (letter.label("claim_total"), letter.money(claim.total))]
        letter.table(None, totals, (130, 40), ("LEFT", "RIGHT"), bold_last=True)
        return
    totals.append((letter.label("claim_total"), letter.money(claim.total)))
    letter.table(None, totals, (130, 40), ("LEFT", "RIGHT"), bold_last=True)
    letter.paragraph([Line("text", letter.label("costs_later"))])
    later = claim.total + claim.costs + claim.vat
    costs.append((letter.label("costs_later_total"), letter.money(later)))
    letter.table(None, costs, (130, 40), ("LEFT", "RIGHT"), bold_last=True)


def payment(letter: LetterWriter) -> None:
    """How to pay: the payment link if there is one, and the bank transfer details."""
    message = letter.message
    payment, claim, discount = message.payment, message.claim, message.early_discount
    total_open = sum((invoice.amount_open for invoice in message.invoices), Decimal(0))
    if claim is not None:
        amount = claim.total
    else:
        amount = payment.amount if payment is not None else total_open
    if payment is not None:
        url, iban, reference = payment.url, payment.iban, payment.reference
    else:
        url = next((i.payment_link for i in message.invoices if i.payment_link), None)
        iban = message.creditor.iban
        reference = ", ".join(invoice.number for invoice in message.invoices)
    letter.heading(letter.label("how_to_pay"), keep=ROW * 6 + LINE * (3 if url else 1))
    pdf = letter.pdf
    if url:
        letter.say(letter.label("pay_online"))
        pdf.set_text_color(0, 0, 160)
        letter.say(url, link=url)
        pdf.set_text_color(0)
        pdf.ln(GAP)
    if not iban:
        if not url:
            letter.paragraph([Line("text", letter.label("ask_for_details"))])
        return
    shown = letter.money(amount)
    if discount is not None and claim is None:
        shown = letter.label(
            "discount_amount",
            discounted=letter.money(discount.pay_amount),
            deadline=letter.long_day(discount.deadline),
            full=shown,
        )
    letter.say(letter.label("or_transfer" if url else "transfer"))
    rows = [
        (letter.label("amount"), shown),
        (letter.label("account"), grouped_iban(iban)),
        (letter.label("account_holder"), message.creditor.name),
        (letter.label("reference"), reference),
    ]
    letter.table(None, rows, (50, 120), ("LEFT", "LEFT"))
    letter.paragraph([Line("text", letter.label("quote_reference"))])
