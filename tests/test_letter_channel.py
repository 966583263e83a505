"""The letter channel: PDFs read back with pypdf, a real folder, a real SMTP server for the print
service, and a real CLI run that keeps the 14-day letter as proof in the ledger."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from pypdf import PdfReader

from dunning.channels.letter import LetterChannel, LetterConfig
from dunning.channels.letter.delivery import safe_name
from dunning.core.channel import ChannelContext, OutgoingMessage
from dunning.core.cli import main
from dunning.core.config.schema import LawConfig
from dunning.core.errors import BadRecipient, ConfigError, SendError
from dunning.core.law.claim import build_claim
from dunning.core.ledger import Ledger
from dunning.core.models import (
    Creditor,
    Debtor,
    DebtorKind,
    EarlyDiscount,
    Invoice,
    PaymentDetails,
    Receipt,
)
from dunning.core.pdf import format_money
from dunning.core.plugins import load_registry
from tests.smtp_server import SMTPTestServer

TODAY = date(2026, 3, 4)  # a Wednesday
IBAN = "NL91ABNA0417164300"
PRINTED_IBAN = "NL91 ABNA 0417 1643 00"
PAY_URL = "https://pay.example.com/p/F-2026-001"
CREDITOR = Creditor(
    "Acme Zuivel B.V.",
    email="debiteuren@acme.example.nl",
    phone="030 123 45 67",
    iban=IBAN,
    signature="Petra de Groot",
)
ZOE = Debtor(
    "D1",
    "Zoë Çelik",
    first_name="Zoë",
    kind=DebtorKind.CONSUMER,
    address=("Kerkstraat 1", "1234 AB Utrecht"),
)
BIG = Invoice(
    "F-2026-001", "D1", date(2026, 1, 5), date(2026, 2, 4), Decimal("1234.56"), Decimal("1234.56")
)
SMALL = Invoice(
    "F-2026-007", "D1", date(2026, 1, 20), date(2026, 2, 19), Decimal("300"), Decimal("150")
)
PRINT_SERVICE = "print@post.example.nl"


def channel(folder: Path, **settings: Any) -> LetterChannel:
    config = LetterConfig.model_validate(
        {"folder": "letters", "sender_address": ["Industrieweg 5", "3542 AD Utrecht"], **settings}
    )
    return LetterChannel(config, ChannelContext("main", "letter", folder, CREDITOR))


def message(
    template: str = "friendly-reminder",
    *,
    debtor: Debtor = ZOE,
    invoices: tuple[Invoice, ...] = (BIG,),
    key: str = "main:D1:friendly-reminder:F-2026-001",
    today: date = TODAY,
    **extra: Any,
) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=key,
        pipeline="main",
        debtor=debtor,
        recipient=", ".join(debtor.address),
        step=template,
        template=template,
        invoices=invoices,
        today=today,
        creditor=CREDITOR,
        **extra,
    )


def pdf_text(data: bytes) -> str:
    """The letter's text as a reader sees it (no-break spaces as spaces)."""
    pages = PdfReader(io.BytesIO(data)).pages
    return "\n".join(page.extract_text() for page in pages).replace("\xa0", " ")


def euro(amount: Decimal) -> str:
    """``€ 1.234,56``, as the letter prints it in Dutch (read back)."""
    return format_money(amount).replace("\xa0", " ")


def flat(text: str) -> str:
    """``text`` with line wraps undone, to find sentences that wrap."""
    return " ".join(text.split())


def send(letters: LetterChannel, outgoing: OutgoingMessage) -> Receipt:
    with letters.connect() as connection:
        return connection.send(outgoing)


def payment(url: str | None) -> PaymentDetails:
    return PaymentDetails(Decimal("1234.56"), "EUR", "1234 5678 9012 3456", IBAN, url)


