"""The ``csv`` source: reading a spreadsheet export and writing payments back into it.

Every test works on a real file in ``tmp_path``; files are written as bytes so line endings,
BOMs and quoting are exactly what the test says.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from dunning.core.errors import SourceError
from dunning.core.models import Debtor, DebtorKind, Invoice, Payment, RowProblem, SyncCursor
from dunning.core.plugins import load_registry
from dunning.core.source import Capability, SourceContext, SyncRecord
from dunning.plugins.csv import CsvSource
from dunning.plugins.csv.config import CsvConfig
from dunning.plugins.csv.values import parse_amount

HEADER = (
    "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;telefoon;taal;soort;"
    "factuurdatum;vervaldatum;bedrag"
)
JANSEN = "D1;Bakkerij Jansen B.V.;Jan Jansen;jan@example.nl;06-12345678;nl;zakelijk"
GOOD_1 = f"F-001;{JANSEN};01-03-2024;31-03-2024;1.234,56"
GOOD_2 = "F-002;D2;Smith Ltd;Emma Smith;emma@example.com;;en;;2024-03-05;2024-04-04;99,95"
GOOD_3 = f"F-003;{JANSEN};10-03-2024;09-04-2024;250,00"


def write_csv(
    folder: Path,
    lines: Sequence[str],
    *,
    ending: str = "\r\n",
    bom: bool = False,
    final_newline: bool = True,
) -> Path:
    """Write ``lines`` to ``folder/invoices.csv`` exactly as given (bytes, UTF-8)."""
    text = ending.join(lines) + (ending if final_newline else "")
    path = folder / "invoices.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def make_source(folder: Path, **settings: Any) -> CsvSource:
    config = CsvConfig.model_validate({"path": "invoices.csv", **settings})
    return CsvSource(config, SourceContext(pipeline="test", config_dir=folder))


def sync_all(source: CsvSource) -> list[SyncRecord]:
    return list(source.sync(None))


def invoices(records: list[SyncRecord]) -> dict[str, Invoice]:
    return {r.number: r for r in records if isinstance(r, Invoice)}


def problems(records: list[SyncRecord]) -> list[str]:
    return [str(r) for r in records if isinstance(r, RowProblem)]


def debtors(records: list[SyncRecord]) -> list[Debtor]:
    return [r for r in records if isinstance(r, Debtor)]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "invoices.csv")


# --- registration and configuration -------------------------------------------------------


def test_csv_kind_is_registered_through_the_entry_point() -> None:
    assert load_registry().source("csv") is CsvSource
    assert CsvSource.capabilities == {
        Capability.REGISTER_PAYMENTS,
        Capability.REVERSE_PAYMENTS,
        Capability.FULL_SNAPSHOT,
        Capability.INVOICE_DOCUMENTS,
    }


def test_config_defaults_fit_a_dutch_export() -> None:
    config = CsvConfig.model_validate({"path": "x.csv"})
    assert (config.delimiter, config.decimal, config.date_format) == (";", ",", "auto")
    assert (config.encoding, config.default_language) == ("utf-8-sig", "nl")
    assert config.columns.invoice_number == "factuurnummer"
    assert config.columns.paid_amount == "betaald_bedrag"


@pytest.mark.parametrize(
    "settings",
    [
        {"path": "x.csv", "delimeter": ","},
        {"path": "x.csv", "columns": {"invoice_nr": "Nr"}},
        {"path": "x.csv", "decimal": ";"},
        {"path": "x.csv", "date_format": "dd-mm-yyyy"},
        {"path": "x.csv", "encoding": "no-such-codec"},
        {"delimiter": ";"},
    ],
)
def test_bad_config_is_rejected(settings: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CsvConfig.model_validate(settings)


def test_relative_path_resolves_against_the_config_folder(tmp_path: Path) -> None:
    assert make_source(tmp_path).path == tmp_path / "invoices.csv"
    absolute = tmp_path / "elsewhere.csv"
    assert make_source(tmp_path, path=str(absolute)).path == absolute


# --- reading ---------------------------------------------------------------------------------


def test_default_columns_give_debtors_and_invoices(tmp_path: Path) -> None:
    write_csv(tmp_path, [HEADER, GOOD_1, GOOD_2])
    records = sync_all(make_source(tmp_path))

    assert records[0] == Debtor(
        debtor_id="D1",
        name="Bakkerij Jansen B.V.",
        email="jan@example.nl",
        phone="06-12345678",
        contact_name="Jan Jansen",
        first_name="Jan",
        language="nl",
        kind=DebtorKind.BUSINESS,
    )
    assert records[1] == Invoice(
        number="F-001",
        debtor_id="D1",
        issue_date=date(2024, 3, 1),
        due_date=date(2024, 3, 31),
        amount_total=Decimal("1234.56"),
        amount_open=Decimal("1234.56"),
        currency="EUR",
        place="invoices.csv:2",
    )
    smith = debtors(records)[1]
    assert (smith.language, smith.kind, smith.phone) == ("en", DebtorKind.BUSINESS, None)
    assert isinstance(records[-1], SyncCursor)
    assert problems(records) == []


def test_headers_match_case_insensitively_and_columns_can_be_renamed(tmp_path: Path) -> None:
    write_csv(
        tmp_path,
        [
            " Invoice No ;KLANT;Name;Factuurdatum ; vervaldatum;Total;Open;Currency;Link",
            "A-1;K9;Acme;2024-01-10;2024-02-09;500,00;125,50;usd;https://pay.example.com/a1",
        ],
    )
    columns = {
        "invoice_number": "invoice no",
        "debtor_id": "klant",
        "debtor_name": "NAME",
        "amount": "total",
        "amount_open": "open",
        "currency": "currency",
        "payment_link": "link",
    }
    invoice = invoices(sync_all(make_source(tmp_path, columns=columns)))["A-1"]
    assert invoice.amount_open == Decimal("125.50")
    assert invoice.currency == "USD"
    assert invoice.payment_link == "https://pay.example.com/a1"


def test_comma_delimiter_with_decimal_point(tmp_path: Path) -> None:
    header = HEADER.replace(";", ",")
    write_csv(
        tmp_path, [header, 'F-9,D9,"Smith, Jones & Co",,,,en,,2024-03-01,2024-03-31,"1,234.56"']
    )
    records = sync_all(make_source(tmp_path, delimiter=",", decimal="."))
    assert debtors(records)[0].name == "Smith, Jones & Co"
    assert invoices(records)["F-9"].amount_total == Decimal("1234.56")


@pytest.mark.parametrize(
    ("text", "decimal_mark", "expected"),
    [
        ("1.234,56", ",", "1234.56"),
        ("1234,56", ",", "1234.56"),
        ("€ 1.234,56", ",", "1234.56"),
        ("-45,00", ",", "-45.00"),
        ("€ -45,00", ",", "-45.00"),
        ("12", ",", "12.00"),
        ("1,234.56", ".", "1234.56"),
        ("1234.5", ".", "1234.50"),
        ("12,3x", ",", None),
        ("1234.56", ",", None),
        ("1.23,4", ",", None),
        ("", ",", None),
    ],
)
def test_amount_notations(text: str, decimal_mark: str, expected: str | None) -> None:
    parsed = parse_amount(text, decimal_mark)
    assert parsed == (None if expected is None else Decimal(expected))


def test_dutch_and_iso_dates_are_both_read(tmp_path: Path) -> None:
    rows = [
        "F-1;D1;A;;;;;;05-03-2024;04-04-2024;1,00",
        "F-2;D1;A;;;;;;05/03/2024;04/04/2024;1,00",
        "F-3;D1;A;;;;;;5-3-2024;4-4-2024;1,00",
        "F-4;D1;A;;;;;;2024-03-05;2024-04-04;1,00",
    ]
    write_csv(tmp_path, [HEADER, *rows])
    found = invoices(sync_all(make_source(tmp_path)))
    assert {(i.issue_date, i.due_date) for i in found.values()} == {
        (date(2024, 3, 5), date(2024, 4, 4))
    }
    assert len(found) == 4


def test_explicit_date_format(tmp_path: Path) -> None:
    write_csv(tmp_path, [HEADER, "F-1;D1;A;;;;;;05.03.2024;04.04.2024;1,00"])
    found = invoices(sync_all(make_source(tmp_path, date_format="%d.%m.%Y")))
    assert found["F-1"].due_date == date(2024, 4, 4)


def test_quoted_newline_keeps_line_numbers_right(tmp_path: Path) -> None:
    write_csv(
        tmp_path,
        [
            HEADER,
            'F-1;D1;"Jansen\r\nafdeling inkoop";;;;;;01-03-2024;31-03-2024;10,00',
            "F-2;D1;A;;;;;;01-03-2024;31-03-2024;12,3x",
            "F-3;D1;A;;;;;;01-03-2024;31-03-2024;10,00",
        ],
    )
    records = sync_all(make_source(tmp_path))
    assert invoices(records)["F-1"].place == "invoices.csv:2"
    assert problems(records) == [
        "invoices.csv:4: amount '12,3x' is not a number; write it like 1234,56"
    ]
    assert invoices(records)["F-3"].place == "invoices.csv:5"


@pytest.mark.parametrize(
    ("bad_row", "problem", "number"),
    [
        (
            "F-X;D1;A;;;;;;01-03-2024;31-03-2024;12,3x",
            "amount '12,3x' is not a number; write it like 1234,56",
            "F-X",
        ),
        (
            "F-X;D1;A;;;;;;01-03-2024;31-02-2024;10,00",
            "due date '31-02-2024' is not a valid date; write it like 31-12-2024 or 2024-12-31",
            "F-X",
        ),
        (
            "F-X;D1;A;;;;;;1 maart;31-03-2024;10,00",
            "invoice date '1 maart' is not a valid date; write it like 31-12-2024 or 2024-12-31",
            "F-X",
        ),
        (
            ";D1;A;;;;;;01-03-2024;31-03-2024;10,00",
            "invoice number is empty; fill in column 'factuurnummer' or delete the line",
            None,
        ),
        (
            "F-001;D1;A;;;;;;01-03-2024;31-03-2024;10,00",
            "invoice number 'F-001' already appears on line 2; remove the duplicate line or "
            "give it its own number",
            "F-001",
        ),
        (
            "F-X;D1;A;;;;;;15-03-2024;01-03-2024;10,00",
            "due date '01-03-2024' is before invoice date '15-03-2024'; correct one of the "
            "two dates",
            "F-X",
        ),
        (
            "F-X;;A;;;;;;01-03-2024;31-03-2024;10,00",
            "debtor id is empty; fill in column 'debiteurnummer'",
            "F-X",
        ),
        (
            "F-X;D1;A;;;;;bedrijfje;01-03-2024;31-03-2024;10,00",
            "debtor kind 'bedrijfje' is not known; write zakelijk or particulier (an empty "
            "cell means zakelijk)",
            "F-X",
        ),
    ],
)
def test_invalid_row_is_reported_and_skipped(
    tmp_path: Path, bad_row: str, problem: str, number: str | None
) -> None:
    path = write_csv(tmp_path, [HEADER, GOOD_1, bad_row, GOOD_3])
    before = path.read_bytes()

    records = sync_all(make_source(tmp_path))

    assert problems(records) == [f"invoices.csv:3: {problem}"]
    row_problem = next(r for r in records if isinstance(r, RowProblem))
    assert row_problem.invoice_number == number
    assert set(invoices(records)) == {"F-001", "F-003"}
    assert isinstance(records[-1], SyncCursor)
    assert path.read_bytes() == before


def test_missing_required_header_is_one_clear_line(tmp_path: Path) -> None:
    write_csv(tmp_path, ["factuurnummer;debiteurnummer;debiteur;factuurdatum;vervaldatum;totaal"])
    with pytest.raises(SourceError) as caught:
        sync_all(make_source(tmp_path))
    message = str(caught.value)
    assert "\n" not in message
    assert message == (
        "invoices.csv: required column 'bedrag' (amount) is missing from the header; the file "
        "has 'factuurnummer', 'debiteurnummer', 'debiteur', 'factuurdatum', 'vervaldatum', "
        "'totaal'; map your own headers with 'columns:' under the source in pipelines.yaml, "
        "e.g. columns: {amount: Totaal}"
    )


def test_wrong_delimiter_gets_a_hint(tmp_path: Path) -> None:
    write_csv(tmp_path, [HEADER.replace(";", ","), GOOD_1.replace(";", ",")])
    with pytest.raises(SourceError, match="set delimiter: ','"):
        sync_all(make_source(tmp_path))


def test_missing_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        sync_all(make_source(tmp_path))
    assert str(tmp_path / "invoices.csv") in str(caught.value)
    assert "check 'path:'" in str(caught.value)


def test_undecodable_file_names_the_encoding_setting(tmp_path: Path) -> None:
    (tmp_path / "invoices.csv").write_bytes(
        (HEADER + "\r\n" + "F-1;D1;Café;;;;;;01-03-2024;31-03-2024;1,00\r\n").encode("cp1252")
    )
    with pytest.raises(SourceError, match="set 'encoding:'"):
        sync_all(make_source(tmp_path))
    assert invoices(sync_all(make_source(tmp_path, encoding="cp1252")))["F-1"]


def test_credit_note_is_flagged(tmp_path: Path) -> None:
    write_csv(tmp_path, [HEADER, "C-1;D1;A;;;;;;01-03-2024;31-03-2024;-45,00"])
    credit = invoices(sync_all(make_source(tmp_path)))["C-1"]
    assert credit.is_credit_note
    assert credit.amount_total == Decimal("-45.00")
    assert not credit.is_dunnable


@pytest.mark.parametrize("mark", ["ja", "JA", "yes", "true", "1", "x"])
def test_paid_row_has_nothing_open(tmp_path: Path, mark: str) -> None:
    write_csv(tmp_path, [f"{HEADER};betaald", f"{GOOD_1};{mark}"])
    paid = invoices(sync_all(make_source(tmp_path)))["F-001"]
    assert paid.amount_open == Decimal("0.00")
    assert paid.amount_total == Decimal("1234.56")


def test_open_amount_is_amount_minus_paid_amount_without_open_column(tmp_path: Path) -> None:
    write_csv(tmp_path, [f"{HEADER};betaald;betaald_bedrag", f"{GOOD_1};nee;234,56"])
    assert invoices(sync_all(make_source(tmp_path)))["F-001"].amount_open == Decimal("1000.00")


def test_debtor_is_yielded_when_first_seen_or_changed(tmp_path: Path) -> None:
    changed = GOOD_3.replace("jan@example.nl", "inkoop@example.nl")
    write_csv(tmp_path, [HEADER, GOOD_1, GOOD_2, GOOD_3, changed.replace("F-003", "F-004")])
    kinds = [type(r).__name__ for r in sync_all(make_source(tmp_path))]
    assert kinds == [
        *("Debtor", "Invoice"),  # F-001, debtor D1 first seen
        *("Debtor", "Invoice"),  # F-002, debtor D2 first seen
        "Invoice",  # F-003, D1 unchanged
        *("Debtor", "Invoice"),  # F-004, D1 has a new email address
        "SyncCursor",
    ]


def test_consumer_kind_and_language_names_are_understood(tmp_path: Path) -> None:
    write_csv(
        tmp_path, [HEADER, "F-1;D1;Piet Pieters;;;;Engels;Particulier;01-03-2024;31-03-2024;1"]
    )
    debtor = debtors(sync_all(make_source(tmp_path)))[0]
    assert (debtor.kind, debtor.language) == (DebtorKind.CONSUMER, "en")


def test_empty_language_falls_back_to_default_language(tmp_path: Path) -> None:
    write_csv(tmp_path, [HEADER, "F-1;D1;A;;;;;;01-03-2024;31-03-2024;1"])
    assert debtors(sync_all(make_source(tmp_path, default_language="EN")))[0].language == "en"


def test_contact_titles_and_initials_give_no_first_name(tmp_path: Path) -> None:
    write_csv(tmp_path, [HEADER, GOOD_1.replace("Jan Jansen", "Dhr. Jansen")])
    assert debtors(sync_all(make_source(tmp_path)))[0].first_name is None


def test_sync_is_a_lazy_generator_ending_with_the_file_hash(tmp_path: Path) -> None:
    source = make_source(tmp_path)
    stream = source.sync(None)  # no file yet: nothing is read until iterated
    assert inspect.isgenerator(stream)
    path = write_csv(tmp_path, [HEADER, GOOD_1])
    records = list(stream)
    assert records[-1] == SyncCursor(value=hashlib.sha256(path.read_bytes()).hexdigest())


# --- columns that steer the policy: labels, country, time zone, discount, paid date ----------

POLICY_HEADER = f"{HEADER};debiteur_labels;land;tijdzone;labels;korting;kortingstermijn"


def policy_row(
    number: str = "F-001",
    *,
    debtor_labels: str = "",
    country: str = "",
    zone: str = "",
    labels: str = "",
    percent: str = "",
    days: str = "",
) -> str:
    """``GOOD_1`` under ``POLICY_HEADER``, with its own number and the given policy cells."""
    cells = (debtor_labels, country, zone, labels, percent, days)
    return ";".join((GOOD_1.replace("F-001", number, 1), *cells))


def test_policy_columns_land_on_the_debtor_and_the_invoice(tmp_path: Path) -> None:
    row = policy_row(
        debtor_labels="Key-Account vip",
        country="be",
        zone="Europe/Brussels",
        labels="VIP, no-call vip,,no_sms",
        percent="2,5",
        days="8",
    )
    write_csv(tmp_path, [POLICY_HEADER, row])
    records = sync_all(make_source(tmp_path))

    assert problems(records) == []
    debtor = debtors(records)[0]
    assert (debtor.tags, debtor.country, debtor.timezone) == (
        ("key-account", "vip"),
        "BE",
        "Europe/Brussels",
    )
    invoice = invoices(records)["F-001"]
    assert invoice.tags == ("vip", "no-call", "no_sms")
    assert (invoice.discount_percent, invoice.discount_days) == (Decimal("2.5"), 8)
    assert invoice.paid_on is None


def test_empty_policy_cells_and_absent_policy_columns_mean_nothing_set(tmp_path: Path) -> None:
    write_csv(tmp_path, [POLICY_HEADER, policy_row()])
    with_columns = sync_all(make_source(tmp_path))
    write_csv(tmp_path, [HEADER, GOOD_1])
    without_columns = sync_all(make_source(tmp_path))

    for records in (with_columns, without_columns):
        assert problems(records) == []
        debtor = debtors(records)[0]
        assert (debtor.tags, debtor.country, debtor.timezone) == ((), None, None)
        invoice = invoices(records)["F-001"]
        assert (invoice.tags, invoice.discount_percent, invoice.discount_days) == ((), None, None)


@pytest.mark.parametrize(
    ("written", "country"),
    [
        ("NL", "NL"),
        ("nl", "NL"),
        (" De ", "DE"),
        ("Nederland", "NL"),
        ("België", "BE"),
        ("belgie", "BE"),
        ("Duitsland", "DE"),
        ("Belgium", "BE"),
    ],
)
def test_country_is_a_code_or_a_dutch_or_english_name(
    tmp_path: Path, written: str, country: str
) -> None:
    write_csv(tmp_path, [POLICY_HEADER, policy_row(country=written)])
    assert debtors(sync_all(make_source(tmp_path)))[0].country == country


def test_time_zone_is_stored_under_its_iana_spelling(tmp_path: Path) -> None:
    write_csv(tmp_path, [POLICY_HEADER, policy_row(zone="america/new york")])
    assert debtors(sync_all(make_source(tmp_path)))[0].timezone == "America/New_York"


def test_discount_percent_follows_the_decimal_setting(tmp_path: Path) -> None:
    header = POLICY_HEADER.replace(";", ",")
    row = "F-1,D1,A,,,,,,2024-03-01,2024-03-31,100.00,,,,,2.5 %,10"
    write_csv(tmp_path, [header, row, row.replace("F-1", "F-2").replace("2.5 %", '"2,5"')])
    records = sync_all(make_source(tmp_path, delimiter=",", decimal="."))

    assert invoices(records)["F-1"].discount_percent == Decimal("2.5")
    assert problems(records) == [
        "invoices.csv:3: discount '2,5' in column 'korting' is not a percentage above 0 and "
        "below 100; write it like 2 or 2.5 (empty: the pipeline's discount terms apply, if any)"
    ]


BAD_LABEL_FIX = (
    "is not a valid label; use letters, digits, - and _ (starting with a letter or digit), "
    "separated by commas or spaces, e.g. vip, no-call"
)
BAD_COUNTRY_FIX = (
    "is not known; write a two-letter code such as NL, BE or DE, or a name such as België "
    "(an empty cell means the pipeline's country)"
)
BAD_PERCENT_FIX = (
    "is not a percentage above 0 and below 100; write it like 2 or 2,5 (empty: the pipeline's "
    "discount terms apply, if any)"
)
BAD_DAYS_FIX = "is not a whole number of days; write the days after the invoice date like 8"


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        ({"labels": "vip, -urgent"}, f"label '-urgent' in column 'labels' {BAD_LABEL_FIX}"),
        ({"labels": "vip klant#1"}, f"label 'klant#1' in column 'labels' {BAD_LABEL_FIX}"),
        (
            {"debtor_labels": "Zeer-Belangrijk!"},
            f"label 'Zeer-Belangrijk!' in column 'debiteur_labels' {BAD_LABEL_FIX}",
        ),
        ({"country": "Holland"}, f"country 'Holland' in column 'land' {BAD_COUNTRY_FIX}"),
        ({"country": "XY"}, f"country 'XY' in column 'land' {BAD_COUNTRY_FIX}"),
        ({"country": "EU"}, f"country 'EU' in column 'land' {BAD_COUNTRY_FIX}"),
        (
            {"zone": "Europe/Amsterdm"},
            "unknown time zone 'Europe/Amsterdm' in column 'tijdzone' (did you mean "
            "Europe/Amsterdam?); use an IANA name such as Europe/Amsterdam (an empty cell means "
            "the pipeline's zone)",
        ),
        (
            {"zone": "localtime"},
            "unknown time zone 'localtime' in column 'tijdzone'; use an IANA name such as "
            "Europe/Amsterdam (an empty cell means the pipeline's zone)",
        ),
        ({"percent": "0", "days": "8"}, f"discount '0' in column 'korting' {BAD_PERCENT_FIX}"),
        ({"percent": "100", "days": "8"}, f"discount '100' in column 'korting' {BAD_PERCENT_FIX}"),
        ({"percent": "2.5", "days": "8"}, f"discount '2.5' in column 'korting' {BAD_PERCENT_FIX}"),
        ({"percent": "-2", "days": "8"}, f"discount '-2' in column 'korting' {BAD_PERCENT_FIX}"),
        (
            {"percent": "2", "days": "8,5"},
            f"discount term '8,5' in column 'kortingstermijn' {BAD_DAYS_FIX}",
        ),
        (
            {"percent": "2", "days": "-1"},
            f"discount term '-1' in column 'kortingstermijn' {BAD_DAYS_FIX}",
        ),
        (
            {"percent": "2"},
            "column 'korting' is filled in but 'kortingstermijn' is empty; an early-payment "
            "discount needs both 'korting' (percent) and 'kortingstermijn' (days after the "
            "invoice date), or leave both empty",
        ),
        (
            {"days": "8"},
            "column 'kortingstermijn' is filled in but 'korting' is empty; an early-payment "
            "discount needs both 'korting' (percent) and 'kortingstermijn' (days after the "
            "invoice date), or leave both empty",
        ),
    ],
)
def test_bad_policy_cell_rejects_the_row_naming_column_and_fix(
    tmp_path: Path, cells: dict[str, str], problem: str
) -> None:
    good = policy_row("F-001", labels="vip", percent="2", days="8")
    write_csv(tmp_path, [POLICY_HEADER, good, policy_row("F-X", **cells), policy_row("F-003")])

    records = sync_all(make_source(tmp_path))

    assert problems(records) == [f"invoices.csv:3: {problem}"]
    assert next(r for r in records if isinstance(r, RowProblem)).invoice_number == "F-X"
    assert set(invoices(records)) == {"F-001", "F-003"}


def test_problem_names_the_header_as_configured(tmp_path: Path) -> None:
    write_csv(tmp_path, [f"{HEADER};Country;Discount %", f"{GOOD_1};Mars;3"])
    columns = {"country": "country", "discount_percent": "discount %"}
    assert problems(sync_all(make_source(tmp_path, columns=columns))) == [
        f"invoices.csv:2: country 'Mars' in column 'country' {BAD_COUNTRY_FIX}",
    ]
    write_csv(tmp_path, [f"{HEADER};Country;Discount %", f"{GOOD_1};;3"])
    assert problems(sync_all(make_source(tmp_path, columns=columns))) == [
        "invoices.csv:2: column 'discount %' is filled in but 'kortingstermijn' is empty; an "
        "early-payment discount needs both 'discount %' (percent) and 'kortingstermijn' (days "
        "after the invoice date), or leave both empty"
    ]


PAID_HEADER = f"{HEADER};openstaand;betaald;betaaldatum;betaald_bedrag"


@pytest.mark.parametrize(
    ("payment_cells", "paid_on"),
    [
        (";ja;02-04-2024;1234,56", date(2024, 4, 2)),  # paid flag
        ("0,00;;2024-04-02;", date(2024, 4, 2)),  # nothing open, ISO date
        (";;02-04-2024;1234,56", date(2024, 4, 2)),  # paid amount covers the total
        (";;02-04-2024;234,56", None),  # partly paid: not settled yet
        ("1000,00;;02-04-2024;", None),  # open amount left
        (";ja;;1234,56", None),  # paid, date unknown
        (";ja;2 april;1234,56", None),  # paid, date unreadable: still paid, date unknown
    ],
)
def test_paid_on_is_the_paid_date_of_a_row_paid_in_full(
    tmp_path: Path, payment_cells: str, paid_on: date | None
) -> None:
    write_csv(tmp_path, [PAID_HEADER, f"{GOOD_1};{payment_cells}"])
    records = sync_all(make_source(tmp_path))
    assert problems(records) == []
    assert invoices(records)["F-001"].paid_on == paid_on


def test_credit_note_has_no_paid_on(tmp_path: Path) -> None:
    write_csv(tmp_path, [PAID_HEADER, "C-1;D1;A;;;;;;01-03-2024;31-03-2024;-45,00;;ja;02-04-2024;"])
    assert invoices(sync_all(make_source(tmp_path)))["C-1"].paid_on is None


# --- writing payments back -------------------------------------------------------------------


def pay(source: CsvSource, number: str, amount: str, on: date) -> None:
    invoice = invoices(sync_all(source))[number]
    source.register_payment(invoice, Payment(number, Decimal(amount), on))


def test_full_payment_marks_the_row_and_keeps_everything_else(tmp_path: Path) -> None:
    quoted = (
        'F-002;D2;"Smith ""&"" Ltd";Emma Smith;"emma@example.com";;en;;05-03-2024;04-04-2024;'
        '"€ 99,95"'
    )
    path = write_csv(tmp_path, [HEADER, GOOD_1, quoted, GOOD_3], bom=True)
    before = path.read_bytes().split(b"\r\n")
    source = make_source(tmp_path)

    pay(source, "F-002", "99.95", date(2024, 4, 2))

    after = path.read_bytes().split(b"\r\n")
    assert after[0] == b"\xef\xbb\xbf" + f"{HEADER};betaald;betaaldatum;betaald_bedrag".encode()
    assert after[1] == before[1]
    assert after[2] == before[2] + b";ja;02-04-2024;99,95"
    assert after[3:] == before[3:]
    assert invoices(sync_all(source))["F-002"].amount_open == Decimal("0.00")
    assert leftovers(tmp_path) == []


def test_paid_date_follows_iso_dates_and_comma_files_keep_their_style(tmp_path: Path) -> None:
    header = HEADER.replace(";", ",") + ",paid,paid_date,paid_amount"
    row = "F-1,D1,A,,,,,,2024-03-01,2024-03-31,1500.00,,,"
    path = write_csv(tmp_path, [header, row], ending="\n", final_newline=False)
    columns = {"paid": "paid", "paid_date": "paid_date", "paid_amount": "paid_amount"}
    source = make_source(tmp_path, delimiter=",", decimal=".", columns=columns)

    pay(source, "F-1", "1500.00", date(2024, 4, 2))

    paid_row = "F-1,D1,A,,,,,,2024-03-01,2024-03-31,1500.00,ja,2024-04-02,1500.00"
    assert path.read_bytes() == f"{header}\n{paid_row}".encode()


def test_all_quoted_file_gets_quoted_cells_and_keeps_its_mode(tmp_path: Path) -> None:
    header = '"factuurnummer";"debiteurnummer";"debiteur";"factuurdatum";"vervaldatum";"bedrag"'
    row = '"F-1";"D1";"A";"01-03-2024";"31-03-2024";"10,00"'
    path = write_csv(tmp_path, [header, row], ending="\n")
    path.chmod(0o640)

    pay(make_source(tmp_path), "F-1", "10", date(2024, 4, 2))

    assert path.read_text(encoding="utf-8") == (
        f'{header};"betaald";"betaaldatum";"betaald_bedrag"\n{row};"ja";"02-04-2024";"10,00"\n'
    )
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_keyed_payment_is_written_once_even_when_the_ledger_expects_less_open(
    tmp_path: Path,
) -> None:
    """A partial payment written, then its answer lost: the next sync takes the unwritten
    payment off the file's (already lowered) open amount once more, so the ledger's invoice
    shows too little open; the key still recognises the payment as written."""
    path = write_csv(tmp_path, [HEADER, GOOD_1])
    source = make_source(tmp_path)
    invoice = invoices(sync_all(source))["F-001"]
    payment = Payment("F-001", Decimal("234.56"), date(2024, 4, 2), key="dunning-main-payment-7")
    source.register_payment(invoice, payment)
    after_first = path.read_bytes()
    assert after_first.splitlines()[0].endswith(b";betaald_kenmerken")
    assert after_first.splitlines()[1].endswith(b";02-04-2024;234,56;dunning-main-payment-7")
    ledger_view = replace(invoice, amount_open=Decimal("765.44"))  # 1234.56 - 2 x 234.56
    source.register_payment(ledger_view, payment)
    assert path.read_bytes() == after_first
    second = Payment("F-001", Decimal("100.00"), date(2024, 4, 2), key="dunning-main-payment-8")
    source.register_payment(ledger_view, second)
    row = path.read_bytes().splitlines()[1]
    assert row.endswith(b";02-04-2024;334,56;dunning-main-payment-7 dunning-main-payment-8")


def test_partial_payment_lowers_the_open_amount(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [HEADER, GOOD_1])
    source = make_source(tmp_path)

    pay(source, "F-001", "234.56", date(2024, 4, 2))

    assert path.read_bytes().splitlines()[1].endswith(b";;02-04-2024;234,56")
    assert invoices(sync_all(source))["F-001"].amount_open == Decimal("1000.00")

    pay(source, "F-001", "1000.00", date(2024, 4, 20))

    assert path.read_bytes().splitlines()[1].endswith(b";ja;20-04-2024;1234,56")
    assert invoices(sync_all(source))["F-001"].amount_open == Decimal("0.00")


def test_partial_payment_updates_the_open_column_when_there_is_one(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [f"{HEADER};openstaand", f"{GOOD_1};1.000,00"])
    source = make_source(tmp_path)

    pay(source, "F-001", "400.00", date(2024, 4, 2))

    assert path.read_bytes().splitlines()[1].endswith(b";600,00;;02-04-2024;400,00")
    assert invoices(sync_all(source))["F-001"].amount_open == Decimal("600.00")


def test_writing_the_same_payment_twice_gives_the_same_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [HEADER, GOOD_1, GOOD_2])
    source = make_source(tmp_path)
    invoice = invoices(sync_all(source))["F-001"]
    payment = Payment("F-001", Decimal("100.00"), date(2024, 4, 2))

    source.register_payment(invoice, payment)
    once = path.read_bytes()
    source.register_payment(invoice, payment)
    assert path.read_bytes() == once
    source.register_payment(invoices(sync_all(source))["F-001"], payment)  # after a new sync
    assert path.read_bytes() == once


def test_two_payments_on_one_day_are_both_written(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [HEADER, GOOD_1])
    source = make_source(tmp_path)
    synced = invoices(sync_all(source))["F-001"]
    first = Payment("F-001", Decimal("300.00"), date(2024, 4, 2))
    second = Payment("F-001", Decimal("200.00"), date(2024, 4, 2))
    # the ledger's view: both payments recorded, neither written back yet
    ledger_view = dataclasses.replace(synced, amount_open=Decimal("734.56"))

    source.register_payment(ledger_view, first)
    source.register_payment(ledger_view, second)
    both = path.read_bytes()
    source.register_payment(ledger_view, second)
    source.register_payment(ledger_view, first)

    assert both.splitlines()[1].endswith(b";;02-04-2024;500,00")
    assert path.read_bytes() == both
    assert invoices(sync_all(source))["F-001"].amount_open == Decimal("734.56")


def test_unknown_invoice_is_an_error_and_leaves_the_file_alone(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [HEADER, GOOD_1, GOOD_2])
    before = path.read_bytes()
    source = make_source(tmp_path)
    ghost = dataclasses.replace(invoices(sync_all(source))["F-001"], number="F-404")

    with pytest.raises(SourceError, match="invoice 'F-404' is not in the file"):
        source.register_payment(ghost, Payment("F-404", Decimal("10"), date(2024, 4, 2)))

    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_invalid_payment_writes_nothing(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [HEADER, GOOD_1])
    before = path.read_bytes()
    source = make_source(tmp_path)
    invoice = invoices(sync_all(source))["F-001"]

    with pytest.raises(SourceError, match="not a positive amount"):
        source.register_payment(invoice, Payment("F-001", Decimal("0"), date(2024, 4, 2)))

    assert path.read_bytes() == before


def test_failure_halfway_through_the_copy_keeps_the_original(tmp_path: Path) -> None:
    rows = [f"F-{n:04d};D1;A;;;;;;01-03-2024;31-03-2024;10,00" for n in range(5000)]
    rows.append("F-LAST;D1;A;;;;;;01-03-2024;31-03-2024;12,3x")
    path = write_csv(tmp_path, [HEADER, *rows])
    before = path.read_bytes()
    source = make_source(tmp_path)
    late = dataclasses.replace(invoices(sync_all(source))["F-0000"], number="F-LAST")

    with pytest.raises(SourceError, match=r"invoices.csv:5002: amount '12,3x' is not a number"):
        source.register_payment(late, Payment("F-LAST", Decimal("10"), date(2024, 4, 2)))

    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_payment_written_back_in_full_gives_paid_on_on_the_next_sync(tmp_path: Path) -> None:
    write_csv(tmp_path, [HEADER, GOOD_1])
    source = make_source(tmp_path)

    pay(source, "F-001", "234.56", date(2024, 4, 2))
    assert invoices(sync_all(source))["F-001"].paid_on is None
    pay(source, "F-001", "1000.00", date(2024, 4, 20))
    assert invoices(sync_all(source))["F-001"].paid_on == date(2024, 4, 20)


def test_the_debtors_own_reference_is_read_from_its_column(tmp_path: Path) -> None:
    write_csv(tmp_path, [f"{HEADER};uw_referentie", f"{GOOD_1};PO-4471", f"{GOOD_3};"])
    found = invoices(sync_all(make_source(tmp_path)))
    assert found["F-001"].your_ref == "PO-4471"
    assert found["F-003"].your_ref is None
