"""PDF documents with a Unicode TrueType font, and amounts and dates formatted for print.

The PDF core fonts cannot print ``€`` or most accented names, so every document dunning writes
embeds a TTF font. :func:`find_fonts` looks for one (``DUNNING_PDF_FONT`` first, then the usual
system locations); :func:`new_pdf` returns an ``FPDF`` with it registered as :data:`FAMILY`.
Shared by the agency dossier summary and the printed letters.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency
from fpdf import FPDF

from dunning.core.errors import ConfigError

FONT_ENV = "DUNNING_PDF_FONT"
FONT_BOLD_ENV = "DUNNING_PDF_FONT_BOLD"
FAMILY = "DunningSans"
"""The family name the font is registered under: ``pdf.set_font(FAMILY, "B", 10)``."""

SYSTEM_FONTS: tuple[tuple[str, str], ...] = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
        "/usr/share/fonts/liberation-sans/LiberationSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/noto/NotoSans-Regular.ttf",
        "/usr/share/fonts/noto/NotoSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
        "/usr/share/fonts/truetype/freefont/FreeSansBold.ttf",
    ),
)
"""(regular, bold) pairs, in order of preference: Debian/Ubuntu, Fedora and Arch locations."""

LOCALES = {"nl": "nl_NL", "en": "en_GB"}


@dataclass(frozen=True, slots=True)
class FontFiles:
    """The TTF files of the document font; ``bold`` is ``None`` when only a regular one exists
    (bold text is then printed in the regular face)."""

    regular: Path
    bold: Path | None


def find_fonts(
    environ: Mapping[str, str] | None = None,
    candidates: Sequence[tuple[str, str]] = SYSTEM_FONTS,
) -> FontFiles:
    """The font to embed: ``DUNNING_PDF_FONT`` (and ``DUNNING_PDF_FONT_BOLD``), else the first of
    ``candidates`` (default :data:`SYSTEM_FONTS`) installed.

    Raises :class:`ConfigError` when a variable names a missing file, or when no font is found
    (saying what to install or set).
    """
    environ = os.environ if environ is None else environ
    chosen = environ.get(FONT_ENV, "").strip()
    if chosen:
        regular = _existing(Path(chosen).expanduser(), FONT_ENV)
        bold_name = environ.get(FONT_BOLD_ENV, "").strip()
        bold = _existing(Path(bold_name).expanduser(), FONT_BOLD_ENV) if bold_name else None
        return FontFiles(regular, bold)
    for regular_name, bold_name in candidates:
        regular = Path(regular_name)
        if regular.is_file():
            bold = Path(bold_name)
            return FontFiles(regular, bold if bold.is_file() else None)
    raise ConfigError(
        "no TrueType font found for PDF documents (needed for the euro sign and accents); "
        f"install one (apt install fonts-dejavu-core) or set {FONT_ENV} to the path of a .ttf "
        f"file ({FONT_BOLD_ENV} for its bold face)"
    )


def _existing(path: Path, variable: str) -> Path:
    if not path.is_file():
        raise ConfigError(f"{variable}={path}: no such font file; set it to the path of a .ttf")
    return path


class Document(FPDF):
    """An ``FPDF`` whose pages end with ``footer_text`` and the page number ("Page 2/3")."""

    footer_text: str = ""
    page_label: str = "Page"

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(100)
        self.cell(0, 5, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"{self.page_label} {self.page_no()}/{{nb}}", align="R")
        self.set_text_color(0)


def new_pdf(
    fonts: FontFiles | None = None,
    *,
    created_on: date | None = None,
    title: str | None = None,
    author: str | None = None,
    footer: str = "",
    page_label: str = "Page",
) -> Document:
    """An A4 portrait :class:`Document` with the document font registered as :data:`FAMILY`
    (regular and bold) and selected at 10 pt; every page ends with ``footer`` and
    "``page_label`` n/total".

    ``created_on`` fixes the creation date, so the same content gives the same bytes. Raises
    :class:`ConfigError` when no font is found or the font file cannot be read.
    """
    fonts = fonts or find_fonts()
    pdf = Document(orientation="portrait", unit="mm", format="A4")
    pdf.footer_text = footer
    pdf.page_label = page_label
    try:
        pdf.add_font(FAMILY, "", str(fonts.regular))
        pdf.add_font(FAMILY, "B", str(fonts.bold or fonts.regular))
    except Exception as exc:  # fontTools raises many kinds of error on a file it cannot read
        raise ConfigError(
            f"cannot use font {fonts.regular} for PDF documents ({exc}); point {FONT_ENV} "
            "to a TrueType (.ttf) file"
        ) from None
    if created_on is not None:
        pdf.set_creation_date(datetime.combine(created_on, time(), tzinfo=UTC))
    pdf.set_creator("dunning")
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_font(FAMILY, "", 10)
    return pdf


def locale_for(language: str) -> Locale:
    """The Babel locale for a language code (``nl`` -> ``nl_NL``, ``en`` -> ``en_GB``)."""
    return Locale.parse(LOCALES.get(language, language))


def format_money(amount: Decimal, currency: str = "EUR", language: str = "nl") -> str:
    """``€ 1.234,56`` in Dutch, ``€1,234.56`` in English (Babel; the space is a no-break one)."""
    return str(format_currency(amount, currency, locale=locale_for(language)))


def format_day(day: date, language: str = "nl") -> str:
    """A date for tables: ``02-03-2026`` in Dutch, ``02/03/2026`` in English."""
    return str(format_date(day, format="short", locale=locale_for(language)))
