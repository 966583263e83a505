"""Reading an agency's status report and recording what it says (``dunning agency import``).

A report is CSV (``;`` or ``,`` separated, header line) or JSON (a list of objects, or an
object with an ``invoices`` list), one entry per invoice: ``invoice``, ``status``,
``amount_collected`` (what the agency collected on it so far, in total) and ``date``.

The whole file is checked before anything is recorded: one bad line is one error naming
``file:line`` and nothing is recorded. Each line is stored once (importing the same report
again records nothing again); the payment recorded for a line is what the agency collected
beyond what earlier reports already recorded, so amounts never count twice.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from dunning.core.config import LoadedPipeline
from dunning.core.errors import UsageError
from dunning.core.handoff.notify import AGENCY_ORIGIN
from dunning.core.ledger import Ledger
from dunning.core.ledger.handoffs import AgencyReport
from dunning.core.models import Payment

STATUSES = {
    "open": "open",
    "in-progress": "open",
    "collecting": "open",
    "partly-paid": "partly-paid",
    "partial": "partly-paid",
    "paid": "paid",
    "collected": "paid",
    "closed": "closed",
    "uncollectible": "closed",
    "written-off": "closed",
}
"""Accepted status words (lowercase) and what they mean to the ledger."""
COLUMNS = {
    "invoice": ("invoice", "invoice_number", "factuur", "factuurnummer"),
    "status": ("status",),
    "amount_collected": ("amount_collected", "collected", "geind", "geïnd", "bedrag_geind"),
    "date": ("date", "datum", "reported_on"),
}
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")


@dataclass(frozen=True, slots=True)
class ReportLine:
    place: str
    invoice: str
    status: str
    collected: Decimal
    reported_on: date


@dataclass
class ImportResult:
    recorded: list[str] = field(default_factory=list)
    already: int = 0
    payments: int = 0


def _amount(text: str, place: str) -> Decimal:
    cleaned = text.strip().replace("€", "").replace(" ", "")
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?", cleaned):
        cleaned = cleaned.replace(".", "")
    try:
        amount = Decimal(cleaned.replace(",", "."))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise UsageError(
            f"{place}: amount collected {text!r} is not an amount of zero or more in cents; "
            "write it like 1234.56"
        )
    return amount


def _day(text: str, place: str) -> date:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise UsageError(f"{place}: date {text!r} is not a date; write it as YYYY-MM-DD")


def _line(values: dict[str, Any], place: str) -> ReportLine:
    def value(key: str) -> str:
        for name in COLUMNS[key]:
            if name in values and values[name] not in (None, ""):
                return str(values[name])
        raise UsageError(f"{place}: {key} is missing; every line needs {', '.join(COLUMNS)}")

    status_text = value("status").strip().lower()
    if status_text not in STATUSES:
        raise UsageError(
            f"{place}: status {status_text!r} is not known; use one of "
            f"{', '.join(sorted(STATUSES))}"
        )
    return ReportLine(
        place,
        value("invoice").strip(),
        STATUSES[status_text],
        _amount(value("amount_collected"), place),
        _day(value("date"), place),
    )


def read_report(path: Path) -> list[ReportLine]:
    """Parse the report at ``path``; :class:`UsageError` naming ``file:line`` when it is wrong."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: cannot be read as UTF-8 text ({error})") from None
    name = path.name
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise UsageError(f"{name}:{error.lineno}: not valid JSON ({error.msg})") from None
        entries = data.get("invoices") if isinstance(data, dict) else data
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise UsageError(
                f"{name}: expected a list of objects (or an object with an 'invoices' list)"
            )
        return [
            _line({k.lower(): v for k, v in e.items()}, f"{name}: entry {n}")
            for n, e in enumerate(entries, 1)
        ]
    sample = text.splitlines()[0] if text.strip() else ""
    if not sample:
        raise UsageError(f"{name}: the file is empty; it needs a header line, then one line each")
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    lines = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        place = f"{name}:{reader.line_num}"
        if len(row) != len(header):
            raise UsageError(
                f"{place}: {len(row)} fields where the header has {len(header)}; check the "
                f"separator ({delimiter!r}) and quoting"
            )
        lines.append(_line(dict(zip(header, row, strict=True)), place))
    return lines


def import_report(
    ledger: Ledger, pipeline: LoadedPipeline, lines: list[ReportLine]
) -> ImportResult:
    """Record ``lines`` (already read and checked). Every invoice must have been handed over
    in ``pipeline``; otherwise nothing is recorded."""
    name = pipeline.name
    handed = ledger.invoices.handed_over_among(name, [line.invoice for line in lines])
    for line in lines:
        if line.invoice not in handed:
            raise UsageError(
                f"{line.place}: invoice {line.invoice} was not handed over to an agency in "
                f"pipeline {name!r}; nothing recorded"
            )
    result = ImportResult()
    recorded: dict[str, Decimal] = {}
    for payment in ledger.payments.of_invoices(name, list(handed)):
        if payment.origin == AGENCY_ORIGIN:
            recorded[payment.invoice_number] = (
                recorded.get(payment.invoice_number, Decimal(0)) + payment.amount
            )
    for line in sorted(lines, key=lambda item: (item.reported_on, item.collected)):
        report = AgencyReport(line.invoice, line.status, line.collected, line.reported_on,
                              line.place)  # fmt: skip
        if not ledger.handoffs.add_report(name, report):
            result.already += 1
            continue
        new = line.collected - recorded.get(line.invoice, Decimal(0))
        invoice = ledger.invoices.get(name, [line.invoice])[line.invoice][0]
        what = f"{line.place}: {line.invoice} {line.status}"
        if new > 0:
            part = min(new, invoice.amount_open)
            if part > 0:
                ledger.payments.record(
                    name,
                    Payment(line.invoice, part, line.reported_on, AGENCY_ORIGIN,
                            f"agency report {line.reported_on}"),
                )  # fmt: skip
                result.payments += 1
                what += f", payment of {part:.2f} recorded"
            recorded[line.invoice] = line.collected
        elif new < 0:
            what += (
                f"; the agency now reports {line.collected:.2f} collected, less than the "
                f"{recorded[line.invoice]:.2f} recorded before: check with the agency"
            )
        if line.status == "closed":
            what += "; the agency closed the case"
        result.recorded.append(what)
    return result
