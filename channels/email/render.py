"""Rendering a message from Jinja2 templates: subject, plain text and HTML.

Two environments share one loader (the override folder first, then the built-in ``templates/``):
text (subject and ``.txt``, no escaping) and HTML (``.html``, autoescaped). Both use
``StrictUndefined``, so a misspelt variable is an error instead of an empty string.

Template files are ``<language>/<template>.subject.txt``, ``.txt`` and ``.html``. Any failure to
find, compile or render a template is a :class:`~dunning.core.errors.ConfigError` naming the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_percent
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    pass_context,
)
from jinja2.runtime import Context
from markupsafe import Markup, escape

from dunning.channels.email.context import build_context
from dunning.core.channel import OutgoingMessage
from dunning.core.errors import ConfigError

BUILTIN_TEMPLATES = ("friendly-reminder", "second-reminder", "final-reminder", "final-demand")
"""The ladder's template sets, one per default step, shipped in every built-in language."""
EXTRA_TEMPLATES = (
    "courtesy-reminder",
    "friendly-reminder-humorous",
    "second-reminder-humorous",
    "thank-you",
    "confirm-promise",
    "confirm-arrangement",
    "confirm-dispute",
    "confirm-pause",
    "nl-14-day-letter",
)
"""Further template sets shipped in every built-in language: the optional step before the due
date, the humorous variants, the thank-you and the written confirmations (``confirm-<kind>``)."""
SHIPPED_TEMPLATES = BUILTIN_TEMPLATES + EXTRA_TEMPLATES

PART_SUFFIXES = (".subject.txt", ".txt", ".html")
LOCALES = {"nl": "nl_NL", "en": "en_GB"}
BLANK_LINES = re.compile(r"\n(?:[ \t]*\n){2,}")
"""Runs of blank lines in plain text (left by optional template parts) become one."""
SUBJECT_SPACE = re.compile(r"[ \t\r\n]+")
"""Line breaks and runs of spaces in a subject become one space (non-breaking spaces stay)."""


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """The three rendered parts of one message and the language they were rendered in."""

    subject: str
    text: str
    html: str
    language: str


@lru_cache(maxsize=32)
def locale_for(language: str) -> Locale:
    """The Babel locale for a template language (``nl`` -> ``nl_NL``, ``en`` -> ``en_GB``)."""
    try:
        return Locale.parse(LOCALES.get(language, language))
    except (UnknownLocaleError, ValueError) as exc:
        raise ConfigError(
            f"email templates: language {language!r} is not a known locale ({exc}); "
            "name template folders by language code, e.g. 'nl' or 'en'"
        ) from None


@pass_context
def money_filter(context: Context, amount: Decimal, currency: str | None = None) -> str:
    """``{{ amount|money }}``: ``€ 1.234,56`` in Dutch, ``€1,234.56`` in English."""
    code = currency or context.get("currency") or "EUR"
    return str(format_currency(amount, code, locale=locale_for(context["language"])))


@pass_context
def date_filter(context: Context, value: date, format: str = "long") -> str:
    """``{{ day|date }}``: ``3 maart 2026`` in Dutch, ``3 March 2026`` in English."""
    return str(format_date(value, format=format, locale=locale_for(context["language"])))


@pass_context
def percent_filter(context: Context, value: Decimal) -> str:
    """``{{ early_discount.percent|percent }}`` for a value in percent (``2.5``): ``2,5%`` in
    Dutch, ``2.5%`` in English; at most two decimals, none when it is whole."""
    return str(
        format_percent(
            Decimal(value) / 100, format="#,##0.##%", locale=locale_for(context["language"])
        )
    )


def nl2br_filter(value: str) -> Markup:
    """HTML only: escape ``value`` and turn its line breaks into ``<br>``."""
    return Markup("<br>\n").join(escape(line) for line in str(value).splitlines())


def _environment(loader: BaseLoader, *, html: bool) -> Environment:
    env = Environment(
        loader=loader,
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        cache_size=-1,
    )
    env.filters["money"] = money_filter
    env.filters["date"] = date_filter
    env.filters["percent"] = percent_filter
    if html:
        env.filters["nl2br"] = nl2br_filter
    return env


