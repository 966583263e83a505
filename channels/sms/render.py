"""The text of an SMS, rendered from ``<language>/<template>.txt`` (Jinja2).

The override folder (``templates:``) is searched first, then the built-in texts. A template in
the debtor's language is used when there is one, else English, else Dutch. Files starting with
``_`` are parts that templates include (how to pay).

Layout: the rendered text is split into paragraphs at blank lines; inside a paragraph every run
of white space (line breaks and non-breaking spaces included) becomes one space, and paragraphs
are joined by one line break. Templates can thus be written over several lines without costing
characters. Money is formatted per language (``€ 1.234,56`` in Dutch, ``€1,234.56`` in
English) with a plain space, which GSM-7 has and the non-breaking space is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)

from dunning.core.channel import OutgoingMessage
from dunning.core.errors import ConfigError, SendError

LOCALES = {"nl": "nl_NL", "en": "en_GB"}
FALLBACK_LANGUAGES = ("en", "nl")
LADDER_TEMPLATES = (
    "courtesy-reminder",
    "friendly-reminder",
    "friendly-reminder-humorous",
    "second-reminder",
    "second-reminder-humorous",
    "final-reminder",
    "final-demand",
)
"""Shipped in Dutch and English. ``nl-14-day-letter`` is shipped in Dutch only."""
SHIPPED_TEMPLATES = (*LADDER_TEMPLATES, "nl-14-day-letter")
LISTED_INVOICES = 3
"""A message about more invoices names the first two and counts the rest."""
AND = {"nl": "en", "en": "and"}
OTHERS = {"nl": "{count} andere", "en": "{count} more"}
PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v\xa0]*\n")


class SmsTemplateError(SendError, ConfigError):
    """A template is missing or broken: a permanent failure of the message (nothing was sent)
    and, from :meth:`SmsRenderer.check`, a configuration error."""

    def __init__(self, message: str) -> None:
        SendError.__init__(self, message, retryable=False)


@dataclass(frozen=True, slots=True)
class RenderedSms:
    text: str
    language: str
    template_file: str
    """``nl/friendly-reminder.txt``: named in errors about the text (too long)."""


def money(amount: Decimal, currency: str, language: str) -> str:
    """``€ 1.234,56`` (nl) or ``€1,234.56`` (en), with plain spaces only."""
    text = str(format_currency(amount, currency, locale=LOCALES.get(language, "en_GB")))
    return " ".join(text.split())


def day(value: date, language: str) -> str:
    """``12 maart`` or ``12 March``: without the year, SMS texts are short and recent."""
    return str(format_date(value, "d MMMM", locale=LOCALES.get(language, "en_GB")))


def invoice_numbers(numbers: list[str], language: str) -> str:
    """``A``, ``A en B``, ``A, B en C``, ``A, B en 3 andere`` (``and``/``more`` in English)."""
    word = AND.get(language)
    if word is None:
        return ", ".join(numbers)
    if len(numbers) > LISTED_INVOICES:
        rest = OTHERS[language].format(count=len(numbers) - 2)
        return f"{numbers[0]}, {numbers[1]} {word} {rest}"
    if len(numbers) == 1:
        return numbers[0]
    return f"{', '.join(numbers[:-1])} {word} {numbers[-1]}"


def greeting_name(message: OutgoingMessage) -> str:
    """First name, else the contact's name, else the debtor's name."""
    debtor = message.debtor
    for candidate in (debtor.first_name, debtor.contact_name, debtor.name):
        if candidate and candidate.strip():
            return candidate.strip()
    return debtor.name


def build_context(message: OutgoingMessage, language: str) -> dict[str, Any]:
    """The variables an SMS template sees.

    ``amount`` is what the message asks to pay (the payment details' amount, else the claim's
    total, else the open amount). ``pay_url`` is the payment link; without one, ``iban`` and
    ``reference`` say how to transfer (the creditor's IBAN and the invoice numbers when the
    message carries no payment details). ``first_contact`` is the date of the first earlier
    message, or ``None``.
    """
    invoices = message.invoices
    numbers = [invoice.number for invoice in invoices]
    total = sum((invoice.amount_open for invoice in invoices), Decimal(0))
    currency = invoices[0].currency if invoices else "EUR"
    payment = message.payment
    if payment is not None:
        amount, currency = payment.amount, payment.currency
        pay_url, iban, reference = payment.url, payment.iban, payment.reference
    else:
        amount = message.claim.total if message.claim is not None else total
        links = {invoice.payment_link for invoice in invoices if invoice.payment_link}
        pay_url = links.pop() if len(links) == 1 and len(invoices) == 1 else None
        iban = message.creditor.iban
        own = [invoice.payment_reference for invoice in invoices if invoice.payment_reference]
        reference = own[0] if len(own) == 1 and len(invoices) == 1 else ", ".join(numbers)
    earlier = sorted(contact.sent_on for contact in message.previous_contacts)
    return {
        "name": greeting_name(message),
        "debtor": message.debtor,
        "creditor": message.creditor,
        "invoices": invoices,
        "count": len(invoices),
        "numbers": invoice_numbers(numbers, language),
        "total": total,
        "amount": amount,
        "currency": currency,
        "due_date": min((invoice.due_date for invoice in invoices), default=message.today),
        "pay_url": pay_url,
        "iban": iban,
        "reference": reference,
        "first_contact": earlier[0] if earlier else None,
        "early_discount": message.early_discount,
        "claim": message.claim,
        "legal": message.legal,
        "today": message.today,
        "step": message.step,
        "language": language,
        "money": lambda value, code=None: money(value, code or currency, language),
        "day": lambda value: day(value, language),
    }


def tidy(text: str) -> str:
    """Paragraphs (split at blank lines) with their white space collapsed, one per line."""
    paragraphs = (" ".join(part.split()) for part in PARAGRAPH_BREAK.split(text))
    return "\n".join(part for part in paragraphs if part)


class SmsRenderer:
    """Finds and renders the SMS text of a message; ``folder`` overrides the built-in texts."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        loaders: list[BaseLoader] = []
        if folder is not None:
            loaders.append(FileSystemLoader(str(folder)))
        loaders.append(PackageLoader("dunning.channels.sms", "templates"))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def language_for(self, template: str, language: str) -> str:
        """The first of the debtor's language, ``en`` and ``nl`` that has ``template``."""
        wanted = language.strip().lower().replace("_", "-").split("-")[0]
        for candidate in (wanted, *FALLBACK_LANGUAGES):
            try:
                self.env.get_template(f"{candidate}/{template}.txt")
            except TemplateNotFound:
                continue
            except TemplateSyntaxError as error:
                raise SmsTemplateError(
                    f"SMS template {error.filename or error.name}:{error.lineno}: "
                    f"{error.message}; fix the template syntax"
                ) from None
            return candidate
        where = f"{self.folder} or the built-in texts" if self.folder else "the built-in texts"
        raise SmsTemplateError(
            f"no SMS template {template!r} in {where} (looked for <language>/{template}.txt); "
            f"built-in ones: {', '.join(SHIPPED_TEMPLATES)}"
        )

    def check(self, template: str) -> None:
        """Raise :class:`SmsTemplateError` when ``template`` is missing or does not compile."""
        self.language_for(template, "en")

    def render(self, message: OutgoingMessage) -> RenderedSms:
        """The tidied text of ``message`` in the debtor's language (or the fallback)."""
        language = self.language_for(message.template, message.debtor.language)
        name = f"{language}/{message.template}.txt"
        try:
            raw = self.env.get_template(name).render(build_context(message, language))
        except TemplateError as error:
            raise SmsTemplateError(
                f"SMS template {name} cannot be rendered ({error}); correct the template"
            ) from None
        except Exception as error:  # a filter on bad data: still nothing was sent
            raise SmsTemplateError(
                f"SMS template {name} failed: {type(error).__name__}: {error}; correct the template"
            ) from None
        return RenderedSms(text=tidy(raw), language=language, template_file=name)
