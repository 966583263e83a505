"""The printed letter as a PDF: A4, folded in three, posted in a left-window envelope.

Positions, in mm from the top-left corner of the page, follow DIN 676 form B, which the
left-window envelopes sold in the Netherlands (EA5/6 and C5/6 "venster links") fit:

* letterhead: the creditor's name top left (y 15); the sender block on the right (x 130,
  y 15 to about 42): address lines, phone, email, website, IBAN;
* window field: x 20, y 45, 85 wide and 45 high. Its top 5 mm hold the return address in small
  type; the recipient's lines start at y 51, at most 8 lines of 4.4 mm (``address.py``);
* fold marks in the left margin at y 105 and 210, the punch mark at y 148.5;
* place and date from y 98, the customer number, the subject in bold, then the text;
* margins 20 mm left and right; the text stops 22 mm above the bottom edge, above a footer
  with the creditor, the customer number and "page n/total".

Amounts are ``€ 1.234,56`` in Dutch and ``€1,234.56`` in English, dates ``4 maart 2026`` in the
text and ``04-03-2026`` in tables. The same message gives the same bytes (the PDF's creation
date is the letter's date).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_percent
from fpdf.enums import TableBordersLayout
from fpdf.fonts import FontFace

from dunning.channels.letter import sections
from dunning.channels.letter.address import address_lines, grouped_iban
from dunning.channels.letter.labels import label
from dunning.channels.letter.render import Insert, LetterText, Line, Paragraph
from dunning.core.channel import OutgoingMessage
from dunning.core.pdf import (
    FAMILY,
    Document,
    FontFiles,
    format_money,
    locale_for,
    new_pdf,
)

LEFT = 20.0
WIDTH = 170.0
"""The text width: A4's 210 mm less 20 mm on each side."""
LETTERHEAD_Y = 15.0
SENDER_X = 130.0
WINDOW_X, WINDOW_Y, WINDOW_WIDTH = 20.0, 45.0, 85.0
RETURN_LINE_HEIGHT = 5.0
ADDRESS_Y = 51.0
ADDRESS_LINE = 4.4
REFERENCE_Y = 98.0
FOLD_MARKS = (105.0, 210.0)
PUNCH_MARK = 148.5
BOTTOM_MARGIN = 22.0
LINE = 5.0
GAP = 3.0
ROW = sections.ROW
BOLD = FontFace(emphasis="BOLD")
HEADINGS = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))


SECTIONS: dict[Insert, Callable[[LetterWriter], None]] = {
    "invoices": sections.invoice_table,
    "claim": sections.claim,
    "payment": sections.payment,
}