def test_the_letter_prints_accents_euro_amounts_invoices_and_the_payment_link(
    tmp_path: Path,
) -> None:
    text = pdf_text(channel(tmp_path).pdf(message(payment=payment(PAY_URL))))
    for expected in ("Zoë Çelik", "Kerkstraat 1", "1234 AB Utrecht", "Beste Zoë,"):
        assert expected in text
    assert "Utrecht, 4 maart 2026" in text
    assert "Betalingsherinnering factuur F-2026-001" in text
    assert "€ 1.234,56" in text and "F-2026-001" in text
    assert PAY_URL in text
    assert "Betalingskenmerk 1234 5678 9012 3456" in text  # the transfer stays possible
    assert "Petra de Groot" in text


def test_without_a_payment_link_the_letter_gives_the_iban_and_reference(tmp_path: Path) -> None:
    text = pdf_text(channel(tmp_path).pdf(message(payment=payment(None))))
    assert "Betaal online" not in text
    assert f"Rekeningnummer (IBAN) {PRINTED_IBAN}" in text
    assert "Ten name van Acme Zuivel B.V." in text
    assert "Betalingskenmerk 1234 5678 9012 3456" in text


def test_without_payment_details_the_creditor_iban_and_invoice_numbers_are_used(
    tmp_path: Path,
) -> None:
    text = pdf_text(channel(tmp_path).pdf(message(invoices=(BIG, SMALL))))
    assert PRINTED_IBAN in text
    assert "Betalingskenmerk F-2026-001, F-2026-007" in text
    assert "Bedrag € 1.384,56" in text
    assert "F-2026-007" in text and "€ 150,00" in text
    assert "Factuurbedrag" in text  # a partly paid invoice shows what it was


def test_a_14_day_letter_itemises_the_claim_and_names_the_last_day(tmp_path: Path) -> None:
    law = LawConfig(third_party_collects=True, vat_deductible=False)
    claim = build_claim((BIG,), DebtorKind.CONSUMER, TODAY, law, term_passed=False)
    letter = message(
        "nl-14-day-letter", claim=claim, legal="nl_14_day_letter", payment=payment(None)
    )
    text = pdf_text(channel(tmp_path).pdf(letter))
    joined = flat(text)
    assert "Veertiendagenbrief" in text
    assert "Hoofdsom € 1.234,56" in text
    assert f"Rente (wettelijke rente (art. 6:119 BW)) {euro(claim.interest)}" in text
    assert "05-02-2026 t/m 04-03-2026, 4%" in text  # interest period and rate per invoice
    assert "Incassokosten (buitengerechtelijke incassokosten (Besluit BIK)) € 185,18" in text
    assert "Btw over de incassokosten € 38,89" in text  # 21% of the BIK amount
    total = euro(claim.total)
    assert f"Totaal te betalen {total}" in text
    assert f"Betaal {total} binnen 14 dagen na de dag waarop u deze brief heeft ontvangen" in joined
    # Posted Wednesday 4 March: received Friday 6 March (2 business days), last day 20 March.
    assert "ontvangt u hem op 6 maart 2026" in joined
    assert "Dan is 20 maart 2026 de laatste dag om te betalen" in joined
    assert "€ 224,07 (daarin zit € 38,89 btw)" in joined


def test_the_last_day_moves_past_a_public_holiday(tmp_path: Path) -> None:
    # Posted Monday 2 March: received Wednesday 4 March; day 14 is Wednesday 18 March.
    claim = build_claim((BIG,), DebtorKind.CONSUMER, date(2026, 3, 2), LawConfig(), False)
    letter = message(
        "nl-14-day-letter", claim=claim, legal="nl_14_day_letter", today=date(2026, 3, 2)
    )
    joined = flat(pdf_text(channel(tmp_path).pdf(letter)))
    assert "Dan is 18 maart 2026 de laatste dag om te betalen." in joined
    # Posted Thursday 9 April: received Monday 13 April; day 14 is King's Day, Monday 27 April.
    kings_day = flat(pdf_text(channel(tmp_path).pdf(replace(letter, today=date(2026, 4, 9)))))
    assert "ontvangt u hem op 13 april 2026" in kings_day
    assert "Dan is 28 april 2026 de laatste dag om te betalen. Dat is later dan 14 dagen" in (
        kings_day
    )


