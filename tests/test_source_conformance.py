"""The ``csv`` source through the source conformance kit (``core/testing/sources.py``), and
broken sources the kit must catch.

The CSV file is the platform: ``change`` edits a row the way a bookkeeper would, and
``read_payments`` reads the paid columns back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from dunning.core.errors import ConfigError, SourceError
from dunning.core.models import Debtor, Invoice, Payment, SyncCursor
from dunning.core.source import Source, SourceContext, SyncRecord
from dunning.core.testing.sources import (
    SourceUnderTest,
    check_errors,
    check_incremental,
    check_records,
    check_source,
    check_writeback,
)
from dunning.plugins.csv import CsvSource
from dunning.plugins.csv.config import CsvConfig
from dunning.plugins.csv.values import DateFormat, parse_amount

HEADER = "factuurnummer;debiteurnummer;debiteur;email;factuurdatum;vervaldatum;bedrag"
ROWS = (
    "F-001;D1;Bakkerij Jansen B.V.;jan@example.nl;01-02-2026;03-03-2026;1.234,56",
    "F-002;D1;Bakkerij Jansen B.V.;jan@example.nl;05-02-2026;07-03-2026;99,95",
    "F-003;D2;Smith Ltd;emma@example.com;2026-02-10;2026-03-12;250,00",
    "F-004;D3;De Vries;;12-02-2026;14-03-2026;80,00",
)


class CsvPlatform:
    """The CSV file the case's source reads; the latest folder the kit asked for."""

    def __init__(self) -> None:
        self.path: Path | None = None

    def section(self, folder: Path) -> dict[str, Any]:
        self.path = folder / "invoices.csv"
        self.path.write_text("\n".join((HEADER, *ROWS)) + "\n", encoding="utf-8")
        return {"path": "invoices.csv"}

    def rows(self) -> list[dict[str, str]]:
        assert self.path is not None
        text = self.path.read_text(encoding="utf-8-sig")
        return list(csv.DictReader(io.StringIO(text), delimiter=";"))

    def mark_paid(self, number: str) -> None:
        rows = self.rows()
        for row in rows:
            if row["factuurnummer"] == number:
                row["betaald"] = "ja"
        fields = [*dict.fromkeys(k for row in rows for k in row)]
        out = io.StringIO()
        writer = csv.DictWriter(out, fields, delimiter=";", lineterminator="\n", restval="")
        writer.writeheader()
        writer.writerows(rows)
        assert self.path is not None
        self.path.write_text(out.getvalue(), encoding="utf-8")

    def payments(self, number: str) -> list[Payment]:
        row = next(r for r in self.rows() if r["factuurnummer"] == number)
        amount = parse_amount(row.get("betaald_bedrag") or "", ",")
        paid_on = DateFormat().parse(row.get("betaaldatum") or "")
        if amount is None or paid_on is None:
            return []
        return [Payment(number, amount, paid_on, origin="csv")]


def csv_case(platform: CsvPlatform, source_class: type[Source] | None = None) -> SourceUnderTest:
    return SourceUnderTest(
        kind="csv",
        section=platform.section,
        bad_sections=[
            ({}, "required key 'path' is missing"),
            ({"path": "x.csv", "delimiter": ";;"}, "delimiter must be one character"),
            ({"path": "x.csv", "encodng": "utf-8"}, "did you mean 'encoding'?"),
            ({"path": "x.csv", "columns": {"amount": ""}}, "source.columns.amount"),
        ],
        change=platform.mark_paid,
        read_payments=platform.payments,
        source_class=source_class,
    )


def test_csv_source_passes_the_conformance_kit(tmp_path: Path) -> None:
    check_source(csv_case(CsvPlatform()), tmp_path)


def test_a_missing_csv_file_is_a_source_error_naming_the_file(tmp_path: Path) -> None:
    config = CsvConfig.model_validate({"path": "missing.csv"})
    source = CsvSource(config, SourceContext(pipeline="main", config_dir=tmp_path))
    with pytest.raises(SourceError) as raised:
        list(source.sync(None))
    message = str(raised.value)
    assert "missing.csv" in message and "does not exist" in message and "\n" not in message


class InvoiceBeforeDebtor(CsvSource):
    def sync(self, cursor: str | None) -> Iterator[SyncRecord]:
        records = list(super().sync(cursor))
        yield from sorted(records, key=lambda r: not isinstance(r, Invoice))


class CursorFirst(CsvSource):
    def sync(self, cursor: str | None) -> Iterator[SyncRecord]:
        records = list(super().sync(cursor))
        yield from sorted(records, key=lambda r: not isinstance(r, SyncCursor))


class FloatAmounts(CsvSource):
    def sync(self, cursor: str | None) -> Iterator[SyncRecord]:
        for record in super().sync(cursor):
            if isinstance(record, Invoice):
                record = replace(record, amount_open=float(record.amount_open))  # type: ignore[arg-type]
            yield record


