"""``summary.pdf``: the dossier for a person at the agency, in the agency's language.

Sections in a fixed order: creditor, debtor, invoices (and credit notes), the claim, the
correspondence, calls, agreements, payments and the 14-day letter. Amounts as ``€ 1.234,56``
(Dutch) or ``€1,234.56`` (English). The same dossier always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from fpdf.fonts import FontFace

from dunning.channels.agency.labels import label
from dunning.core.handoff.dossier import Dossier
from dunning.core.models import DebtorKind, Invoice
from dunning.core.pdf import FAMILY, Document, FontFiles, format_day, format_money, new_pdf

HEADINGS = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
LINE = 5.0


class _Summary:
    """Writes one dossier into a PDF, section by section."""

    def __init__(
        self, dossier: Dossier, language: str, agency_name: str | None, fonts: FontFiles | None
    ) -> None:
        self.dossier = dossier
        self.language = language
        self.agency_name = agency_name
        self.currency = dossier.invoices[0].currency if dossier.invoices else "EUR"
        self.pdf: Document = new_pdf(
            fonts,
            created_on=dossier.created_on,
            title=f"{self.text('title')} {dossier.reference}",
            author=dossier.creditor.name,
            footer=f"{self.text('reference')} {dossier.reference}",
            page_label=self.text("page"),
        )
        self.pdf.add_page()

    def text(self, key: str) -> str:
        return label(key, self.language)

    def money(self, amount: Decimal, currency: str | None = None) -> str:
        return format_money(amount, currency or self.currency, self.language)

    def day(self, value: date | datetime | None) -> str:
        if value is None:
            return ""
        return format_day(value.date() if isinstance(value, datetime) else value, self.language)

    def heading(self, key: str) -> None:
        self.pdf.ln(3)
        self.pdf.set_font(FAMILY, "B", 12)
        self.pdf.cell(0, 7, self.text(key), new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font(FAMILY, "", 10)

    def paragraph(self, text: str) -> None:
        self.pdf.multi_cell(0, LINE, text, new_x="LMARGIN", new_y="NEXT")

    def facts(self, rows: Sequence[tuple[str, str | None]]) -> None:
        """Label/value pairs; pairs without a value are left out."""
        present = [(self.text(key), value) for key, value in rows if value]
        if present:
            self.table([("", ""), ("", "")], present, widths=(40, 150), with_headings=False)

    def table(
        self,
        columns: Sequence[tuple[str, str]],
        rows: Sequence[Sequence[str]],
        widths: Sequence[int],
        *,
        with_headings: bool = True,
    ) -> None:
        """A table; ``columns`` are (label key, alignment) per column, the key is the heading."""
        self.pdf.set_font(FAMILY, "", 9)
        with self.pdf.table(
            col_widths=tuple(widths),
            width=sum(widths),
            align="LEFT",
            text_align=tuple(align or "LEFT" for _, align in columns),
            first_row_as_headings=with_headings,
            headings_style=HEADINGS,
            line_height=LINE,
            borders_layout="HORIZONTAL_LINES" if with_headings else "NONE",
        ) as table:
            if with_headings:
                table.row([self.text(key) for key, _ in columns])
            for row in rows:
                table.row(list(row))
        self.pdf.set_font(FAMILY, "", 10)

    def write(self) -> bytes:
        self.title()
        self.creditor()
        self.debtor()
        self.invoices("invoices", self.dossier.invoices)
        if self.dossier.credit_notes:
            self.invoices("credit_notes", self.dossier.credit_notes)
        self.claim()
        self.history()
        self.calls()
        self.agreements()
        self.payments()
        self.letters()
        return bytes(self.pdf.output())

    def title(self) -> None:
        self.pdf.set_font(FAMILY, "B", 16)
        self.pdf.cell(0, 9, self.text("title"), new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font(FAMILY, "", 10)
        self.facts(
            [
                ("reference", self.dossier.reference),
                ("created_on", self.day(self.dossier.created_on)),
                ("agency", self.agency_name),
                ("total_open", self.money(self.dossier.total_open)),
            ]
        )

    def creditor(self) -> None:
        creditor = self.dossier.creditor
        self.heading("creditor")
        vat = self.text("yes" if self.dossier.vat_deductible else "no")
        self.facts(
            [
                ("name", creditor.name),
                ("email", creditor.email),
                ("phone", creditor.phone),
                ("iban", creditor.iban),
                ("website", creditor.website),
                ("vat_deductible", vat),
            ]
        )

    def debtor(self) -> None:
        debtor = self.dossier.debtor
        self.heading("debtor")
        kind = "consumer" if debtor.kind is DebtorKind.CONSUMER else "business"
        self.facts(
            [
                ("name", debtor.name),
                ("debtor_id", debtor.debtor_id),
                ("kind", self.text(kind)),
                ("contact", debtor.contact_name),
                ("email", debtor.email),
                ("phone", debtor.phone),
                ("country", debtor.country),
                ("language", debtor.language),
                ("tags", ", ".join(debtor.tags)),
            ]
        )

    def invoices(self, key: str, invoices: Sequence[Invoice]) -> None:
        self.heading(key)
        today = self.dossier.created_on
        rows = [
            (
                i.number,
                self.day(i.issue_date),
                self.day(i.due_date),
                "" if i.is_credit_note else str(max(i.days_overdue(today), 0)),
                self.money(i.amount_total, i.currency),
                self.money(i.amount_open, i.currency),
            )
            for i in invoices
        ]
        columns = [
            ("number", ""),
            ("issue_date", ""),
            ("due_date", ""),
            ("days_overdue", "RIGHT"),
            ("total", "RIGHT"),
            ("open", "RIGHT"),
        ]
        self.table(columns, rows, widths=(34, 29, 29, 20, 39, 39))

    def claim(self) -> None:
        claim = self.dossier.claim
        self.heading("claim")
        self.paragraph(f"{self.text('claim')} {self.text('as_of')} {self.day(claim.as_of)}")
        rows = [
            (
                line.invoice,
                self.money(line.principal),
                self.money(line.interest.amount if line.interest else Decimal(0)),
                f"{self.text('interest_from')} {self.day(line.interest.start)}"
                if line.interest
                else "",
            )
            for line in claim.lines
        ]
        columns = [("invoice", ""), ("principal", "RIGHT"), ("interest", "RIGHT"), ("note", "")]
        self.table(columns, rows, widths=(40, 35, 30, 85))
        self.pdf.ln(2)
        totals = [
            (self.text("principal"), self.money(claim.principal), ""),
            (self.text("interest"), self.money(claim.interest), claim.interest_basis),
            (self.text("costs"), self.money(claim.costs), claim.costs_basis),
            (self.text("vat"), self.money(claim.vat), ""),
            (self.text("claim_total"), self.money(claim.total), ""),
        ]
        self.table(
            [("", ""), ("", "RIGHT"), ("", "")], totals, widths=(40, 35, 115), with_headings=False
        )
        if not claim.costs_now:
            self.paragraph(self.text("costs_later"))

    def history(self) -> None:
        self.heading("history")
        rows = [
            (
                self.day(m.sent_at or m.planned_for),
                m.channel_kind,
                m.step,
                m.state,
                m.recipient or "",
                ", ".join(m.invoice_numbers),
            )
            for m in self.dossier.messages
        ]
        if not rows:
            self.paragraph(self.text("none"))
            return
        columns = [("date", ""), ("channel", ""), ("step", ""), ("state", "")]
        columns += [("recipient", ""), ("invoices", "")]
        self.table(columns, rows, widths=(24, 18, 38, 20, 50, 40))

    def calls(self) -> None:
        self.heading("calls")
        if not self.dossier.calls:
            self.paragraph(self.text("none"))
        for call in self.dossier.calls:
            details = "; ".join(f"{key}: {value}" for key, value in sorted(call.details.items()))
            self.facts(
                [
                    ("date", self.day(call.done_at or call.due_on)),
                    ("state", call.status),
                    ("outcome", call.outcome),
                    ("spoken_to", call.spoken_to),
                    ("done_by", call.done_by),
                    ("note", call.note),
                    ("details", details),
                ]
            )
            self.pdf.ln(1)

    def agreements(self) -> None:
        self.heading("agreements")
        if not self.dossier.agreements:
            self.paragraph(self.text("none"))
        for agreement in self.dossier.agreements:
            period = self.day(agreement.starts_on)
            if agreement.until or agreement.ended_on:
                period += f" – {self.day(agreement.ended_on or agreement.until)}"
            instalments = ", ".join(
                f"{self.day(i.due_on)}: {self.money(i.amount)}" for i in agreement.instalments
            )
            self.facts(
                [
                    ("kind", agreement.kind),
                    ("state", agreement.status),
                    ("period", period),
                    ("reason", agreement.reason),
                    ("invoices", ", ".join(agreement.invoice_numbers)),
                    ("instalments", instalments),
                ]
            )
            self.pdf.ln(1)

    def payments(self) -> None:
        self.heading("payments")
        rows = [
            (
                self.day(p.paid_on),
                p.invoice_number,
                self.money(p.amount),
                p.origin,
                p.reference or "",
            )
            for p in self.dossier.payments
        ]
        if not rows:
            self.paragraph(self.text("none"))
            return
        columns = [("date", ""), ("invoice", ""), ("amount", "RIGHT"), ("origin", "")]
        self.table([*columns, ("reference", "")], rows, widths=(24, 40, 32, 34, 60))

    def letters(self) -> None:
        self.heading("letters")
        rows = [
            (
                self.day(letter.sent_on),
                self.day(letter.received_on),
                self.day(letter.last_day),
                letter.channel,
                ", ".join(letter.invoice_numbers),
                self.money(letter.principal),
                self.money(letter.costs),
            )
            for letter in self.dossier.letters
        ]
        if not rows:
            self.paragraph(self.text("none"))
            return
        columns = [("sent_on", ""), ("received_on", ""), ("last_day", ""), ("channel", "")]
        columns += [("invoices", ""), ("principal", "RIGHT"), ("costs", "RIGHT")]
        self.table(columns, rows, widths=(24, 24, 24, 18, 40, 30, 30))


def summary_pdf(
    dossier: Dossier,
    language: str = "nl",
    agency_name: str | None = None,
    fonts: FontFiles | None = None,
) -> bytes:
    """The PDF summary of ``dossier``; raises :class:`~dunning.core.errors.ConfigError` when no
    font can be found (see :func:`dunning.core.pdf.find_fonts`)."""
    return _Summary(dossier, language, agency_name, fonts).write()
