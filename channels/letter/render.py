"""The words of a letter: its subject and body text, rendered from Jinja2 templates.

A template is ``<language>/<template>.txt`` in the override folder (``templates:``) or among the
built-in ones. It sets the subject line with ``{% set subject = "..." %}`` and renders the body
between the salutation and the closing, which the layout adds. Its text is read as blocks
separated by blank lines; within a block, a line starting with ``# `` is a heading and one
starting with ``- `` a bullet. A line that is only ``@invoices``, ``@claim`` or ``@payment``
marks where the layout puts the invoice table, the claim (legal steps) or how to pay; any of
these the letter needs but the template leaves out is added at the end, so no letter lacks them.

Templates see the variables of :data:`CONTEXT_VARIABLES` and the filters ``money``
(``€ 1.234,56`` in Dutch), ``date`` (``4 maart 2026``) and ``percent`` (``4,5%``). Undefined names
are errors (``StrictUndefined``). Every failure is a :class:`ConfigError` naming the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from babel.dates import format_date
from babel.numbers import format_percent
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
    pass_context,
)
from jinja2.runtime import Context

from dunning.core.calendar import calendar_for
from dunning.core.channel import OutgoingMessage
from dunning.core.errors import ConfigError
from dunning.core.law.deadline import Term, fourteen_day_term
from dunning.core.models import Debtor, ResumeNote
from dunning.core.pdf import format_money, locale_for

SHIPPED_TEMPLATES = (
    "courtesy-reminder",
    "friendly-reminder",
    "friendly-reminder-humorous",
    "second-reminder",
    "second-reminder-humorous",
    "final-reminder",
    "final-demand",
    "nl-14-day-letter",
)
"""The letters shipped in Dutch and English, one per ladder step the email channel has."""

CONTEXT_VARIABLES = (
    "debtor",
    "greeting_name",
    "invoices",
    "total_open",
    "amount_due",
    "currency",
    "creditor",
    "previous_contacts",
    "today",
    "step",
    "language",
    "early_discount",
    "resume_notes",
    "claim",
    "legal",
    "payment",
    "term",
)
"""Every name a letter template may use."""

Insert = Literal["invoices", "claim", "payment"]
INSERTS: tuple[Insert, ...] = ("invoices", "claim", "payment")
MARKER = re.compile(r"^@([a-z_]+)$")
SPACES = re.compile(r"[ \t\r\n]+")
"""Runs of ordinary white space; a no-break space (``€ 12,00``) is kept."""


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a paragraph: plain ``text``, a ``heading`` or a ``bullet``."""

    kind: Literal["text", "heading", "bullet"]
    text: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class Placeholder:
    """Where the layout puts one of its own parts (see the module docstring)."""

    part: Insert


Block = Paragraph | Placeholder


@dataclass(frozen=True, slots=True)
class LetterText:
    """What a template made of one message: the subject line and the body's blocks."""

    language: str
    subject: str
    blocks: tuple[Block, ...]
    greeting_name: str
    term: Term | None


def greeting_name(debtor: Debtor) -> str:
    """The name after "Beste"/"Dear": first name, else contact name, else the debtor's name."""
    for candidate in (debtor.first_name, debtor.contact_name, debtor.name):
        if candidate and candidate.strip():
            return candidate.strip()
    return debtor.name


def letter_term(message: OutgoingMessage, receipt_days: int) -> Term | None:
    """The 14-day term of a ``nl_14_day_letter`` message, as the engine records it as proof:
    received ``receipt_days`` Dutch business days after ``today`` (the day it is sent), the last
    day 14 days later, moved to the next business day when it is closed. ``None`` on other
    messages."""
    if message.legal != "nl_14_day_letter":
        return None
    calendar = calendar_for("NL")
    received = (
        calendar.add_business_days(message.today, receipt_days) if receipt_days else message.today
    )
    return fourteen_day_term(received, calendar)


def _distinct(notes: tuple[ResumeNote, ...]) -> list[ResumeNote]:
    """Each broken agreement once (grouped invoices all carry it), oldest first."""
    return sorted(dict.fromkeys(notes), key=lambda n: (n.agreed_on, n.promised_for or n.agreed_on))


def build_context(message: OutgoingMessage, language: str, term: Term | None) -> dict[str, Any]:
    """The template variables for ``message`` (see :data:`CONTEXT_VARIABLES`).

    ``amount_due`` is what the letter asks: the claim's total on legal steps, else the open
    total. ``previous_contacts`` are oldest first.
    """
    invoices = list(message.invoices)
    total_open = sum((invoice.amount_open for invoice in invoices), Decimal(0))
    claim = message.claim
    return {
        "debtor": message.debtor,
        "greeting_name": greeting_name(message.debtor),
        "invoices": invoices,
        "total_open": total_open,
        "amount_due": claim.total if claim is not None else total_open,
        "currency": invoices[0].currency if invoices else "EUR",
        "creditor": message.creditor,
        "previous_contacts": sorted(message.previous_contacts, key=lambda c: c.sent_on),
        "today": message.today,
        "step": message.step,
        "language": language,
        "early_discount": message.early_discount,
        "resume_notes": _distinct(message.resume_notes),
        "claim": claim,
        "legal": message.legal,
        "payment": message.payment,
        "term": term,
    }