class DebtorWithoutId(CsvSource):
    def sync(self, cursor: str | None) -> Iterator[SyncRecord]:
        for record in super().sync(cursor):
            yield replace(record, debtor_id="") if isinstance(record, Debtor) else record


class PaysTwice(CsvSource):
    """Forgets that the row already records the payment, so a repeat is written again."""

    def register_payment(self, invoice: Invoice, payment: Payment) -> None:
        forgotten = replace(payment, key=None)  # no key to recognise it by
        super().register_payment(replace(invoice, amount_open=Decimal("-1")), forgotten)


class ForgetsChanges(CsvSource):
    """Keeps showing the file as it was at its first sync."""

    first: ClassVar[list[SyncRecord]] = []

    def sync(self, cursor: str | None) -> Iterator[SyncRecord]:
        if not ForgetsChanges.first:
            ForgetsChanges.first.extend(super().sync(cursor))
        yield from ForgetsChanges.first


@pytest.mark.parametrize(
    ("broken", "check", "says"),
    [
        (InvoiceBeforeDebtor, check_records, "was not yielded before it"),
        (CursorFirst, check_records, "a cursor must come last"),
        (FloatAmounts, check_records, "amount_open is float, not Decimal"),
        (DebtorWithoutId, check_records, "debtor without debtor_id"),
        (PaysTwice, check_writeback, "registered twice, left these payments"),
        (ForgetsChanges, check_incremental, "did not change it in the ledger"),
    ],
)
def test_the_kit_catches_a_broken_source(
    tmp_path: Path, broken: type[Source], check: Any, says: str
) -> None:
    ForgetsChanges.first.clear()
    with pytest.raises(AssertionError, match=says):
        check(csv_case(CsvPlatform(), broken), tmp_path)


def test_check_source_fails_on_a_broken_source(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="was not yielded before it"):
        check_source(csv_case(CsvPlatform(), InvoiceBeforeDebtor), tmp_path)


def test_the_kit_catches_a_config_error_that_does_not_say_what_is_wrong(tmp_path: Path) -> None:
    case = csv_case(CsvPlatform())
    case.bad_sections = [({"path": "x.csv", "decimal": ";"}, "decimal must be a comma")]
    with pytest.raises(AssertionError, match="expected it to contain 'decimal must be a comma'"):
        check_source(case, tmp_path)


class Platform:
    """What the subclasses below pretend to ask a platform: requests made, failure to answer."""

    requests = 0
    failure: str | None = None


class CountingCsv(CsvSource):
    """One request per sync, as an incremental source with a change feed would make."""

    def sync(self, cursor: str | None) -> Iterator[SyncRecord]:
        Platform.requests += 1
        if Platform.failure == "auth":
            raise ConfigError("csv: the platform refused the token (401); renew it")
        if Platform.failure == "server_error":
            raise SourceError("csv: the platform answered 503 three times; try again later")
        yield from super().sync(cursor)


class CountingEveryRow(CountingCsv):
    """One request per invoice on every sync: O(invoices), not O(changes)."""

    def sync(self, cursor: str | None) -> Iterator[SyncRecord]:
        for record in super().sync(cursor):
            Platform.requests += isinstance(record, Invoice)
            yield record


class AuthIsNotConfig(CountingCsv):
    def sync(self, cursor: str | None) -> Iterator[SyncRecord]:
        if Platform.failure == "auth":
            raise SourceError("csv: 401")
        yield from super().sync(cursor)


def platform_case(source_class: type[Source]) -> SourceUnderTest:
    Platform.requests, Platform.failure = 0, None

    def fail(kind: str | None) -> None:
        Platform.failure = kind

    return replace(
        csv_case(CsvPlatform(), source_class),
        calls=lambda: Platform.requests,
        fail=fail,
        can_fail=("auth", "server_error"),
        recovers=False,
    )


def test_a_source_with_few_requests_and_classified_errors_passes(tmp_path: Path) -> None:
    case = platform_case(CountingCsv)
    for check in (check_incremental, check_errors):
        (tmp_path / check.__name__).mkdir()
        check(case, tmp_path / check.__name__)


@pytest.mark.parametrize(
    ("broken", "check", "says"),
    [
        (
            CountingEveryRow,
            check_incremental,
            "nothing changed made 5 requests; expected at most 1",
        ),
        (AuthIsNotConfig, check_errors, "expected a ConfigError, got a SourceError"),
    ],
)
def test_the_kit_catches_a_costly_or_misclassifying_source(
    tmp_path: Path, broken: type[Source], check: Any, says: str
) -> None:
    with pytest.raises(AssertionError, match=says):
        check(platform_case(broken), tmp_path)


def test_the_kit_catches_a_source_that_gives_up_when_it_should_retry(tmp_path: Path) -> None:
    case = replace(platform_case(CountingCsv), recovers=True)
    with pytest.raises(AssertionError, match="gave up instead of retrying"):
        check_errors(case, tmp_path)