def test_a_final_demand_shows_costs_that_are_due_now_in_the_total(tmp_path: Path) -> None:
    claim = build_claim((BIG,), DebtorKind.BUSINESS, TODAY, LawConfig(), term_passed=True)
    business = replace(ZOE, kind=DebtorKind.BUSINESS, name="Çelik Bouw B.V.", contact_name="Zoë")
    letter = message("final-demand", debtor=business, claim=claim, legal="final_demand")
    text = pdf_text(channel(tmp_path).pdf(letter))
    assert "t.a.v. Zoë" in text
    assert "handelsrente (art. 6:119a BW)" in text
    assert "Alleen als u niet op tijd betaalt" not in text
    assert "Aanmaning factuur F-2026-001" in text
    assert "de wettelijke handelsrente" in flat(text)


def test_an_english_speaking_debtor_gets_an_english_letter(tmp_path: Path) -> None:
    english = replace(ZOE, language="en")
    text = pdf_text(channel(tmp_path).pdf(message("second-reminder", debtor=english)))
    assert "Dear Zoë," in text and "Utrecht, 4 March 2026" in text
    assert "€1,234.56" in text and "Kind regards," in text


def test_a_language_without_templates_falls_back_to_the_configured_one(tmp_path: Path) -> None:
    german = replace(ZOE, language="de")
    assert "Beste Zoë," in pdf_text(channel(tmp_path).pdf(message(debtor=german)))
    english = pdf_text(channel(tmp_path, language="en").pdf(message(debtor=german)))
    assert "Dear Zoë," in english


def test_an_early_discount_is_offered_with_its_deadline(tmp_path: Path) -> None:
    discount = EarlyDiscount(Decimal(2), date(2026, 3, 10), Decimal("24.69"), Decimal("1209.87"))
    letter = message("courtesy-reminder", early_discount=discount, payment=payment(None))
    joined = flat(pdf_text(channel(tmp_path).pdf(letter)))
    assert "€ 1.209,87 als u uiterlijk 10 maart 2026 betaalt, daarna € 1.234,56" in joined
    assert "U bespaart dan 2% (€ 24,69)" in joined


def test_the_letter_is_written_once_per_key_even_when_sent_again_later(tmp_path: Path) -> None:
    letters = channel(tmp_path)
    first = send(letters, message())
    again = send(letters, message(today=date(2026, 3, 5), invoices=(BIG, SMALL)))
    assert again == first
    written = sorted((tmp_path / "letters").rglob("*.pdf"))
    assert [p.relative_to(tmp_path / "letters").as_posix() for p in written] == [
        first.provider_message_id
    ]
    assert first.provider_message_id == f"2026-03-04/{safe_name(message().idempotency_key)}.pdf"
    assert "F-2026-007" not in pdf_text(written[0].read_bytes())  # the first letter stands
    assert not [p for p in (tmp_path / "letters").rglob(".*") if p.is_file()]  # no leftovers


def test_the_same_message_gives_the_same_bytes(tmp_path: Path) -> None:
    letters = channel(tmp_path)
    assert letters.pdf(message()) == letters.pdf(message())


def test_the_recipient_is_the_postal_address_on_one_line(tmp_path: Path) -> None:
    assert channel(tmp_path).recipient(ZOE) == "Kerkstraat 1, 1234 AB Utrecht"


def test_a_debtor_without_a_postal_address_is_a_bad_recipient(tmp_path: Path) -> None:
    nowhere = replace(ZOE, address=())
    with pytest.raises(BadRecipient) as caught:
        channel(tmp_path).recipient(nowhere)
    assert str(caught.value) == (
        "debtor D1 (Zoë Çelik) has no postal address; add street, postcode and city in the "
        "source (CSV columns adres, postcode, plaats)"
    )
    with pytest.raises(BadRecipient, match="incomplete postal address"):
        channel(tmp_path).recipient(replace(ZOE, address=("Kerkstraat 1",)))
    with pytest.raises(BadRecipient, match="has no postal address"):
        send(channel(tmp_path), message(debtor=nowhere))
    assert not list((tmp_path / "letters").rglob("*.pdf"))


