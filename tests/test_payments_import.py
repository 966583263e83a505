"""Bank statements matched to invoices, end to end: the real CLI, a real ledger, a CSV source.

The portfolio (``tests/data/bank/portfolio.csv``) and the statements beside it are hand-made;
each entry in them says which rule it exercises. The statements are imported in date order:
CAMT.053 .001.02 (3 Nov), CAMT.053 .001.08 (4 Nov), MT940 (5 Nov).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from dunning.core.config import load_config
from dunning.core.ledger import Ledger
from dunning.core.ledger.schema import bank_lines, payments
from tests.conftest import dunning_command

DATA = Path(__file__).resolve().parent / "data" / "bank"
CAMT02 = DATA / "camt053-001.02.xml"
CAMT08 = DATA / "camt053-001.08.xml"
MT940 = DATA / "mt940-20261105.sta"
OWN_IBAN = "NL91ABNA0417164300"

Cli = Callable[..., subprocess.CompletedProcess[str]]


def write_config(folder: Path, state: str = "dunning.db", after_due: int = 200) -> None:
    (folder / "pipelines.yaml").write_text(
        f"""
state: {state}
pipelines:
  shop:
    creditor: {{name: Test B.V., iban: NL91 ABNA 0417 1643 00}}
    source: {{type: csv, path: invoices.csv}}
    channels:
      email:
        type: email
        delivery: smtp
        from_address: debiteuren@example.nl
        smtp: {{host: 127.0.0.1, port: 2, security: none, timeout: 5}}
    steps:
      - {{name: friendly-reminder, after_due: {after_due}, channel: email,
          template: friendly-reminder}}
