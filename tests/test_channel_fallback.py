"""Steps that name several channels, and the 14-day letter on paper for consumers without email.

Plans are made with ``dunning run --dry-run`` (nothing is sent), through the real CLI.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from dunning.core.ledger import Ledger
from tests.smtp_server import SMTPTestServer
from tests.test_pauses_cli import Inbox, Portfolio, inbox

__all__ = ["inbox"]

HEADER = (
    "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;telefoon;adres;postcode;plaats;"
    "soort;taal;factuurdatum;vervaldatum;bedrag"
)
DATES = "01-02-2026;01-03-2026"
WHATSAPP = """\
      whatsapp:
        type: whatsapp
        phone_number_id: "106540352242922"
        token: not-used-by-a-dry-run
        base_url: http://127.0.0.1:9
        templates:
          friendly-reminder: {name: payment_reminder_1, parameters: [first_name, amount]}
"""
POST = """\
      post:
        type: letter
        folder: letters
        sender_address: [Industrieweg 5, 3542 AD Utrecht]
"""


def project(tmp_path: Path, port: int, rows: list[str], ladder: str, extra: str) -> Portfolio:
    settings = "calendar: {business_days_only: false, quiet_channels: []}"
    book = Portfolio(tmp_path, port, rows, header=HEADER, ladder=ladder, settings=settings)
    text = book.config.read_text(encoding="utf-8")
    book.config.write_text(text.replace("    steps:\n", f"{extra}    steps:\n"), encoding="utf-8")
    return book


def planned(book: Portfolio, day: str) -> dict[str, dict[str, Any]]:
    return {row["debtor_id"]: row for row in book.json("run", "--dry-run", "--date", day)}


def test_the_first_channel_that_reaches_the_debtor_is_used_and_the_plan_says_why(
    tmp_path: Path, smtp_server: SMTPTestServer
) -> None:
    rows = [
        f"F-1;D1;Mobiel B.V.;Mia;mia@mobiel.nl;06 12345678;;;;zakelijk;nl;{DATES};100,00",
        f"F-2;D2;Vast B.V.;Vera;vera@vast.nl;020 123 4567;;;;zakelijk;nl;{DATES};200,00",
        f"F-3;D3;Stop B.V.;Stan;stan@stop.nl;06 87654321;;;;zakelijk;nl;{DATES};300,00",
    ]
    ladder = ("      - {name: friendly-reminder, after_due: 3, channel: [whatsapp, email], "
              "template: friendly-reminder}\n")  # fmt: skip
    book = project(tmp_path, smtp_server.port, rows, ladder, WHATSAPP)
    planned(book, "2026-03-04")  # syncs the debtors into the ledger
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'dunning.db'}")
    try:
        ledger.opt_outs.add("main", "D3", "whatsapp", "31687654321", "STOP sent by the debtor")
    finally:
        ledger.close()
    plan = planned(book, "2026-03-04")
    assert {d: row["channel"] for d, row in plan.items()} == {
        "D1": "whatsapp", "D2": "email", "D3": "email",
    }  # fmt: skip
    assert plan["D1"]["recipient"] == "31612345678"  # as WhatsApp's `to`
    assert plan["D2"]["recipient"] == "vera@vast.nl"
    why = {d: row["invoices"][0]["reason"] for d, row in plan.items()}
    assert "by email, as whatsapp:" in why["D2"] and "mobile" in why["D2"]
    assert "by email, as whatsapp: opted out (STOP sent by the debtor)" in why["D3"]
    assert "by " not in why["D1"]


def test_a_14_day_letter_goes_by_post_to_a_consumer_without_email(
    tmp_path: Path, smtp_server: SMTPTestServer, inbox: Inbox
) -> None:
    rows = [
        f"F-1;C1;Zoë Çelik;Zoë Çelik;zoe@celik.nl;;Kerkstraat 1;1234 AB;Utrecht;particulier;nl;"
        f"{DATES};1234,56",
        f"F-2;C2;Piet Post;Piet Post;;;Dorpsweg 2;4321 BA;Ede;particulier;nl;{DATES};250,00",
    ]
    ladder = ("      - {name: fourteen-day-letter, after_due: 3, channel: email, "
              "template: nl-14-day-letter, legal: nl_14_day_letter}\n")  # fmt: skip
    book = project(tmp_path, smtp_server.port, rows, ladder, POST)
    plan = planned(book, "2026-03-04")
    assert plan["C1"]["channel"] == "email" and plan["C2"]["channel"] == "post"
    assert "by post, as email: " in plan["C2"]["invoices"][0]["reason"]
    book.run("2026-03-04")
    [mail] = inbox.new()
    assert mail.to == "zoe@celik.nl"
    [letter] = list((tmp_path / "letters").rglob("*.pdf"))
    assert ":C2:post:" in letter.name or "C2" in letter.name
    with sqlite3.connect(tmp_path / "dunning.db") as ledger:
        proofs = ledger.execute(
            "select debtor_id, channel, sent_on, received_on from legal_letters order by debtor_id"
        ).fetchall()
    # By post the letter counts as received two business days later (law.receipt_days).
    assert proofs == [("C1", "email", "2026-03-04", "2026-03-04"),
                      ("C2", "post", "2026-03-04", "2026-03-06")]  # fmt: skip
