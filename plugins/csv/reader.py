"""Turn one data row of the CSV into a :class:`Debtor` and an :class:`Invoice`, or a problem.

A row is either wholly good or wholly rejected: a rejected row becomes one
:class:`~dunning.core.models.RowProblem` whose text names the first thing wrong and how to fix it.
The one exception is a bad IBAN: a bank account only helps payment matching, so the row is used
without it and each bad account is reported as a :class:`~dunning.core.models.RowProblem` of its
own next to the row's records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from babel import Locale

from dunning.core.models import ContactPerson, Debtor, Invoice, RowProblem
from dunning.plugins.csv.config import CsvConfig
from dunning.plugins.csv.header import HeaderMap
from dunning.plugins.csv.policy_cells import (
    parse_country,
    parse_days,
    parse_labels,
    parse_percent,
    parse_timezone,
    similar_timezone,
)
from dunning.plugins.csv.stream import Record
from dunning.plugins.csv.values import (
    DateFormat,
    amount_example,
    parse_amount,
    parse_flag,
    parse_ibans,
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

    def read(self, record: Record) -> tuple[Debtor, Invoice, list[RowProblem]] | RowProblem:
        """The debtor and invoice on ``record`` with the bad IBANs left out of the debtor (one
        problem each), or why the row is skipped."""
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
            ibans, bad_ibans = parse_ibans(self._cell(record.cells, "iban"))
            debtor = self._debtor(record.cells, ibans)
            invoice = self._invoice(record.cells, number, debtor.debtor_id, place)
        except _Rejected as rejected:
            return RowProblem(place=place, problem=str(rejected), invoice_number=number or None)
        column = self._header("iban")
        notes = [
            RowProblem(
                place=place,
                problem=f"IBAN {text!r} in column {column!r} is not a valid IBAN (wrong length or "
                "check digits); the row is read without it; correct the account number, e.g. "
                "NL91 ABNA 0417 1643 00, or remove it from the cell",
                skipped=False,
            )
            for text in bad_ibans
        ]
        return debtor, invoice, notes

    def _cell(self, cells: list[str], name: str) -> str:
        return self.header.cell(cells, name)

    def _header(self, name: str) -> str:
        """The configured header of logical field ``name``, for messages."""
        header: str = getattr(self.config.columns, name)
        return header

    def _required(self, cells: list[str], name: str, what: str) -> str:
        value = self._cell(cells, name)
        if not value:
            raise _Rejected(f"{what} is empty; fill in column {self._header(name)!r}")
        return value

    def _debtor(self, cells: list[str], ibans: tuple[str, ...]) -> Debtor:
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
            tags=self._labels(cells, "debtor_tags"),
            country=self._country(cells),
            timezone=self._timezone(cells),
            contacts=self._manager(cells),
            address=self._address(cells),
            ibans=ibans,
        )

    def _address(self, cells: list[str]) -> tuple[str, ...]:
        street = self._cell(cells, "street")
        place = " ".join(p for p in (self._cell(cells, "postcode"), self._cell(cells, "city")) if p)
        country = self._country(cells) if street or place else None
        lines = [line for line in (street, place) if line]
        if street and place and country and country != "NL":
            lines.append(Locale("en").territories.get(country, country).upper())
        return tuple(lines)

    def _manager(self, cells: list[str]) -> tuple[ContactPerson, ...]:
        name = self._cell(cells, "manager_name")
        phone = self._cell(cells, "manager_phone") or None
        email = self._cell(cells, "manager_email") or None
        if not (name or phone or email):
            return ()
        return (ContactPerson(name or "management", "management", phone, email),)

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
        currency = self._currency(cells)
        tags = self._labels(cells, "tags")
        discount_percent, discount_days = self._discount(cells)
        settled = amount > 0 and open_amount <= 0  # a credit note has no payment behaviour
        return Invoice(
            number=number,
            debtor_id=debtor_id,
            issue_date=issue_date,
            due_date=due_date,
            amount_total=amount,
            amount_open=open_amount,
            currency=currency,
            payment_link=self._cell(cells, "payment_link") or None,
            is_credit_note=amount < 0,
            place=place,
            tags=tags,
            paid_on=self.dates.parse(self._cell(cells, "paid_date")) if settled else None,
            discount_percent=discount_percent,
            discount_days=discount_days,
            payment_reference=self._cell(cells, "payment_reference") or None,
            your_ref=self._cell(cells, "your_ref") or None,
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

    def _labels(self, cells: list[str], name: str) -> tuple[str, ...]:
        labels, rejected = parse_labels(self._cell(cells, name))
        if rejected:
            raise _Rejected(
                f"label {rejected[0]!r} in column {self._header(name)!r} is not a valid label; "
                "use letters, digits, - and _ (starting with a letter or digit), separated by "
                "commas or spaces, e.g. vip, no-call"
            )
        return labels

    def _country(self, cells: list[str]) -> str | None:
        text = self._cell(cells, "country")
        if not text:
            return None
        country = parse_country(text)
        if country is None:
            raise _Rejected(
                f"country {text!r} in column {self._header('country')!r} is not known; write a "
                "two-letter code such as NL, BE or DE, or a name such as België (an empty cell "
                "means the pipeline's country)"
            )
        return country

    def _timezone(self, cells: list[str]) -> str | None:
        text = self._cell(cells, "timezone")
        if not text:
            return None
        zone = parse_timezone(text)
        if zone is None:
            similar = similar_timezone(text)
            hint = f" (did you mean {similar}?)" if similar else ""
            raise _Rejected(
                f"unknown time zone {text!r} in column {self._header('timezone')!r}{hint}; use "
                "an IANA name such as Europe/Amsterdam (an empty cell means the pipeline's zone)"
            )
        return zone

    def _discount(self, cells: list[str]) -> tuple[Decimal | None, int | None]:
        """The invoice's own early-payment terms: both cells filled in, or both empty."""
        percent_column = self._header("discount_percent")
        days_column = self._header("discount_days")
        percent_text = self._cell(cells, "discount_percent")
        days_text = self._cell(cells, "discount_days")
        percent = parse_percent(percent_text, self.config.decimal) if percent_text else None
        if percent_text and percent is None:
            raise _Rejected(
                f"discount {percent_text!r} in column {percent_column!r} is not a percentage "
                f"above 0 and below 100; write it like 2 or 2{self.config.decimal}5 "
                "(empty: the pipeline's discount terms apply, if any)"
            )
        days = parse_days(days_text) if days_text else None
        if days_text and days is None:
            raise _Rejected(
                f"discount term {days_text!r} in column {days_column!r} is not a whole number "
                "of days; write the days after the invoice date like 8"
            )
        if (percent is None) != (days is None):
            given, missing = (
                (percent_column, days_column) if days is None else (days_column, percent_column)
            )
            raise _Rejected(
                f"column {given!r} is filled in but {missing!r} is empty; an early-payment "
                f"discount needs both {percent_column!r} (percent) and {days_column!r} (days "
                "after the invoice date), or leave both empty"
            )
        return percent, days