class Renderer:
    """Finds and renders the template set of a message.

    ``override`` is an optional folder whose files take precedence over the built-in ones (same
    relative names). ``fallback_language`` is used when the debtor's language has no templates.
    """

    def __init__(self, override: Path | None, fallback_language: str) -> None:
        self.override = override
        self.fallback_language = fallback_language
        loaders: list[BaseLoader] = []
        if override is not None:
            loaders.append(FileSystemLoader(str(override)))
        loaders.append(PackageLoader("dunning.channels.email", "templates"))
        loader = ChoiceLoader(loaders)
        self._text = _environment(loader, html=False)
        self._html = _environment(loader, html=True)
        self._files = frozenset(loader.list_templates())

    def language_for(self, template: str, language: str) -> str:
        """``language`` when a template set exists for it, else the fallback language."""
        wanted = language.strip().lower().replace("_", "-").split("-")[0]
        if f"{wanted}/{template}.txt" in self._files:
            return wanted
        return self.fallback_language

    def template_sets(self) -> list[tuple[str, str]]:
        """Every ``(language, template)`` available: built-in ones and those of the override."""
        found: set[tuple[str, str]] = set()
        for name in self._files:
            language, _, filename = name.partition("/")
            if "/" in filename or filename.startswith("_") or not filename.endswith(".txt"):
                continue
            if not filename.endswith(".subject.txt"):
                found.add((language, filename.removesuffix(".txt")))
        return sorted(found)

    def languages(self) -> list[str]:
        """Languages that have at least one template set."""
        return sorted({language for language, _ in self.template_sets()})

    def render(self, message: OutgoingMessage, language: str | None = None) -> RenderedMessage:
        """Render ``message``; ``language`` forces a language (default: the debtor's, or fallback).

        Raises :class:`ConfigError` naming the template file when it is missing or broken.
        """
        if language is None:
            language = self.language_for(message.template, message.debtor.language)
        context = build_context(message, language)
        base = f"{language}/{message.template}"
        subject = self._render(self._text, f"{base}.subject.txt", context)
        return RenderedMessage(
            subject=SUBJECT_SPACE.sub(" ", subject).strip(),
            text=BLANK_LINES.sub("\n\n", self._render(self._text, f"{base}.txt", context)).strip()
            + "\n",
            html=self._render(self._html, f"{base}.html", context),
            language=language,
        )

    def _render(self, env: Environment, name: str, context: dict[str, Any]) -> str:
        try:
            return env.get_template(name).render(context)
        except TemplateNotFound as exc:
            raise ConfigError(
                f"email template {exc.name!r} not found in {self._where()}; add the file, "
                f"or use one of the built-in templates: {', '.join(SHIPPED_TEMPLATES)}"
            ) from None
        except TemplateSyntaxError as exc:
            place = f"{exc.filename or exc.name or name}:{exc.lineno}"
            raise ConfigError(
                f"email template {place}: {exc.message}; fix the template syntax"
            ) from None
        except UndefinedError as exc:
            raise ConfigError(
                f"email template {_template_place(exc) or name}: {exc.message}; use only the "
                "variables listed in docs/channel-email.md"
            ) from None
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(
                f"email template {_template_place(exc) or name} failed to render: "
                f"{type(exc).__name__}: {exc}; fix the template"
            ) from None

    def _where(self) -> str:
        if self.override is None:
            return "the built-in templates"
        return f"{self.override} or the built-in templates"


def _frames(traceback: TracebackType | None) -> Iterator[TracebackType]:
    while traceback is not None:
        yield traceback
        traceback = traceback.tb_next


def _template_place(exc: BaseException) -> str | None:
    """``file:line`` of the innermost template frame of ``exc`` (Jinja rewrites tracebacks so
    template frames carry the template's file name and line)."""
    place = None
    for frame in _frames(exc.__traceback__):
        filename = frame.tb_frame.f_code.co_filename
        if filename.endswith((".txt", ".html")):
            place = f"{filename}:{frame.tb_lineno}"
    return place