""",
        encoding="utf-8",
    )


def make_cli(folder: Path) -> Cli:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            dunning_command(*args), cwd=folder, capture_output=True, text=True, timeout=120
        )

    return run


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """The hand-made portfolio, synced into the ledger as of 2 November 2026."""
    shutil.copy(DATA / "portfolio.csv", tmp_path / "invoices.csv")
    write_config(tmp_path)
    synced = make_cli(tmp_path)("run", "--date", "2026-11-02", "--quiet")
    assert synced.returncode == 0, synced.stderr
    return tmp_path


@pytest.fixture
def cli(shop: Path) -> Cli:
    return make_cli(shop)


def imported(cli: Cli, path: Path, *extra: str) -> dict[str, Any]:
    result = cli("payments", "import", str(path), "--json", *extra)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def has(outcome: dict[str, Any], **expected: Any) -> bool:
    return all(outcome.get(key) == value for key, value in expected.items())


def by_place(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["place"].split(": ", 1)[-1]: o for o in report["outcomes"]}


def open_amounts(folder: Path) -> dict[str, Decimal]:
    ledger = Ledger.open(load_config(folder / "pipelines.yaml").state_url)
    try:
        found = ledger.invoices.get("shop", [f"F-{n}" for n in range(101, 114)])
        return {number: rows[0].amount_open for number, rows in found.items()}
    finally:
        ledger.close()


def counts(folder: Path) -> tuple[int, int]:
    """(bank lines, payments) in the ledger."""
    ledger = Ledger.open(load_config(folder / "pipelines.yaml").state_url)
    try:
        with ledger.engine.connect() as connection:
            lines = connection.execute(select(func.count()).select_from(bank_lines)).scalar_one()
            paid = connection.execute(select(func.count()).select_from(payments)).scalar_one()
        return int(lines), int(paid)
    finally:
        ledger.close()


def csv_row(folder: Path, number: str) -> list[str]:
    text = (folder / "invoices.csv").read_text(encoding="utf-8-sig")
    return next(line for line in text.splitlines() if line.startswith(number + ";")).split(";")


def planned_numbers(cli: Cli) -> set[str]:
    result = cli("plan", "--date", "2027-05-03", "--json")
    assert result.returncode == 0, result.stderr
    return {i["number"] for m in json.loads(result.stdout) for i in m["invoices"]}


def test_camt_001_02_every_rule_partial_surplus_and_money_out(shop: Path, cli: Cli) -> None:
    before = planned_numbers(cli)
    assert {"F-101", "F-102", "F-103", "F-104", "F-105", "F-106", "F-111"} <= before
    report = imported(cli, CAMT02)
    lines = by_place(report)
    assert (report["lines"], report["already_imported"]) == (9, 0)  # the pending one left out
    assert "F-109" not in {n for o in report["outcomes"] for n in o["invoices"]}
    assert (report["matched"], report["unmatched"], report["ignored"]) == (5, 3, 1)
    # rule 1: the RF reference (spaces in the source's copy do not matter)
    assert has(lines["Stmt 1, Ntry 1"], status="matched", rule="reference")
    assert lines["Stmt 1, Ntry 1"]["invoices"] == ["F-101"]
    # rule 1 with the Dutch 16-digit reference: a partial payment, 150.00 stays open
    partial = lines["Stmt 1, Ntry 2"]
    assert (partial["invoices"], partial["still_open"]) == (["F-102"], ["150.00"])
    # rule 2 inside a batch entry (amount from AmtDtls/TxAmt), and "F 106" written with a space
    assert lines["Stmt 1, Ntry 3, TxDtls 1"]["invoices"] == ["F-103"]
    assert lines["Stmt 1, Ntry 3, TxDtls 1"]["rule"] == "invoice-number"
    assert lines["Stmt 1, Ntry 3, TxDtls 3"]["invoices"] == ["F-106"]
    # one payment for two invoices named in two Ustrd lines
    several = lines["Stmt 1, Ntry 3, TxDtls 2"]
    assert (several["rule"], several["invoices"]) == ("several-invoices", ["F-104", "F-105"])
    # nothing to go on; a number with another amount is only a suggestion
    assert has(lines["Stmt 1, Ntry 4"], status="unmatched", invoices=[], left="33.33")
    assert lines["Stmt 1, Ntry 5"]["status"] == "unmatched"
    assert lines["Stmt 1, Ntry 5"]["invoices"] == []
    # more than the invoice had open: it is paid, the surplus waits
    surplus = lines["Stmt 1, Ntry 6"]
    assert (surplus["invoices"], surplus["left"]) == (["F-111"], "10.00")
    assert lines["Stmt 1, Ntry 7"]["status"] == "ignored"  # money out

    amounts = open_amounts(shop)
    assert amounts["F-101"] == amounts["F-103"] == amounts["F-111"] == Decimal("0.00")
    assert amounts["F-102"] == Decimal("150.00")
    assert amounts["F-110"] == Decimal("20.00")  # the suggestion recorded nothing
    assert report["written_back"] == 7
    assert csv_row(shop, "F-101")[9:12] == ["ja", "03-11-2026", "100,00"]
    assert csv_row(shop, "F-102")[9:12] == ["", "03-11-2026", "100,00"]  # partly paid
    # the ladder stopped at once for what is paid; the partly paid invoice goes on
    after = planned_numbers(cli)
    assert not {"F-101", "F-103", "F-104", "F-105", "F-106", "F-111"} & after
    assert "F-102" in after


def test_importing_the_same_statement_again_records_nothing(shop: Path, cli: Cli) -> None:
    imported(cli, CAMT02)
    first = counts(shop)
    csv_before = (shop / "invoices.csv").read_bytes()
    again = imported(cli, CAMT02)
    assert (again["lines"], again["already_imported"], again["outcomes"]) == (9, 9, [])
    # a re-export of the same day by the bank (another statement and message id) too
    renamed = shop / "reexport.xml"
    text = CAMT02.read_text(encoding="utf-8").replace("ST-20261103", "ST-REEXPORT-7")
    renamed.write_text(text.replace("MSG-20261103", "MSG-99"), encoding="utf-8")
    assert imported(cli, renamed)["already_imported"] == 9
    assert counts(shop) == first == (9, 7)
    assert (shop / "invoices.csv").read_bytes() == csv_before


def test_camt_001_08_learned_account_several_invoices_return_and_name(shop: Path, cli: Cli) -> None:
    imported(cli, CAMT02)
    report = imported(cli, CAMT08)
    lines = by_place(report)
    # the return of the 3 November payment of F-101 (Dbtr/Pty/Nm, RvslInd, RtrInf): the CSV
    # source undoes it, so nothing waits for a person
    returned = lines["Stmt 1, Ntry 1"]
    assert returned["status"] == "reversal" and returned["amount"] == "-100.00"
    assert returned["note"] is None
    # rule 3: the account Visser paid from on 3 November, and exactly F-107's amount
    assert has(lines["Stmt 1, Ntry 2"], rule="account", invoices=["F-107"])
    # rule 4: Jansen pays all that is open, F-101 included now that it is open again
    jansen = lines["Stmt 1, Ntry 3"]
    assert (jansen["rule"], jansen["invoices"]) == ("several-invoices", ["F-101", "F-108", "F-109"])
    # the name alone is never enough
    assert lines["Stmt 1, Ntry 4"]["status"] == "unmatched"
    amounts = open_amounts(shop)
    assert amounts["F-101"] == amounts["F-107"] == amounts["F-109"] == Decimal("0.00")
    # in the file: paid, undone, paid again by the 210.00 (its key replaces the first)
    assert csv_row(shop, "F-101")[9:] == ["ja", "04-11-2026", "100,00", "dunning-shop-payment-10"]

    waiting = json.loads(cli("payments", "unmatched", "--json").stdout)
    by_text = {w["payer"]: w for w in waiting}
    assert by_text["MULDER BOUW B.V."]["suggestion"] == "F-110 (20.00) by name, 50%"
    assert by_text["M. Mulder"]["suggestion"] == "F-110 (10.00) by invoice-number, 70%"
    assert by_text["Peters Design"]["left"] == "10.00"
    assert "Jansen BV" not in by_text


def test_return_in_the_same_statement_undoes_the_payment_before_the_source_hears(
    shop: Path, cli: Cli
) -> None:
    both = shop / "both.xml"
    text = CAMT02.read_text(encoding="utf-8")
    returned = CAMT08.read_text(encoding="utf-8")
    entry = returned[returned.index("<Ntry>") : returned.index("</Ntry>") + len("</Ntry>")]
    text = text.replace("1540.83", "1440.83")  # the closing balance after the return too
    both.write_text(text.replace("</Stmt>", entry.replace("2026-11-04", "2026-11-03") + "</Stmt>"))
    report = imported(cli, both)
    assert report["returned"] == 1
    assert by_place(report)["Stmt 1, Ntry 9"]["note"] is None  # nothing left for a person
    assert open_amounts(shop)["F-101"] == Decimal("100.00")
    assert csv_row(shop, "F-101")[9:] in ([], ["", "", "", ""])  # never written back
    assert "F-101" in planned_numbers(cli)


def test_mt940_text_across_lines_structured_reference_and_return(shop: Path, cli: Cli) -> None:
    imported(cli, CAMT02)
    report = imported(cli, MT940)
    lines = {o["place"]: o for o in report["outcomes"]}
    assert has(lines["mt940-20261105.sta:5"], rule="invoice-number", invoices=["F-112"])
    assert has(lines["mt940-20261105.sta:8"], rule="reference", invoices=["F-113"])
    assert lines["mt940-20261105.sta:10"]["status"] == "reversal"  # /RTRN/ of F-103's payment
    amounts = open_amounts(shop)
    assert amounts["F-112"] == amounts["F-113"] == Decimal("0.00")
    assert amounts["F-103"] == Decimal("80.00")
    assert csv_row(shop, "F-103")[9:] == ["", "03-11-2026", "0,00", ""]  # undone in the file
    # the next run syncs the file: F-103 stays open, and the ladder goes on for it
    assert cli("run", "--date", "2026-11-05", "--quiet").returncode == 0
    assert open_amounts(shop)["F-103"] == Decimal("80.00")
    assert "F-103" in planned_numbers(cli)


def test_assign_dismiss_and_the_account_learned(shop: Path, cli: Cli) -> None:
    imported(cli, CAMT02)
    waiting = json.loads(cli("payments", "unmatched", "--json").stdout)
    donation = next(w for w in waiting if w["payer"] == "Stichting Onbekend")
    assigned = cli("payments", "assign", str(donation["id"]), "F-110", "--by", "sam")
    assert assigned.returncode == 0, assigned.stderr
    assert "invoice F-110: recorded 20.00" in assigned.stdout
    assert "13.33 of bank line" in assigned.stdout
    assert open_amounts(shop)["F-110"] == Decimal("0.00")
    assert csv_row(shop, "F-110")[9] == "ja"

    dismissed = cli("payments", "dismiss", str(donation["id"]), "--reason", "a gift")
    assert dismissed.returncode == 0, dismissed.stderr
    left = json.loads(cli("payments", "unmatched", "--json").stdout)
    assert donation["id"] not in {w["id"] for w in left}

    # the account is now Mulder's: a later payment from it matches by account
    later = shop / "later.xml"
    text = CAMT08.read_text(encoding="utf-8").replace("NL86INGB0002445588", "NL13TEST0123456789")
    later.write_text(text.replace('<Amt Ccy="EUR">30.00</Amt>', '<Amt Ccy="EUR">120.00</Amt>'))
    lines = by_place(imported(cli, later))
    assert has(lines["Stmt 1, Ntry 2"], rule="account", invoices=["F-112"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("999", "F-110"), "bank line 999 does not exist"),
        (("{line}", "F-101"), "invoice F-101 has nothing open"),
        (("{line}", "F-999"), "invoice F-999 is not in pipeline 'shop'"),
        (("{line}", "F-110", "--amount", "50"), "--amount 50.00 is more than the 33.33 left"),
    ],
)
def test_assign_mistakes_are_one_line_errors(
    shop: Path, cli: Cli, args: tuple[str, ...], expected: str
) -> None:
    imported(cli, CAMT02)
    waiting = json.loads(cli("payments", "unmatched", "--json").stdout)
    line = next(w["id"] for w in waiting if w["payer"] == "Stichting Onbekend")
    before = counts(shop)
    result = cli("payments", "assign", *(a.format(line=line) for a in args))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {expected}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert counts(shop) == before


def _truncated(text: str) -> str:
    return text[: len(text) // 2]


def _unknown_currency(text: str) -> str:
    return text.replace('<Amt Ccy="EUR">60.00</Amt>', '<Amt Ccy="EUX">60.00</Amt>')


def _entry_missing(text: str) -> str:
    start = text.index("<!-- 4.")
    return text[:start] + text[text.index("<!-- 5.") :]


def _other_account(text: str) -> str:
    return text.replace(OWN_IBAN, "NL02RABO0123456789")


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        ("cut.xml", _truncated, "cut.xml: not a complete XML document (line"),
        ("ccy.xml", _unknown_currency, "unknown currency 'EUX'"),
        ("short.xml", _entry_missing, "the balances do not add up: opening 1000.00 + booked"),
        ("other.xml", _other_account, "is a statement of account NL02RABO0123456789, which is"),
        ("statement.pdf", None, "statement.pdf is a PDF, not a bank statement file"),
        ("invoices.csv", None, "invoices.csv is not a bank statement file"),
    ],
)
def test_bad_files_record_nothing(
    shop: Path, cli: Cli, name: str, change: Callable[[str], str] | None, expected: str
) -> None:
    path = shop / name
    if name.endswith(".xml"):
        assert change is not None
        path.write_text(change(CAMT02.read_text(encoding="utf-8")), encoding="utf-8")
    elif name.endswith(".pdf"):
        path.write_bytes(b"%PDF-1.7\n1 0 obj\n")
    csv_before = (shop / "invoices.csv").read_bytes()
    result = cli("payments", "import", str(path))
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith("error: ") and expected in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert counts(shop) == (0, 0)
    assert (shop / "invoices.csv").read_bytes() == csv_before


def test_statement_for_another_pipeline_account_is_refused_with_pipeline(
    shop: Path, cli: Cli
) -> None:
    path = shop / "other.xml"
    path.write_text(_other_account(CAMT02.read_text(encoding="utf-8")), encoding="utf-8")
    result = cli("payments", "import", str(path), "--pipeline", "shop")
    assert result.returncode == 2
    assert "not of pipeline 'shop' (NL91ABNA0417164300); nothing was imported" in result.stderr


def test_import_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    shutil.copy(DATA / "portfolio.csv", tmp_path / "invoices.csv")
    write_config(tmp_path, state=postgres_url)
    cli = make_cli(tmp_path)
    assert cli("run", "--date", "2026-11-02", "--quiet").returncode == 0
    first = imported(cli, CAMT02)
    assert (first["matched"], first["unmatched"]) == (5, 3)
    second = imported(cli, CAMT08)
    assert second["returned"] == 1 and second["matched"] == 2
    assert imported(cli, CAMT02)["already_imported"] == 9
    assert counts(tmp_path) == (13, 12)  # 9 + 4 lines; 7 + 4 payments and one return
    assert open_amounts(tmp_path)["F-101"] == Decimal("0.00")


def test_report_counts_the_bank_lines(shop: Path, cli: Cli) -> None:
    imported(cli, CAMT02)
    result = cli("report", "--json", "--date", "2026-11-03")
    assert result.returncode == 0, result.stderr
    [figures] = json.loads(result.stdout)
    # matched: 100.00 + 100.00 + 80.00 + 100.00 + 70.00; waiting: 33.33, 10.00 and the
    # 10.00 surplus of F-111; the 12.50 going out is not a payment
    assert figures["bank"] == {
        "matched": {"count": 5, "amount": "450.00"},
        "assigned": {"count": 0, "amount": "0.00"},
        "waiting": {"count": 3, "amount": "53.33"},
        "set-aside": {"count": 0, "amount": "0.00"},
        "returned": {"count": 0, "amount": "0.00"},
    }


def test_an_account_the_source_gives_matches_from_the_first_statement(tmp_path: Path) -> None:
    rows = (DATA / "portfolio.csv").read_text(encoding="utf-8").splitlines()
    with_iban = [rows[0] + ";iban"] + [
        row + (";NL39 RABO 0300 0652 64" if row.startswith("F-103;") else ";") for row in rows[1:]
    ]
    (tmp_path / "invoices.csv").write_text("\n".join(with_iban) + "\n", encoding="utf-8")
    write_config(tmp_path)
    cli = make_cli(tmp_path)
    assert cli("run", "--date", "2026-11-02", "--quiet").returncode == 0
    statement = tmp_path / "no-text.xml"
    text = CAMT02.read_text(encoding="utf-8").replace("Factuur F-103", "betaling")
    statement.write_text(text, encoding="utf-8")
    lines = by_place(imported(cli, statement))
    assert has(lines["Stmt 1, Ntry 3, TxDtls 1"], rule="account", invoices=["F-103"])


def test_a_return_the_source_cannot_take_is_retried_and_shown(shop: Path, cli: Cli) -> None:
    imported(cli, CAMT02)
    # someone removed F-101's line from the file: its returned payment cannot be written
    path = shop / "invoices.csv"
    kept = [row for row in path.read_text(encoding="utf-8-sig").splitlines() if "F-101;" not in row]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    result = cli("payments", "import", str(CAMT08), "--json")
    assert result.returncode == 1, result.stderr  # a write-back failed; the next run retries
    report = json.loads(result.stdout)
    assert any("F-101" in error for error in report["writeback_errors"])
    status = json.loads(cli("status", "--json").stdout)
    failed = status["pipelines"]["shop"]["failed_writebacks"]
    assert {"F-101"} == {f["invoice"] for f in failed}
    assert cli("status", "--check").returncode == 1
