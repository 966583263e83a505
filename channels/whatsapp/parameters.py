"""The values a template's parameters can take, by name, written in the template's language.

An approved WhatsApp template has numbered variables (``{{1}}``, ``{{2}}``); the channel config
names, in order, the value that fills each one. The names:

================  ==========================================================================
first_name        the contact's first name (else the contact's name, else the debtor's name)
contact_name      the contact's full name (else the debtor's name)
debtor_name       the debtor's (company) name
amount            the amount asked for, with currency: ``€ 1.234,56`` (nl), ``€1,234.56`` (en)
invoice_numbers   the invoice numbers, comma-separated
invoice_count     how many invoices the message is about
due_date          the oldest due date, written out: ``1 maart 2026``, ``1 March 2026``
days_overdue      days since the oldest due date (0 before it)
payment_link      the payment link; without one, the IBAN and the reference to quote
iban              the IBAN to pay to, in groups of four
reference         the payment reference to quote
creditor          the creditor's name
creditor_phone    the creditor's phone number
creditor_email    the creditor's email address
================  ==========================================================================

Values are formatted for the WhatsApp language code the message is sent in (``en_GB``), so the
text around them and the numbers agree. The Cloud API refuses parameter text with line breaks,
tabs or long runs of spaces, and empty parameters: values are flattened to one line, and a
value that is missing raises :class:`MissingValue`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency

from dunning.core.channel import OutgoingMessage
from dunning.core.models import PaymentDetails

Value = Callable[[OutgoingMessage, Locale], str | None]

LOCALES = {"nl": "nl_NL", "en": "en_GB"}
FALLBACK_LOCALE = "en_GB"
QUOTE_REFERENCE = {"nl": "{iban} o.v.v. {reference}", "en": "{iban}, reference {reference}"}
"""The ``payment_link`` text without a link, by language (others use English)."""
LINE_BREAKS = re.compile(r"[\t\r\n\f\v]+")
SPACES = re.compile(r" {2,}")


class MissingValue(ValueError):
    """A parameter has nothing to show for this message (no IBAN, no phone number)."""

    def __init__(self, parameter: str, what: str) -> None:
        super().__init__(f"parameter {parameter!r} has no value: {what}")
        self.parameter = parameter


@lru_cache(maxsize=32)
def locale_for(code: str) -> Locale:
    """The Babel locale for a WhatsApp language code (``nl`` -> ``nl_NL``, ``en`` -> ``en_GB``,
    ``en_US`` as it is); English when Babel does not know it."""
    try:
        return Locale.parse(LOCALES.get(code, code))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK_LOCALE)


def payment_of(message: OutgoingMessage) -> PaymentDetails:
    """How to pay: the message's own payment details, else built from its invoices and the
    creditor (the invoice's reference or the invoice numbers, a single invoice's own link)."""
    if message.payment is not None:
        return message.payment
    invoices = message.invoices
    references = {i.payment_reference or i.number for i in invoices}
    reference = references.pop() if len(references) == 1 else ", ".join(i.number for i in invoices)
    links = {i.payment_link for i in invoices}
    url = links.pop() if len(links) == 1 else None
    return PaymentDetails(
        amount=sum((i.amount_open for i in invoices), Decimal(0)),
        currency=invoices[0].currency if invoices else "EUR",
        reference=reference,
        iban=message.creditor.iban,
        url=url,
        source="invoice" if url else "bank",
    )


def grouped_iban(iban: str) -> str:
    """``NL91ABNA0417164300`` -> ``NL91 ABNA 0417 1643 00``."""
    compact = "".join(iban.split()).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _amount(message: OutgoingMessage, locale: Locale) -> str:
    payment = payment_of(message)
    return str(format_currency(payment.amount, payment.currency, locale=locale))


def _due_date(message: OutgoingMessage, locale: Locale) -> str | None:
    if not message.invoices:
        return None
    oldest = min(i.due_date for i in message.invoices)
    return str(format_date(oldest, "long", locale=locale))


def _days_overdue(message: OutgoingMessage, locale: Locale) -> str | None:
    if not message.invoices:
        return None
    oldest = min(i.due_date for i in message.invoices)
    return str(max((message.today - oldest).days, 0))


def _payment_link(message: OutgoingMessage, locale: Locale) -> str | None:
    payment = payment_of(message)
    if payment.url:
        return payment.url
    if not payment.iban:
        return None
    text = QUOTE_REFERENCE.get(locale.language, QUOTE_REFERENCE["en"])
    return text.format(iban=grouped_iban(payment.iban), reference=payment.reference)


def _iban(message: OutgoingMessage, locale: Locale) -> str | None:
    iban = payment_of(message).iban
    return grouped_iban(iban) if iban else None


def _first_name(message: OutgoingMessage, locale: Locale) -> str:
    debtor = message.debtor
    return debtor.first_name or debtor.contact_name or debtor.name


PARAMETERS: dict[str, Value] = {
    "first_name": _first_name,
    "contact_name": lambda m, _: m.debtor.contact_name or m.debtor.name,
    "debtor_name": lambda m, _: m.debtor.name,
    "amount": _amount,
    "invoice_numbers": lambda m, _: ", ".join(i.number for i in m.invoices) or None,
    "invoice_count": lambda m, _: str(len(m.invoices)),
    "due_date": _due_date,
    "days_overdue": _days_overdue,
    "payment_link": _payment_link,
    "iban": _iban,
    "reference": lambda m, _: payment_of(m).reference or None,
    "creditor": lambda m, _: m.creditor.name,
    "creditor_phone": lambda m, _: m.creditor.phone,
    "creditor_email": lambda m, _: m.creditor.email,
}
"""Every parameter name a template may use, and how its value is made (see the module doc)."""

WHAT_IS_MISSING = {
    "payment_link": "the message has no payment link and the creditor has no iban",
    "iban": "the creditor has no iban; add it under creditor",
    "creditor_phone": "the creditor has no phone; add it under creditor",
    "creditor_email": "the creditor has no email; add it under creditor",
}


def one_line(text: str) -> str:
    """``text`` as the Cloud API accepts a parameter: no line breaks or tabs, single spaces."""
    return SPACES.sub(" ", LINE_BREAKS.sub(" ", text)).strip()


def parameter_values(message: OutgoingMessage, names: Sequence[str], code: str) -> list[str]:
    """The values of ``names`` for ``message``, in order, for WhatsApp language ``code``.

    Raises :class:`MissingValue` for the first parameter that has no value."""
    locale = locale_for(code)
    values = []
    for name in names:
        value = one_line(PARAMETERS[name](message, locale) or "")
        if not value:
            raise MissingValue(name, WHAT_IS_MISSING.get(name, "it is empty for this message"))
        values.append(value)
    return values


def button_value(message: OutgoingMessage, base_url: str | None) -> str:
    """The variable part of a URL button that opens the payment link: the link without
    ``base_url``. Raises :class:`MissingValue` without a link, or when the link does not start
    with ``base_url`` (the approved button could not open it)."""
    url = payment_of(message).url
    if not url:
        raise MissingValue(
            "payment_button",
            "the message has no payment link; set up payment links, or use a template "
            "without a payment button",
        )
    if base_url is None:
        return url
    if not url.startswith(base_url) or url == base_url:
        raise MissingValue(
            "payment_button",
            f"the payment link {url} does not start with button_base_url {base_url}",
        )
    return url.removeprefix(base_url)
