"""The email channel against a real SMTP server (aiosmtpd) and a real folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from dunning.channels.email import EmailChannel, EmailConfig
from dunning.channels.email.message import message_id_for
from dunning.channels.email.render import BUILTIN_TEMPLATES
from dunning.core.channel import ChannelContext, OutgoingMessage, PreviousContact
from dunning.core.errors import BadRecipient, ConfigError, SendError
from dunning.core.models import Creditor, Debtor, DebtorKind, Invoice
from dunning.core.plugins import load_registry
from tests.smtp_server import SMTPTestServer, free_port

NBSP = "\xa0"
CREDITOR = Creditor(
    name="Acme B.V.",
    email="debiteuren@acme.example.com",
    phone="020 123 4567",
    iban="NL91ABNA0417164300",
    website="https://acme.example.com",
)


def debtor(**changes: Any) -> Debtor:
    fields: dict[str, Any] = {
        "debtor_id": "D012",
        "name": "Bakkerij Jansen",
        "email": "jan@bakkerij.example.com",
        "contact_name": "Jan Jansen",
        "first_name": "Jan",
        "language": "nl",
    }
    return Debtor(**{**fields, **changes})


def invoice(number: str = "2026-0012", amount: str = "1234.56", **changes: Any) -> Invoice:
    fields: dict[str, Any] = {
        "number": number,
        "debtor_id": "D012",
        "issue_date": date(2026, 2, 1),
        "due_date": date(2026, 3, 3),
        "amount_total": Decimal(amount),
        "amount_open": Decimal(amount),
    }
    return Invoice(**{**fields, **changes})


def outgoing(
    key: str = "test:D012:friendly-reminder:2026-03-17",
    *,
    to: Debtor | None = None,
    invoices: tuple[Invoice, ...] | None = None,
    template: str = "friendly-reminder",
    previous: tuple[PreviousContact, ...] = (),
    recipient: str | None = None,
) -> OutgoingMessage:
    who = to or debtor()
    return OutgoingMessage(
        idempotency_key=key,
        pipeline="test",
        debtor=who,
        recipient=recipient or who.email or "",
        step=template,
        template=template,
        invoices=invoices or (invoice(),),
        today=date(2026, 3, 17),
        creditor=CREDITOR,
        previous_contacts=previous,
    )


def channel(config_dir: Path, **settings: Any) -> EmailChannel:
    config = EmailConfig(**{"from_address": "debiteuren@acme.example.com", **settings})
    context = ChannelContext(pipeline="test", name="mail", config_dir=config_dir, creditor=CREDITOR)
    return EmailChannel(config, context)


def smtp_channel(server: SMTPTestServer, config_dir: Path, **settings: Any) -> EmailChannel:
    smtp = {"host": server.host, "port": server.port, "security": "none", "timeout": 5}
    smtp.update(settings.pop("smtp", {}))
    return channel(config_dir, smtp=smtp, **settings)


@pytest.fixture
def server() -> Iterator[SMTPTestServer]:
    with SMTPTestServer() as running:
        yield running


def bodies(channel_: EmailChannel, message: OutgoingMessage) -> tuple[str, str, str]:
    """Subject, text and HTML as a mail client would decode them."""
    mime = channel_.build(message).mime
    text = mime.get_body(("plain",))
    html = mime.get_body(("html",))
    assert text is not None and html is not None
    return str(mime["Subject"]), text.get_content(), html.get_content()


# --- sending over SMTP ---------------------------------------------------------------------------


def test_a_batch_goes_over_exactly_one_connection(server: SMTPTestServer, tmp_path: Path) -> None:
    email = smtp_channel(server, tmp_path)
    keys = [f"test:D{n:03d}:friendly-reminder" for n in range(5)]
    with email.connect() as connection:
        receipts = [connection.send(outgoing(key)) for key in keys]

    received = server.wait_for(5)
    assert server.connections == 1
    assert [m.message_id for m in received] == [r.provider_message_id for r in receipts]
    assert [m.key for m in received] == keys


def test_message_id_is_derived_from_the_key(server: SMTPTestServer, tmp_path: Path) -> None:
    email = smtp_channel(server, tmp_path)
    with email.connect() as connection:
        first = connection.send(outgoing("k-1"))
        again = connection.send(outgoing("k-1"))
        other = connection.send(outgoing("k-2"))

    assert first.provider_message_id == again.provider_message_id
    assert first.provider_message_id != other.provider_message_id
    assert first.provider_message_id == message_id_for("k-1", "debiteuren@acme.example.com")
    assert first.provider_message_id.endswith("@acme.example.com>")
    assert [m.message_id for m in server.wait_for(3)] == [
        first.provider_message_id,
        first.provider_message_id,
        other.provider_message_id,
    ]


def test_message_is_multipart_with_sender_headers_and_bcc_only_in_envelope(
    server: SMTPTestServer, tmp_path: Path
) -> None:
    email = smtp_channel(
        server, tmp_path, reply_to="Vragen@Acme.example.com", bcc="archief@acme.example.com"
    )
    with email.connect() as connection:
        connection.send(outgoing())

    [received] = server.wait_for(1)
    mime = received.parsed()
    assert mime.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mime.iter_parts()] == ["text/plain", "text/html"]
    [sender] = mime["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Acme B.V.", "debiteuren@acme.example.com")
    assert str(mime["To"]) == "jan@bakkerij.example.com"
    assert mime["Reply-To"].addresses[0].addr_spec == "Vragen@acme.example.com"
    assert mime["Date"] is not None
    assert str(mime["Subject"]) == "Herinnering: factuur 2026-0012 staat nog open"
    assert mime["Bcc"] is None and b"archief@" not in received.data
    assert received.rcpt_tos == ("jan@bakkerij.example.com", "archief@acme.example.com")
    assert received.mail_from == "debiteuren@acme.example.com"


def test_lines_starting_with_a_dot_arrive_intact(server: SMTPTestServer, tmp_path: Path) -> None:
    override = tmp_path / "mail-templates" / "nl"
    override.mkdir(parents=True)
    (override / "friendly-reminder.txt").write_text(
        "Beste {{ greeting_name }},\n.\n..twee punten\n.", encoding="utf-8"
    )
    email = smtp_channel(server, tmp_path, templates="mail-templates")
    with email.connect() as connection:
        connection.send(outgoing())
        connection.send(outgoing("k-after"))  # the session survived the odd content

    first, second = server.wait_for(2)
    text = first.parsed().get_body(("plain",))
    assert text is not None
    assert text.get_content().replace("\r\n", "\n") == "Beste Jan,\n.\n..twee punten\n.\n"
    assert second.key == "k-after"


def test_login_works_and_a_wrong_password_is_permanent_without_the_secret(
    tmp_path: Path,
) -> None:
    with SMTPTestServer(auth=("mailer", "s3cret-value")) as locked:
        good = smtp_channel(
            locked, tmp_path, smtp={"username": "mailer", "password": "s3cret-value"}
        )
        with good.connect() as connection:
            connection.send(outgoing())
        assert len(locked.wait_for(1)) == 1

        bad = smtp_channel(locked, tmp_path, smtp={"username": "mailer", "password": "wrong-pw"})
        with pytest.raises(SendError) as refused, bad.connect():
            pass
    assert refused.value.retryable is False
    assert "smtp.username and smtp.password" in str(refused.value)
    assert "wrong-pw" not in str(refused.value) and "wrong-pw" not in repr(bad.settings)


def test_refused_recipient_is_bad_recipient_and_the_batch_goes_on(
    server: SMTPTestServer, tmp_path: Path
) -> None:
    server.refuse("gone@bakkerij.example.com", 550)
    email = smtp_channel(server, tmp_path)
    gone = debtor(debtor_id="D013", name="Slagerij Gone", email="gone@bakkerij.example.com")
    with email.connect() as connection:
        with pytest.raises(BadRecipient) as refused:
            connection.send(outgoing("k-gone", to=gone))
        connection.send(outgoing("k-next"))

    assert "debtor D013 (Slagerij Gone)" in str(refused.value)
    assert "'gone@bakkerij.example.com'" in str(refused.value) and "550" in str(refused.value)
    assert [m.key for m in server.wait_for(1)] == ["k-next"]
    assert server.connections == 1


def test_temporarily_refused_recipient_is_retryable(server: SMTPTestServer, tmp_path: Path) -> None:
    server.refuse("jan@bakkerij.example.com", 451)
    with smtp_channel(server, tmp_path).connect() as connection, pytest.raises(SendError) as busy:
        connection.send(outgoing())
    assert busy.value.retryable is True and busy.value.bad_recipient is False
    assert "451" in str(busy.value)
    assert server.messages == []


def test_rejected_message_content_is_permanent(server: SMTPTestServer, tmp_path: Path) -> None:
    server.answer_data_with("554 5.6.0 Message rejected")
    with (
        smtp_channel(server, tmp_path).connect() as connection,
        pytest.raises(SendError) as rejected,
    ):
        connection.send(outgoing())
    assert rejected.value.retryable is False and "554" in str(rejected.value)


def test_server_not_running_is_retryable_and_names_host_and_port(tmp_path: Path) -> None:
    port = free_port()
    email = channel(tmp_path, smtp={"host": "127.0.0.1", "port": port, "security": "none"})
    with pytest.raises(SendError) as unreachable, email.connect():
        pass
    assert unreachable.value.retryable is True
    assert f"127.0.0.1:{port}" in str(unreachable.value)
    assert "\n" not in str(unreachable.value)


def test_a_connection_dropped_between_messages_is_reopened_once(
    server: SMTPTestServer, tmp_path: Path
) -> None:
    server.hang_up_after_each_message()
    with smtp_channel(server, tmp_path).connect() as connection:
        for n in range(3):
            connection.send(outgoing(f"k-{n}"))
    assert [m.key for m in server.wait_for(3)] == ["k-0", "k-1", "k-2"]
    assert server.connections == 3


# --- recipients ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "message"),
    [
        (
            "jan@@example",
            "debtor D012 (Bakkerij Jansen): email 'jan@@example' is not a valid address; "
            "correct it in the source",
        ),
        (
            "jan@bakkerij.example.com; nope",
            "debtor D012 (Bakkerij Jansen): email 'nope' is not a valid address; "
            "correct it in the source",
        ),
        (
            None,
            "debtor D012 (Bakkerij Jansen): has no email address; add one in the source "
            "or send this step through another channel",
        ),
        (" ; ", "debtor D012 (Bakkerij Jansen): has no email address"),
    ],
)
def test_invalid_or_missing_address_is_bad_recipient(
    tmp_path: Path, email: str | None, message: str
) -> None:
    with pytest.raises(BadRecipient) as bad:
        channel(tmp_path, delivery="file").recipient(debtor(email=email))
    assert str(bad.value).startswith(message)
    assert bad.value.bad_recipient is True


def test_several_addresses_are_validated_and_normalised(tmp_path: Path) -> None:
    email = channel(tmp_path, delivery="file")
    recipient = email.recipient(
        debtor(email=" Jan@Bakkerij.EXAMPLE.com;boekhouding@bakkerij.example.com ,")
    )
    assert recipient == "Jan@bakkerij.example.com, boekhouding@bakkerij.example.com"
    mime = email.build(outgoing(recipient=recipient)).mime
    assert [a.addr_spec for a in mime["To"].addresses] == recipient.split(", ")


# --- rendering -----------------------------------------------------------------------------------


def test_html_is_autoescaped_and_text_is_verbatim(tmp_path: Path) -> None:
    evil = debtor(name="<script>alert(1)</script>", first_name=None, contact_name=None)
    _, text, html = bodies(channel(tmp_path, delivery="file"), outgoing(to=evil))
    assert "Beste <script>alert(1)</script>," in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html


def test_dutch_and_english_format_money_and_dates(tmp_path: Path) -> None:
    email = channel(tmp_path, delivery="file")
    subject_nl, text_nl, html_nl = bodies(email, outgoing())
    subject_en, text_en, html_en = bodies(email, outgoing(to=debtor(language="en")))

    assert subject_nl == "Herinnering: factuur 2026-0012 staat nog open"
    assert f"€{NBSP}1.234,56" in text_nl and f"€{NBSP}1.234,56" in html_nl
    assert "3 maart 2026" in text_nl and "1 februari 2026" in html_nl
    assert text_nl.startswith("Beste Jan,")
    assert subject_en == "Reminder: invoice 2026-0012 is still open"
    assert "€1,234.56" in text_en and "€1,234.56" in html_en
    assert "3 March 2026" in text_en and "1 February 2026" in html_en
    assert text_en.startswith("Dear Jan,")


def test_unknown_language_falls_back(tmp_path: Path) -> None:
    subject, _, _ = bodies(channel(tmp_path, delivery="file"), outgoing(to=debtor(language="de")))
    assert subject == "Reminder: invoice 2026-0012 is still open"
    subject, _, _ = bodies(
        channel(tmp_path, delivery="file", language_fallback="nl"),
        outgoing(to=debtor(language="de")),
    )
    assert subject.startswith("Herinnering:")


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("template", BUILTIN_TEMPLATES)
@pytest.mark.parametrize("previous", [True, False])
def test_plain_text_keeps_the_invoice_table_in_its_own_paragraph(
    tmp_path: Path, language: str, template: str, previous: bool
) -> None:
    contacts = (PreviousContact("friendly-reminder", date(2026, 3, 3), "mail"),) if previous else ()
    message = outgoing(template=template, previous=contacts, to=debtor(language=language))
    _, text, _ = bodies(channel(tmp_path, delivery="file"), message)
    header = "Factuur " if language == "nl" else "Invoice "
    assert f"\n\n{header}" in text
    assert "\n\n\n" not in text and "{" not in text


def test_invoice_table_lists_every_invoice_of_a_grouped_message(tmp_path: Path) -> None:
    invoices = (
        invoice("2026-0012", "100.00"),
        invoice("2026-0015", "250.50", amount_open=Decimal("50.50")),
        invoice("2026-0019", "1000.00", payment_link="https://pay.example.com/19"),
    )
    subject, text, html = bodies(channel(tmp_path, delivery="file"), outgoing(invoices=invoices))
    assert subject == "Herinnering: 3 facturen staan nog open"
    for body in (text, html):
        for number in ("2026-0012", "2026-0015", "2026-0019"):
            assert number in body
        assert f"€{NBSP}1.150,50" in body  # total open
        assert f"€{NBSP}250,50" in body  # original amount shown: 2026-0015 is partly paid
        assert "https://pay.example.com/19" in body
        assert "NL91ABNA0417164300" in body


def test_later_steps_mention_the_first_earlier_reminder(tmp_path: Path) -> None:
    previous = (
        PreviousContact("second-reminder", date(2026, 3, 10), "mail"),
        PreviousContact("friendly-reminder", date(2026, 3, 3), "mail"),
    )
    email = channel(tmp_path, delivery="file")
    _, text, html = bodies(email, outgoing(template="second-reminder", previous=previous))
    assert "Op 3 maart 2026 hebben we u een herinnering gestuurd" in text
    assert "Op 3 maart 2026 hebben we u een herinnering gestuurd" in html
    english = outgoing(template="final-reminder", previous=previous, to=debtor(language="en"))
    assert "the first time on 3 March 2026" in bodies(email, english)[1]


@pytest.mark.parametrize("template", ["second-reminder", "final-reminder", "final-demand"])
def test_later_steps_do_not_claim_reminders_that_were_never_sent(
    tmp_path: Path, template: str
) -> None:
    # A first run over old invoices may jump straight to a later step.
    email = channel(tmp_path, delivery="file")
    _, text, html = bodies(email, outgoing(template=template))
    assert "eerder" not in text and "hebben we u een herinnering" not in text
    assert "Volgens onze administratie" in text and "Volgens onze administratie" in html
    _, english, _ = bodies(email, outgoing(template=template, to=debtor(language="en")))
    assert "before" not in english and "According to our records" in english


NL_TERM = "binnen 14 dagen na de dag waarop u deze aanmaning heeft ontvangen"
EN_TERM = "within 14 days after the day on which you received this final demand"


@pytest.mark.parametrize(
    ("language", "kind", "term", "interest", "amount"),
    [
        ("nl", DebtorKind.CONSUMER, NL_TERM, "de wettelijke rente", f"€{NBSP}1.234,56"),
        ("nl", DebtorKind.BUSINESS, NL_TERM, "de wettelijke handelsrente", f"€{NBSP}1.234,56"),
        ("en", DebtorKind.CONSUMER, EN_TERM, "statutory interest", "€1,234.56"),
        ("en", DebtorKind.BUSINESS, EN_TERM, "statutory commercial interest", "€1,234.56"),
    ],
)
def test_final_demand_states_term_and_consequences_without_cost_amounts(
    tmp_path: Path, language: str, kind: DebtorKind, term: str, interest: str, amount: str
) -> None:
    message = outgoing(template="final-demand", to=debtor(language=language, kind=kind))
    subject, text, html = bodies(channel(tmp_path, delivery="file"), message)
    assert subject.startswith(("Aanmaning:", "Final demand:"))
    for body in (text, html):
        flat = re.sub(r"[ \n]+", " ", body)
        assert term in flat and interest in flat
        assert ("incassobureau" if language == "nl" else "collection agency") in flat
        assert ("betalingsregeling" if language == "nl" else "payment plan") in flat
        # The only amount is the invoice's own: no collection-cost figures, no percentages.
        assert set(re.findall(r"€\s?[\d.,]*\d", flat)) == {amount}
        assert "%" not in re.sub(r"<[^>]*>", "", flat)


def test_unknown_variable_in_an_override_is_a_config_error_naming_the_file(
    tmp_path: Path,
) -> None:
    override = tmp_path / "mail-templates" / "nl"
    override.mkdir(parents=True)
    (override / "friendly-reminder.txt").write_text("Beste {{ klant_naam }},\n", encoding="utf-8")
    email = channel(tmp_path, delivery="file", templates="mail-templates")

    with pytest.raises(ConfigError) as broken:
        email.build(outgoing())
    assert str(override / "friendly-reminder.txt") in str(broken.value)
    assert "klant_naam" in str(broken.value)
    assert isinstance(broken.value, SendError) and broken.value.retryable is False
    with pytest.raises(ConfigError, match=r"friendly-reminder\.txt"):
        email.check()


def test_override_folder_beats_the_built_in_templates(tmp_path: Path) -> None:
    override = tmp_path / "mail-templates" / "nl"
    override.mkdir(parents=True)
    (override / "friendly-reminder.subject.txt").write_text(
        "Even checken: {{ invoices[0].number }} ({{ total_open|money }})", encoding="utf-8"
    )
    email = channel(tmp_path, delivery="file", templates="mail-templates")
    subject, text, _ = bodies(email, outgoing())
    assert subject == f"Even checken: 2026-0012 (€{NBSP}1.234,56)"
    assert "Misschien is het u ontgaan" in text  # the body still comes from the built-in set


def test_a_missing_template_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'en/no-such-step\.subject\.txt' not found"):
        channel(tmp_path, delivery="file").build(outgoing(template="no-such-step"))


# --- file delivery, check, config, registration --------------------------------------------------


def test_file_mode_writes_one_eml_per_key_and_a_resend_overwrites(tmp_path: Path) -> None:
    email = channel(tmp_path, delivery="file", folder="out/mail")
    with email.connect() as connection:
        first = connection.send(outgoing("run:D012:friendly/1"))
        connection.send(outgoing("run:D013:friendly/1"))
        again = connection.send(outgoing("run:D012:friendly/1"))

    files = sorted((tmp_path / "out" / "mail").iterdir())
    assert len(files) == 2 and all(f.suffix == ".eml" for f in files)
    assert first.provider_message_id == again.provider_message_id
    assert any(first.provider_message_id.encode() in f.read_bytes() for f in files)


def test_check_passes_for_the_built_in_templates(tmp_path: Path) -> None:
    channel(tmp_path, smtp={"host": "mail.example.com"}).check()
    files = channel(tmp_path, delivery="file", folder="deep/er/mail")
    files.check()
    assert (tmp_path / "deep" / "er" / "mail").is_dir()
    assert set(BUILTIN_TEMPLATES) <= {name for _, name in files.renderer.template_sets()}
    assert files.renderer.languages() == ["en", "nl"]


def test_check_names_a_missing_templates_folder_and_a_fallback_without_templates(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match=r"templates folder .*nowhere does not exist"):
        channel(tmp_path, delivery="file", templates="nowhere").check()
    with pytest.raises(ConfigError, match=r"language_fallback 'de' has no templates"):
        channel(tmp_path, delivery="file", language_fallback="de").check()


def test_config_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"smtp\.host"):
        EmailConfig(from_address="a@example.com")
    with pytest.raises(ValidationError, match="not a valid email address"):
        EmailConfig(from_address="debiteuren@@acme", delivery="file")
    with pytest.raises(ValidationError, match="extra"):
        EmailConfig(**{"from_address": "a@example.com", "delivery": "file", "form_name": "x"})
    secret = EmailConfig(
        from_address="a@example.com",
        smtp={"host": "h", "username": "u", "password": "p4ssw0rd", "security": "ssl"},
    )
    assert "p4ssw0rd" not in repr(secret) and secret.smtp.port == 465
    assert EmailConfig(from_address="a@example.com", smtp={"host": "h"}).smtp.port == 587


def test_the_plugin_registers_the_email_channel() -> None:
    assert load_registry().channel("email") is EmailChannel
