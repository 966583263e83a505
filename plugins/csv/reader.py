"""Turn one data row of the CSV into a :class:`Debtor` and an :class:`Invoice`, or a problem.

A row is either wholly good or wholly rejected: a rejected row becomes one
:class:`~dunning.core.models.RowProblem` whose text names the first thing wrong and how to fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from dunning.core.models import Debtor, Invoice, RowProblem
from dunning.plugins.csv.config import CsvConfig
from dunning.plugins.csv.header import HeaderMap
from dunning.plugins.csv.stream import Record
from dunning.plugins.csv.values import (
    DateFormat,
    amount_example,
    parse_amount,
    parse_flag,
    parse_kind,
    parse_language,
)

_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_TITLES = frozenset(
    {"dhr", "mevr", "mw", "mevrouw", "heer", "de", "mr", "mrs", "ms", "miss", "dr", "ir"}
)


class _Rejected(Exception):
    """Internal: the row cannot be used, for the reason in ``args[0]``."""


def first_name_of(contact_name: str) -> str | None:
    """The first word of a contact name, unless it is a title or an initial (``Dhr.``, ``J.``)."""
    words = contact_name.split()
    if not words:
        return None
    first = words[0]
    if first.endswith(".") or len(first) < 2 or first.casefold().rstrip(".") in _TITLES:
        return None
    return first


@dataclass
class RowReader:
    """Reads the data rows of one file, remembering invoice numbers to catch duplicates.

    Memory grows only with the number of distinct invoice numbers seen.
    """

    config: CsvConfig
    header: HeaderMap
    file_name: str
    dates: DateFormat = field(init=False)
    first_line_of: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.dates = DateFormat(self.config.date_format)

    def read(self, record: Record) -> tuple[Debtor, Invoice] | RowProblem:
        """The debtor and invoice on ``record``, or why the row is skipped."""
        place = f"{self.file_name}:{record.line}"
        number = self.header.cell(record.cells, "invoice_number")
        try:
            if not number:
                raise _Rejected(
                    f"invoice number is empty; fill in column "
                    f"{self.config.columns.invoice_number!r} or delete the line"
                )
            first_line = self.first_line_of.setdefault(number, record.line)
            if first_line != record.line:
                raise _Rejected(
                    f"invoice number {number!r} already appears on line {first_line}; "
                    "remove the duplicate line or give it its own number"
                )
            debtor = self._debtor(record.cells)
            invoice = self._invoice(record.cells, number, debtor.debtor_id, place)
        except _Rejected as rejected:
            return RowProblem(place=place, problem=str(rejected), invoice_number=number or None)
        return debtor, invoice

    def _cell(self, cells: list[str], name: str) -> str:
        return self.header.cell(cells, name)

    def _required(self, cells: list[str], name: str, what: str) -> str:
        value = self._cell(cells, name)
        if not value:
            header = getattr(self.config.columns, name)
            raise _Rejected(f"{what} is empty; fill in column {header!r}")
        return value

    def _debtor(self, cells: list[str]) -> Debtor:
        debtor_id = self._required(cells, "debtor_id", "debtor id")
        name = self._required(cells, "debtor_name", "debtor name")
        kind_text = self._cell(cells, "debtor_kind")
        kind = parse_kind(kind_text)
        if kind is None:
            raise _Rejected(
                f"debtor kind {kind_text!r} is not known; write zakelijk or particulier "
                "(an empty cell means zakelijk)"
            )
        language_text = self._cell(cells, "language")
        language = parse_language(language_text, self.config.default_language)
        if language is None:
            raise _Rejected(
                f"language {language_text!r} is not known; write a two-letter code such as "
                "nl or en (an empty cell means default_language)"
            )
        contact = self._cell(cells, "contact_name") or None
        return Debtor(
            debtor_id=debtor_id,
            name=name,
            email=self._cell(cells, "email") or None,
            phone=self._cell(cells, "phone") or None,
            contact_name=contact,
            first_name=first_name_of(contact) if contact else None,
            language=language,
            kind=kind,
        )

    def _invoice(self, cells: list[str], number: str, debtor_id: str, place: str) -> Invoice:
        issue_date = self._date(cells, "issue_date", "invoice date")
        due_date = self._date(cells, "due_date", "due date")
        if due_date < issue_date:
            raise _Rejected(
                f"due date {self._cell(cells, 'due_date')!r} is before invoice date "
                f"{self._cell(cells, 'issue_date')!r}; correct one of the two dates"
            )
        amount = self._amount(self._cell(cells, "amount"), "amount")
        paid_text = self._cell(cells, "paid")
        paid = parse_flag(paid_text)
        if paid is None:
            raise _Rejected(
                f"paid {paid_text!r} is not understood; write ja when the invoice is paid, "
                "or leave the cell empty"
            )
        paid_amount = self._optional_amount(cells, "paid_amount", "paid amount") or Decimal("0.00")
        open_amount = self._optional_amount(cells, "amount_open", "open amount")
        if paid:
            open_amount = Decimal("0.00")
        elif open_amount is None:
            open_amount = amount - paid_amount
        return Invoice(
            number=number,
            debtor_id=debtor_id,
            issue_date=issue_date,
            due_date=due_date,
            amount_total=amount,
            amount_open=open_amount,
            currency=self._currency(cells),
            payment_link=self._cell(cells, "payment_link") or None,
            is_credit_note=amount < 0,
            place=place,
        )

    def _date(self, cells: list[str], name: str, what: str) -> date:
        text = self._cell(cells, name)
        if not text:
            raise _Rejected(f"{what} is empty; write it like {self.dates.example()}")
        value = self.dates.parse(text)
        if value is None:
            raise _Rejected(
                f"{what} {text!r} is not a valid date; write it like {self.dates.example()}"
            )
        return value

    def _amount(self, text: str, what: str) -> Decimal:
        example = amount_example(self.config.decimal)
        if not text:
            raise _Rejected(f"{what} is empty; write it like {example}")
        value = parse_amount(text, self.config.decimal)
        if value is None:
            raise _Rejected(f"{what} {text!r} is not a number; write it like {example}")
        return value

    def _optional_amount(self, cells: list[str], name: str, what: str) -> Decimal | None:
        """The amount in optional column ``name``; ``None`` when the column or cell is empty."""
        text = self._cell(cells, name)
        return self._amount(text, what) if text else None

    def _currency(self, cells: list[str]) -> str:
        text = self._cell(cells, "currency")
        if not text or text == "€":
            return "EUR"
        if not _CURRENCY.match(text):
            raise _Rejected(
                f"currency {text!r} is not a currency code; write a three-letter code like EUR"
            )
        return text.upper()