@pass_context
def _money(context: Context, amount: Decimal, currency: str | None = None) -> str:
    return format_money(amount, currency or context["currency"], context["language"])


@pass_context
def _date(context: Context, value: date, form: str = "long") -> str:
    return str(format_date(value, format=form, locale=locale_for(context["language"])))


@pass_context
def _percent(context: Context, value: Decimal) -> str:
    return str(
        format_percent(
            Decimal(value) / 100, format="#,##0.##%", locale=locale_for(context["language"])
        )
    )


def parse_blocks(text: str, where: str) -> list[Block]:
    """The blocks of a rendered body (see the module docstring); an unknown ``@marker`` line is
    a :class:`ConfigError`."""
    blocks: list[Block] = []
    lines: list[Line] = []

    def close() -> None:
        if lines:
            blocks.append(Paragraph(tuple(lines)))
            lines.clear()

    for raw in text.splitlines():
        line = SPACES.sub(" ", raw).strip(" \t\r")
        marker = MARKER.match(line)
        if not line:
            close()
        elif marker:
            close()
            name = marker.group(1)
            if name not in INSERTS:
                raise ConfigError(
                    f"letter template {where}: unknown marker @{name}; use one of "
                    f"{', '.join('@' + part for part in INSERTS)}"
                )
            blocks.append(Placeholder(name))
        elif line.startswith("# "):
            lines.append(Line("heading", line[2:].strip()))
        elif line.startswith("- "):
            lines.append(Line("bullet", line[2:].strip()))
        else:
            lines.append(Line("text", line))
    close()
    return blocks


def _complete(blocks: list[Block], message: OutgoingMessage) -> tuple[Block, ...]:
    """``blocks`` plus the parts the letter needs that the template left out."""
    needed: list[Insert] = []
    if message.invoices:
        needed.append("invoices")
    if message.claim is not None:
        needed.append("claim")
    needed.append("payment")
    present = {block.part for block in blocks if isinstance(block, Placeholder)}
    return (*blocks, *(Placeholder(part) for part in needed if part not in present))


class LetterRenderer:
    """Finds and renders letter templates: the override folder first, then the built-in ones.

    ``fallback_language`` is used when the debtor's language has no such template.
    ``receipt_days`` is the days from posting to receipt the 14-day term counts with.
    """

    def __init__(self, override: Path | None, fallback_language: str, receipt_days: int) -> None:
        self.override = override
        self.fallback_language = fallback_language
        self.receipt_days = receipt_days
        loaders: list[BaseLoader] = []
        if override is not None:
            loaders.append(FileSystemLoader(str(override)))
        loaders.append(PackageLoader("dunning.channels.letter", "templates"))
        loader = ChoiceLoader(loaders)
        self.env = Environment(
            loader=loader,
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.env.filters["money"] = _money
        self.env.filters["date"] = _date
        self.env.filters["percent"] = _percent
        self.files = frozenset(loader.list_templates())

    def has(self, language: str, template: str) -> bool:
        return f"{language}/{template}.txt" in self.files

    def languages(self) -> list[str]:
        """Languages with at least one letter template."""
        return sorted({name.partition("/")[0] for name in self.files if "/" in name})

    def language_for(self, template: str, language: str) -> str:
        """The debtor's ``language`` when it has ``template``, else the fallback language."""
        wanted = language.strip().lower().replace("_", "-").split("-")[0]
        return wanted if self.has(wanted, template) else self.fallback_language

    def render(self, message: OutgoingMessage, language: str | None = None) -> LetterText:
        """The subject and blocks of ``message``; ``language`` forces a language.

        Raises :class:`ConfigError` naming the template when it is missing, broken, sets no
        subject or uses an unknown variable.
        """
        language = language or self.language_for(message.template, message.debtor.language)
        name = f"{language}/{message.template}.txt"
        term = letter_term(message, self.receipt_days)
        try:
            module = self.env.get_template(name).make_module(build_context(message, language, term))
        except TemplateNotFound:
            raise ConfigError(
                f"letter template {name} not found in {self._where()}; add it, or use one of "
                f"the built-in templates: {', '.join(SHIPPED_TEMPLATES)}"
            ) from None
        except TemplateSyntaxError as exc:
            raise ConfigError(
                f"letter template {exc.filename or name}:{exc.lineno}: {exc.message}; fix the "
                "template syntax"
            ) from None
        except TemplateError as exc:
            raise ConfigError(
                f"letter template {name}: {exc.message}; use only the variables "
                f"{', '.join(CONTEXT_VARIABLES)}"
            ) from None
        except Exception as exc:
            raise ConfigError(
                f"letter template {name} failed to render: {type(exc).__name__}: {exc}; fix "
                "the template"
            ) from None
        subject = SPACES.sub(" ", str(getattr(module, "subject", ""))).strip(" \t\r\n")
        if not subject:
            raise ConfigError(
                f'letter template {name} sets no subject; add {{% set subject = "..." %}} at '
                "the top"
            )
        blocks = parse_blocks(str(module), name)
        return LetterText(
            language, subject, _complete(blocks, message), greeting_name(message.debtor), term
        )

    def _where(self) -> str:
        if self.override is None:
            return "the built-in letter templates"
        return f"{self.override} or the built-in letter templates"
