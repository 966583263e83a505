"""A debtor's bank accounts as the source knows them: read from a CSV file and from Moneybird
(against its local fake, over real HTTP), normalised, and kept in the ledger (real SQLite), so
that payment matching knows them from the first statement on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dunning.core.ibans import normal_iban
from dunning.core.ledger import Ledger
from dunning.core.models import Debtor, Invoice, RowProblem
from dunning.core.progress import NoProgress
from dunning.core.source import SourceContext
from dunning.core.summary import RunSummary
from dunning.core.sync import sync_source
from dunning.plugins.csv import CsvSource
from dunning.plugins.csv.config import CsvConfig
from dunning.plugins.moneybird import MoneybirdSource
from dunning.plugins.moneybird.config import MoneybirdConfig
from dunning.plugins.moneybird.fake import FakeMoneybird

TODAY = date(2026, 3, 17)
TOKEN = "test-token"
NL = "NL91ABNA0417164300"
DE = "DE89370400440532013000"
GB = "GB82WEST12345698765432"

HEADER = "factuurnummer;debiteurnummer;debiteur;factuurdatum;vervaldatum;bedrag;iban"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield opened
    opened.close()


@pytest.fixture
def fake() -> Iterator[FakeMoneybird]:
    with FakeMoneybird(TOKEN, today=TODAY) as server:
        yield server


def csv_source(
    folder: Path, lines: list[str], header: str = HEADER, **settings: object
) -> CsvSource:
    (folder / "invoices.csv").write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    config = CsvConfig.model_validate({"path": "invoices.csv", **settings})
    return CsvSource(config, SourceContext(pipeline="main", config_dir=folder))


def moneybird_source(fake: FakeMoneybird, folder: Path) -> MoneybirdSource:
    config = MoneybirdConfig.model_validate(
        {
            "administration_id": fake.administration_id,
            "token": TOKEN,
            "base_url": fake.base_url,
            "timeout": 2,
        }
    )
    return MoneybirdSource(config, SourceContext(pipeline="main", config_dir=folder))


def sync(source: CsvSource | MoneybirdSource, ledger: Ledger) -> RunSummary:
    summary = RunSummary(pipeline="main", as_of=TODAY)
    sync_source(source, ledger, "main", 1, summary, NoProgress())
    return summary


def stored_ibans(ledger: Ledger, debtor_id: str) -> tuple[str, ...]:
    debtor = ledger.invoices.debtor("main", debtor_id)
    assert debtor is not None
    return debtor.ibans


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NL91ABNA0417164300", NL),
        ("nl91 abna 0417 1643 00", NL),
        ("NL91.ABNA.0417.1643.00", NL),
        ("NL91ABNA0417164301", None),  # check digits do not add up
        ("NL91ABNA041716430", None),  # one digit short
        ("123456789", None),  # a national account number
        ("", None),
    ],
)
def test_an_iban_is_kept_compact_and_upper_case_only_when_valid(
    text: str, expected: str | None
) -> None:
    assert normal_iban(text) == expected


# --- CSV -------------------------------------------------------------------------------------


def test_csv_accounts_are_read_compact_whether_spaced_or_several(
    tmp_path: Path, ledger: Ledger
) -> None:
    source = csv_source(
        tmp_path,
        [
            f"F-1;D1;Bakkerij Jansen;01-03-2026;31-03-2026;100,00;{NL}",
            "F-2;D2;Smit Transport;01-03-2026;31-03-2026;200,00;nl91 abna 0417 1643 00",
            f'F-3;D3;Visser B.V.;01-03-2026;31-03-2026;300,00;"{NL}; DE89 3704 0044 0532 0130 00"',
            f"F-4;D4;De Vries;01-03-2026;31-03-2026;400,00;{GB} {NL}, {GB}",
            "F-5;D5;Bos;01-03-2026;31-03-2026;500,00;",
        ],
    )

    summary = sync(source, ledger)

    assert summary.problems == []
    assert stored_ibans(ledger, "D1") == (NL,)
    assert stored_ibans(ledger, "D2") == (NL,)
    assert stored_ibans(ledger, "D3") == (NL, DE)
    assert stored_ibans(ledger, "D4") == (GB, NL)
    assert stored_ibans(ledger, "D5") == ()


def test_a_bad_csv_account_is_reported_and_its_invoice_still_synced(
    tmp_path: Path, ledger: Ledger
) -> None:
    source = csv_source(
        tmp_path,
        [
            f"F-1;D1;Bakkerij Jansen;01-03-2026;31-03-2026;100,00;{NL}",
            f"F-2;D2;Smit Transport;01-03-2026;31-03-2026;200,00;NL91 ABNA 0417 1643 01, {DE}",
        ],
        header=HEADER.replace(";iban", ";Rekeningnummer"),
        columns={"iban": "Rekeningnummer"},
    )

    records = list(source.sync(None))
    problems = [r for r in records if isinstance(r, RowProblem)]
    assert [(p.place, p.invoice_number) for p in problems] == [("invoices.csv:3", None)]
    assert "'NL91 ABNA 0417 1643 01' in column 'Rekeningnummer' is not a valid IBAN" in str(
        problems[0]
    )
    assert "correct the account number" in problems[0].problem

    summary = sync(source, ledger)
    assert len(summary.problems) == 1
    assert stored_ibans(ledger, "D2") == (DE,)  # the valid account next to it is kept
    assert {i.number for i in ledger.invoices.dunnable("main")} == {"F-1", "F-2"}


def test_a_rejected_csv_line_says_only_what_rejected_it(tmp_path: Path) -> None:
    source = csv_source(tmp_path, ["F-1;D1;;01-03-2026;31-03-2026;100,00;NL00 BAD"])

    records = list(source.sync(None))

    problems = [str(r) for r in records if isinstance(r, RowProblem)]
    assert problems == ["invoices.csv:2: debtor name is empty; fill in column 'debiteur'"]
    assert not [r for r in records if isinstance(r, Invoice | Debtor)]


# --- Moneybird -------------------------------------------------------------------------------


def test_moneybird_sepa_iban_and_bank_account_become_the_debtors_accounts(
    fake: FakeMoneybird, tmp_path: Path, ledger: Ledger
) -> None:
    both = fake.add_contact(
        company_name="Bakker B.V.", sepa_iban="NL91 ABNA 0417 1643 00", bank_account=DE
    ).id
    same = fake.add_contact(
        company_name="Smit B.V.", sepa_iban=NL, bank_account="nl91abna0417164300"
    ).id
    national = fake.add_contact(company_name="Visser B.V.", bank_account="123456789").id
    bank_only = fake.add_contact(firstname="Anouk", lastname="de Vries", bank_account=GB).id
    none = fake.add_contact(company_name="Bos B.V.", sepa_iban="", bank_account="").id
    for contact_id in (both, same, national, bank_only, none):
        fake.add_invoice(
            contact_id, "121.00", invoice_date=date(2026, 1, 10), due_date=date(2026, 2, 9)
        )

    records = list(moneybird_source(fake, tmp_path).sync(None))
    debtors = {r.debtor_id: r.ibans for r in records if isinstance(r, Debtor)}

    assert debtors == {
        both: (NL, DE),
        same: (NL,),
        national: (),
        bank_only: (GB,),
        none: (),
    }
    assert not [r for r in records if isinstance(r, RowProblem)]

    sync(moneybird_source(fake, tmp_path), ledger)
    assert stored_ibans(ledger, both) == (NL, DE)
    assert stored_ibans(ledger, none) == ()


# --- ledger ----------------------------------------------------------------------------------


def test_the_ledger_keeps_a_debtors_accounts_and_a_later_sync_replaces_them(
    ledger: Ledger,
) -> None:
    invoice = Invoice("F1", "D1", date(2026, 3, 1), date(2026, 3, 31), Decimal(100), Decimal(100))
    with_accounts = Debtor("D1", "Jansen", ibans=(NL, DE))
    ledger.invoices.save_batch("main", 1, [with_accounts, Debtor("D2", "Smit")], [invoice], {})

    assert ledger.invoices.debtor("main", "D1") == with_accounts
    assert ledger.invoices.debtors("main")["D1"].ibans == (NL, DE)
    assert stored_ibans(ledger, "D2") == ()

    ledger.invoices.save_batch("main", 2, [Debtor("D1", "Jansen", ibans=(GB,))], [invoice], {})
    assert stored_ibans(ledger, "D1") == (GB,)
    ledger.invoices.save_batch("main", 3, [Debtor("D1", "Jansen")], [invoice], {})
    assert stored_ibans(ledger, "D1") == ()
