"""The 14-day letter and the claim in final demands, through real runs (CSV, SQLite, .eml)."""

from __future__ import annotations

import email
import re
from email.message import Message
from pathlib import Path

from dunning.core.ledger import Ledger
from tests.test_policy_pipeline import dunning

HEADER = (
    "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;taal;soort;factuurdatum;"
    "vervaldatum;bedrag"
)
ROWS = [
    "C-1;CONS;Jan Jansen;Jan Jansen;jan@example.nl;en;particulier;01-02-2026;01-03-2026;1000,00",
    "B-1;BIZ;Bedrijf B.V.;Piet Bedrijf;piet@example.nl;en;zakelijk;01-02-2026;01-03-2026;1000,00",
]
CONFIG = """\
version: 1
pipelines:
  main:
    creditor: {name: Test B.V., iban: NL91ABNA0417164300}
    source: {type: csv, path: invoices.csv}
    calendar: {business_days_only: false, quiet_channels: []}
    channels:
      email: {type: email, delivery: file, folder: out, from_address: debiteuren@example.nl}
    steps:
      - {name: letter, after_due: 3, channel: email, template: nl-14-day-letter,
         legal: nl_14_day_letter}
      - {name: demand, after_previous: 16, channel: email, template: final-demand,
         legal: final_demand}
"""


def project(tmp_path: Path) -> Path:
    (tmp_path / "invoices.csv").write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    (tmp_path / "pipelines.yaml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def mails_to(folder: Path, address: str) -> list[str]:
    texts = []
    for path in sorted((folder / "out").glob("*.eml")):
        message: Message = email.message_from_bytes(path.read_bytes())
        if message["To"] != address:
            continue
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                texts.append(payload.decode(part.get_content_charset() or "utf-8"))
    return texts


def test_consumer_gets_a_valid_14_day_letter_kept_as_proof(tmp_path: Path) -> None:
    folder = project(tmp_path)
    result = dunning(folder, "run", "--date", "2026-03-04", "--quiet")
    assert result.returncode == 0, result.stderr
    (letter,) = mails_to(folder, "jan@example.nl")
    assert "within 14 days after the day on which you received this letter" in letter
    assert "of the date of this letter" not in letter
    assert "collection costs of €150.00" in letter  # 15% of 1000.00 (Besluit BIK)
    assert mails_to(folder, "piet@example.nl") == []  # the 14-day letter is for consumers only
    ledger = Ledger.open(f"sqlite:///{folder / 'dunning.db'}")
    try:
        (proof,) = ledger.letters.of_debtor("main", "CONS")
    finally:
        ledger.close()
    assert (str(proof.sent_on), str(proof.received_on), str(proof.last_day)) == (
        "2026-03-04",
        "2026-03-04",  # email: received the day it is sent
        "2026-03-18",
    )
    assert proof.costs == 150 and proof.invoice_numbers == ("C-1",)


def test_final_demand_charges_costs_only_after_the_term_and_on_what_is_left(
    tmp_path: Path,
) -> None:
    folder = project(tmp_path)
    assert dunning(folder, "run", "--date", "2026-03-04", "--quiet").returncode == 0
    paid = dunning(folder, "mark-paid", "C-1", "--amount", "400", "--date", "2026-03-10")
    assert paid.returncode == 0, paid.stderr
    assert dunning(folder, "run", "--date", "2026-03-20", "--quiet").returncode == 0
    demand = mails_to(folder, "jan@example.nl")[-1]
    assert "Principal: €600.00" in demand
    assert "Collection costs (buitengerechtelijke incassokosten (Besluit BIK)): €90.00" in demand
    assert "Interest (wettelijke rente (art. 6:119 BW))" in demand
    assert re.search(r"from 2 March 2026 through 20 March 2026 at 4%\r?\n", demand)
    claim_total = demand.split("Total: ")[1].split()[0]
    assert f"Please pay the claim of {claim_total} within 14 days" in demand
    assert f"Please transfer {claim_total} to Test B.V." in demand


def test_business_final_demand_shows_commercial_interest_and_at_least_the_eu_fee(
    tmp_path: Path,
) -> None:
    folder = project(tmp_path)
    for day in ("2026-03-04", "2026-03-20"):
        assert dunning(folder, "run", "--date", day, "--quiet").returncode == 0
    (demand,) = mails_to(folder, "piet@example.nl")
    assert "handelsrente (art. 6:119a BW)" in demand
    assert "€150.00" in demand  # the BIK staffel, above the EU minimum of 40.00
