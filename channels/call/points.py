"""Talking points of a call: rendered from ``<language>/<template>.txt`` (one point per line
starting with ``- ``), the override folder first, then the built-in templates."""

from __future__ import annotations

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
)

from dunning.core.channel import OutgoingMessage
from dunning.core.errors import ConfigError, SendError

LOCALES = {"nl": "nl_NL", "en": "en_GB"}
SHIPPED = ("phone-call",)
"""Talking-point templates shipped in every built-in language."""


def environment(folder: Path | None) -> Environment:
    loaders: list[BaseLoader] = []
    if folder is not None:
        loaders.append(FileSystemLoader(str(folder)))
    loaders.append(PackageLoader("dunning.channels.call", "templates"))
    return Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


def _language(env: Environment, language: str, template: str) -> str:
    for candidate in (language, "en", "nl"):
        try:
            env.get_template(f"{candidate}/{template}.txt")
        except TemplateNotFound:
            continue
        return candidate
    raise ConfigError(
        f"call channel: no talking-points template {template!r} (looked for "
        f"<language>/{template}.txt); built-in ones: {', '.join(SHIPPED)}"
    )


def check_template(env: Environment, template: str) -> None:
    _language(env, "en", template)


def render_points(env: Environment, message: OutgoingMessage) -> tuple[str, ...]:
    """The points for ``message``'s call, in the debtor's language where a template exists."""
    language = _language(env, message.debtor.language, message.template)
    locale = LOCALES.get(language, "en_GB")

    def money(amount: Decimal) -> str:
        return str(format_currency(amount, "EUR", locale=locale))

    def day(value: date) -> str:
        return str(format_date(value, "long", locale=locale))

    invoices = message.invoices
    context: dict[str, Any] = {
        "debtor": message.debtor,
        "first_name": message.debtor.first_name or message.debtor.contact_name,
        "invoices": invoices,
        "total": sum((i.amount_open for i in invoices), Decimal(0)),
        "oldest": min(invoices, key=lambda i: i.due_date) if invoices else None,
        "today": message.today,
        "previous": message.previous_contacts,
        "resume_notes": message.resume_notes,
        "creditor": message.creditor,
        "money": money,
        "day": day,
    }
    try:
        text = env.get_template(f"{language}/{message.template}.txt").render(context)
    except TemplateError as error:
        # Certainly no task was made: a permanent failure of this message, reported in the run.
        raise SendError(
            f"call channel: talking points {language}/{message.template}.txt cannot be "
            f"rendered ({error}); correct the template"
        ) from None
    return tuple(
        line.strip()[2:].strip() for line in text.splitlines() if line.strip().startswith("- ")
    )