def test_the_print_service_gets_each_letter_once_with_the_pdf_attached(
    tmp_path: Path, smtp_server: SMTPTestServer
) -> None:
    letters = channel(tmp_path, print_service=print_service(smtp_server.port))
    first = send(letters, message())
    again = send(letters, message())
    [received] = smtp_server.wait_for(1)
    assert again == first and len(smtp_server.messages) == 1
    assert received.rcpt_tos == (PRINT_SERVICE,)
    assert received.key == message().idempotency_key
    relative, message_id = first.provider_message_id.split(" ")
    assert received.message_id == message_id
    email = received.parsed()
    assert isinstance(email, EmailMessage)
    [attachment] = list(email.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == (tmp_path / "letters" / relative).read_bytes()
    body = email.get_body(("plain",))
    assert body is not None and "Zoë Çelik" in body.get_content()


def test_a_print_service_refusing_the_address_fails_the_letter_for_good(
    tmp_path: Path, smtp_server: SMTPTestServer
) -> None:
    smtp_server.refuse(PRINT_SERVICE)
    letters = channel(tmp_path, print_service=print_service(smtp_server.port))
    with pytest.raises(SendError) as caught:
        send(letters, message())
    assert not caught.value.retryable
    assert "print_service.to" in str(caught.value) and "letter channel 'letter'" in str(
        caught.value
    )


def print_service(port: int) -> dict[str, Any]:
    return {
        "to": PRINT_SERVICE,
        "from_address": "debiteuren@acme.example.nl",
        "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5},
    }


def test_check_accepts_the_shipped_templates(tmp_path: Path) -> None:
    channel(tmp_path).check()
    channel(tmp_path).check(["friendly-reminder", "nl-14-day-letter"])
    assert (tmp_path / "letters").is_dir()


def test_check_names_a_missing_or_broken_template(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no letter template nl/thank-you\.txt"):
        channel(tmp_path).check(["thank-you"])
    override = tmp_path / "mine" / "nl"
    override.mkdir(parents=True)
    (override / "friendly-reminder.txt").write_text("Hallo {{ greeting_name }}\n", "utf-8")
    with pytest.raises(ConfigError, match="sets no subject"):
        channel(tmp_path, templates="mine").check(["friendly-reminder"])
    (override / "friendly-reminder.txt").write_text(
        '{% set subject = "Hallo" %}\nHallo {{ debtor.nickname }}\n', "utf-8"
    )
    with pytest.raises(ConfigError, match="nickname"):
        channel(tmp_path, templates="mine").check(["friendly-reminder"])
    with pytest.raises(ConfigError, match=r"templates folder .* does not exist"):
        channel(tmp_path, templates="nowhere").check()


def test_an_override_template_keeps_the_table_and_how_to_pay(tmp_path: Path) -> None:
    override = tmp_path / "mine" / "nl"
    override.mkdir(parents=True)
    (override / "friendly-reminder.txt").write_text(
        '{% set subject = "Even checken" %}\nWilt u {{ total_open|money }} betalen?\n', "utf-8"
    )
    text = pdf_text(channel(tmp_path, templates="mine").pdf(message(payment=payment(None))))
    assert "Even checken" in text and "Wilt u € 1.234,56 betalen?" in text
    assert "Openstaand" in text and PRINTED_IBAN in text


def test_config_mistakes_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="sender_adress"):
        LetterConfig.model_validate({"sender_address": ["x"], "sender_adress": ["y"]})
    with pytest.raises(ValidationError, match="sender_address"):
        LetterConfig.model_validate({"folder": "out"})
    with pytest.raises(ValidationError, match="host"):
        LetterConfig.model_validate(
            {
                "sender_address": ["x"],
                "print_service": {"to": PRINT_SERVICE, "from_address": "a@b.nl", "smtp": {}},
            }
        )
    assert LetterConfig(sender_address=["Industrieweg 5", "3542 AD Utrecht"]).place_name() == (
        "Utrecht"
    )


def test_the_letter_channel_comes_through_the_entry_point() -> None:
    registry = load_registry()
    assert registry.channels["letter"] is LetterChannel
    assert registry.provided_by[("channel", "letter")] == "letter"


# --- a real run through the CLI ----------------------------------------------------------------

HEADER = (
    "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;adres;postcode;plaats;soort;taal;"
    "factuurdatum;vervaldatum;bedrag"
)
ROWS = [
    "C-1;CONS;Zoë Çelik;Zoë Çelik;zoe@example.nl;Kerkstraat 1;1234 AB;Utrecht;particulier;nl;"
    "01-02-2026;01-03-2026;1234,56",
    "C-2;HOMELESS;Jan Zonderdak;Jan Zonderdak;jan@example.nl;;;;particulier;nl;"
    "01-02-2026;01-03-2026;100,00",
    "B-1;BIZ;Bedrijf B.V.;Piet;piet@example.nl;Dorpsstraat 2;4321 BA;Zeist;zakelijk;nl;"
    "01-02-2026;01-03-2026;500,00",
]
PIPELINES = """\
version: 1
pipelines:
  main:
    creditor: {name: Acme Zuivel B.V., iban: NL91ABNA0417164300}
    source: {type: csv, path: invoices.csv}
    calendar: {business_days_only: false, quiet_channels: []}
    channels:
      post:
        type: letter
        folder: out/letters
        sender_address: [Industrieweg 5, 3542 AD Utrecht]
    steps:
      - {name: letter, after_due: 3, channel: post, template: nl-14-day-letter,
         legal: nl_14_day_letter}
"""


def test_a_run_posts_the_14_day_letter_and_keeps_it_as_proof(tmp_path: Path) -> None:
    (tmp_path / "invoices.csv").write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    config = tmp_path / "pipelines.yaml"
    config.write_text(PIPELINES, encoding="utf-8")
    runner = CliRunner()
    checked = runner.invoke(main, ["check", "--config", str(config)])
    assert checked.exit_code == 0, checked.output
    result = runner.invoke(
        main, ["run", "--date", "2026-03-04", "--quiet", "--json", "--config", str(config)]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    [summary] = json.loads(result.stdout)
    assert summary["sent"] == 1 and summary["bad_recipients"] == 1, summary
    assert any("HOMELESS" in problem and "adres" in problem for problem in summary["problems"])

    [letter] = (tmp_path / "out" / "letters" / "2026-03-04").glob("*.pdf")
    text = pdf_text(letter.read_bytes())
    joined = flat(text)
    assert "Zoë Çelik" in text and "1234 AB Utrecht" in text and "C-1" in text
    assert "Incassokosten (buitengerechtelijke incassokosten (Besluit BIK)) € 185,18" in text
    assert "binnen 14 dagen na de dag waarop u deze brief heeft ontvangen" in joined
    assert "Dan is 20 maart 2026 de laatste dag om te betalen" in joined

    ledger = Ledger.open(f"sqlite:///{tmp_path / 'dunning.db'}")
    try:
        [proof] = ledger.letters.of_debtor("main", "CONS")
        assert ledger.letters.of_debtor("main", "BIZ") == []  # consumers only
    finally:
        ledger.close()
    assert (proof.sent_on, proof.received_on, proof.last_day) == (
        date(2026, 3, 4),
        date(2026, 3, 6),  # a letter arrives 2 business days later (law.receipt_days)
        date(2026, 3, 20),
    )
    assert proof.channel == "post" and proof.invoice_numbers == ("C-1",)
    assert proof.costs == Decimal("185.18")