class LetterWriter:
    """Writes one letter, top to bottom; :mod:`~dunning.channels.letter.sections` draws the
    invoice table, the claim and how to pay with its helpers (``say``, ``heading``, ``table``,
    ``label``, ``money``)."""

    def __init__(
        self,
        message: OutgoingMessage,
        text: LetterText,
        sender_address: Sequence[str],
        place: str,
        fonts: FontFiles | None,
    ) -> None:
        self.message = message
        self.text = text
        self.language = text.language
        self.sender_address = tuple(sender_address)
        self.place = place
        self.currency = message.invoices[0].currency if message.invoices else "EUR"
        creditor = message.creditor
        self.pdf: Document = new_pdf(
            fonts,
            created_on=message.today,
            title=text.subject,
            author=creditor.name,
            footer=f"{creditor.name} · {self.label('customer_number')} {message.debtor.debtor_id}",
            page_label=self.label("page"),
        )
        self.pdf.set_margins(LEFT, LETTERHEAD_Y, LEFT)
        self.pdf.set_auto_page_break(auto=True, margin=BOTTOM_MARGIN)
        self.pdf.add_page()

    def label(self, key: str, **values: str) -> str:
        return label(key, self.language).format(**values)

    def money(self, amount: Decimal) -> str:
        return format_money(amount, self.currency, self.language)

    def long_day(self, day: date) -> str:
        return str(format_date(day, format="long", locale=locale_for(self.language)))

    def percent(self, value: Decimal) -> str:
        return str(
            format_percent(value / 100, format="#,##0.##%", locale=locale_for(self.language))
        )

    def write(self) -> bytes:
        self.letterhead()
        self.window()
        self.fold_marks()
        self.opening()
        for block in self.text.blocks:
            if isinstance(block, Paragraph):
                self.paragraph(block.lines)
            else:
                SECTIONS[block.part](self)
        self.closing()
        return bytes(self.pdf.output())

    def letterhead(self) -> None:
        pdf = self.pdf
        pdf.set_xy(LEFT, LETTERHEAD_Y)
        pdf.set_font(FAMILY, "B", 16)
        pdf.multi_cell(SENDER_X - LEFT - 5, 7, self.message.creditor.name, align="L")
        pdf.set_font(FAMILY, "", 8.5)
        pdf.set_xy(SENDER_X, LETTERHEAD_Y + 1)
        for line in self.sender_address:
            pdf.set_x(SENDER_X)
            pdf.cell(0, 4, line, new_x="LMARGIN", new_y="NEXT")
        for key, value in self._contact_details():
            pdf.set_x(SENDER_X)
            pdf.cell(0, 4, f"{self.label(key)}: {value}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 10)

    def _contact_details(self) -> list[tuple[str, str]]:
        creditor = self.message.creditor
        details = [
            ("phone", creditor.phone),
            ("email", creditor.email),
            ("website", creditor.website),
            ("iban", grouped_iban(creditor.iban) if creditor.iban else None),
        ]
        return [(key, value) for key, value in details if value]

    def window(self) -> None:
        """The return address and the recipient, placed for the envelope window."""
        pdf = self.pdf
        sender = " · ".join((self.message.creditor.name, *self.sender_address))
        size = 7.0
        pdf.set_font(FAMILY, "", size)
        while pdf.get_string_width(sender) > WINDOW_WIDTH and size > 5:
            size -= 0.5
            pdf.set_font(FAMILY, "", size)
        pdf.set_text_color(90)
        pdf.set_xy(WINDOW_X, WINDOW_Y)
        pdf.cell(WINDOW_WIDTH, RETURN_LINE_HEIGHT, sender)
        pdf.set_text_color(0)
        pdf.set_font(FAMILY, "", 10)
        pdf.set_xy(WINDOW_X, ADDRESS_Y)
        for line in address_lines(self.message.debtor, self.language):
            pdf.set_x(WINDOW_X)
            pdf.cell(WINDOW_WIDTH, ADDRESS_LINE, line, new_x="LMARGIN", new_y="NEXT")

    def fold_marks(self) -> None:
        pdf = self.pdf
        pdf.set_draw_color(150)
        pdf.set_line_width(0.2)
        for y in FOLD_MARKS:
            pdf.line(4, y, 9, y)
        pdf.line(4, PUNCH_MARK, 7, PUNCH_MARK)
        pdf.set_draw_color(0)

    def opening(self) -> None:
        """Place and date, the customer number, the subject and the salutation."""
        pdf, message = self.pdf, self.message
        pdf.set_xy(LEFT, REFERENCE_Y)
        pdf.cell(0, LINE, f"{self.place}, {self.long_day(message.today)}", new_y="NEXT")
        pdf.set_x(LEFT)
        pdf.cell(
            0, LINE, f"{self.label('customer_number')}: {message.debtor.debtor_id}", new_y="NEXT"
        )
        pdf.ln(LINE)
        pdf.set_font(FAMILY, "B", 11)
        pdf.multi_cell(WIDTH, 6, self.text.subject, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 10)
        pdf.ln(LINE)
        pdf.cell(0, LINE, self.label("salutation", name=self.text.greeting_name), new_y="NEXT")
        pdf.ln(GAP)

    def say(self, text: str, *, width: float = WIDTH, link: str = "") -> None:
        """``text`` wrapped over ``width``, left-aligned (fpdf2 justifies by default)."""
        self.pdf.multi_cell(width, LINE, text, align="L", link=link, new_x="LMARGIN", new_y="NEXT")

    def keep(self, height: float) -> None:
        """Start a new page unless ``height`` mm still fit on this one (keeps a block whole)."""
        if self.pdf.get_y() + height > self.pdf.page_break_trigger:
            self.pdf.add_page()

    def paragraph(self, lines: Sequence[Line]) -> None:
        pdf = self.pdf
        for line in lines:
            pdf.set_x(LEFT)
            if line.kind == "heading":
                self.keep(3 * LINE)
                pdf.set_font(FAMILY, "B", 10)
                self.say(line.text)
                pdf.set_font(FAMILY, "", 10)
            elif line.kind == "bullet":
                pdf.set_x(LEFT + 2)
                pdf.cell(4, LINE, "•")
                self.say(line.text, width=WIDTH - 6)
            else:
                self.say(line.text)
        pdf.ln(GAP)

    def heading(self, text: str, keep: float) -> None:
        """A bold heading, on a new page unless it and ``keep`` mm after it fit."""
        self.keep(LINE + keep)
        self.pdf.set_font(FAMILY, "B", 10)
        self.say(text)
        self.pdf.set_font(FAMILY, "", 10)
        self.pdf.ln(1)

    def table(
        self,
        headings: Sequence[str] | None,
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        aligns: Sequence[str],
        *,
        bold_last: bool = False,
    ) -> None:
        """A table over the text width; the last row in bold when ``bold_last``."""
        pdf = self.pdf
        pdf.set_font(FAMILY, "", 9)
        with pdf.table(
            col_widths=tuple(widths),
            width=sum(widths),
            align="LEFT",
            text_align=tuple(aligns),
            first_row_as_headings=headings is not None,
            headings_style=HEADINGS,
            line_height=ROW,
            borders_layout=TableBordersLayout.HORIZONTAL_LINES
            if headings is not None
            else TableBordersLayout.NONE,
        ) as table:
            if headings is not None:
                table.row(list(headings))
            for index, cells in enumerate(rows):
                style = BOLD if bold_last and index == len(rows) - 1 else None
                row = table.row()
                for cell in cells:
                    row.cell(cell, style=style)
        pdf.set_font(FAMILY, "", 10)
        pdf.ln(GAP)

    def closing(self) -> None:
        pdf, creditor = self.pdf, self.message.creditor
        lines = [*(creditor.signature or "").splitlines(), creditor.name]
        self.keep(LINE * (len(lines) + 2))
        pdf.set_x(LEFT)
        pdf.cell(0, LINE, self.label("closing"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(LINE)
        for line in (line.strip() for line in lines):
            if line:
                pdf.cell(0, LINE, line, new_x="LMARGIN", new_y="NEXT")


def letter_pdf(
    message: OutgoingMessage,
    text: LetterText,
    *,
    sender_address: Sequence[str],
    place: str,
    fonts: FontFiles | None = None,
) -> bytes:
    """The PDF of ``message`` with the words of ``text`` (see the module docstring).

    Raises :class:`BadRecipient` when the debtor's address cannot go in the window, and
    :class:`~dunning.core.errors.ConfigError` when no font can be found or read.
    """
    return LetterWriter(message, text, sender_address, place, fonts).write()
