"""The email templates beyond the basic ladder: courtesy reminder, humorous variants, thank-you,
written confirmations, and the broken-agreement notes every reminder carries."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dunning.channels.email.context import CONTEXT_VARIABLES, build_context
from dunning.channels.email.render import BUILTIN_TEMPLATES, EXTRA_TEMPLATES, Renderer
from dunning.channels.email.samples import sample_messages
from dunning.core.channel import OutgoingMessage, PreviousContact
from dunning.core.errors import ConfigError
from dunning.core.models import (
    Confirmation,
    ConfirmationEvent,
    EarlyDiscount,
    Instalment,
    Invoice,
    Pause,
    PauseKind,
    ResumeNote,
)
from tests.smtp_server import SMTPTestServer
from tests.test_email_channel import (
    CREDITOR,
    NBSP,
    bodies,
    channel,
    debtor,
    invoice,
    outgoing,
    smtp_channel,
)

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("nl", "en")
REMINDERS = (*BUILTIN_TEMPLATES, "friendly-reminder-humorous", "second-reminder-humorous")
CONFIRMATIONS = {
    PauseKind.PROMISE: "confirm-promise",
    PauseKind.ARRANGEMENT: "confirm-arrangement",
    PauseKind.DISPUTE: "confirm-dispute",
    PauseKind.MANUAL: "confirm-pause",
}
EUR_NL = f"€{NBSP}1.234,56"
EUR_EN = "€1,234.56"
BROKEN_PROMISE = ResumeNote(
    PauseKind.PROMISE, agreed_on=date(2026, 3, 2), promised_for=date(2026, 3, 10)
)
MISSED_INSTALMENT = ResumeNote(
    PauseKind.ARRANGEMENT, date(2026, 2, 1), date(2026, 3, 1), Decimal("400.00")
)
INSTALMENTS = (
    Instalment(date(2026, 4, 1), Decimal("400.00")),
    Instalment(date(2026, 5, 1), Decimal("400.00")),
    Instalment(date(2026, 6, 1), Decimal("434.56")),
)


def message(language: str = "nl", **changes: Any) -> OutgoingMessage:
    """The standard test message (invoice 2026-0012, € 1.234,56, due 3 March) with ``changes``."""
    template = changes.pop("template", "friendly-reminder")
    invoices = changes.pop("invoices", None)
    previous = changes.pop("previous", ())
    base = outgoing(
        template=template, to=debtor(language=language), invoices=invoices, previous=previous
    )
    return replace(base, **changes)


def confirmation(
    kind: PauseKind, event: ConfirmationEvent = ConfirmationEvent.SET, **changes: Any
) -> Confirmation:
    fields: dict[str, Any] = {
        "id": 7,
        "debtor_id": "D012",
        "kind": kind,
        "starts_on": date(2026, 3, 16),
        "reason": "agreed on the phone",
        "invoice_numbers": ("2026-0012",),
        "until": date(2026, 3, 31),
        "instalments": INSTALMENTS if kind == PauseKind.ARRANGEMENT else (),
        "ended_on": None if event == ConfirmationEvent.SET else date(2026, 4, 2),
    }
    return Confirmation(event=event, pause=Pause(**{**fields, **changes}))


def confirm(
    kind: PauseKind,
    event: ConfirmationEvent = ConfirmationEvent.SET,
    language: str = "nl",
    invoices: tuple[Invoice, ...] | None = None,
    **changes: Any,
) -> OutgoingMessage:
    return message(
        language,
        template=CONFIRMATIONS[kind],
        invoices=invoices,
        confirmation=confirmation(kind, event, **changes),
    )


def flat(body: str) -> str:
    """A body as one line of words: tags removed, runs of white space (not NBSP) as one space."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", "", body))


def render(tmp_path: Path, outgoing_message: OutgoingMessage) -> tuple[str, str, str]:
    """Subject, text and HTML (flattened) as a mail client shows them."""
    subject, text, html = bodies(channel(tmp_path, delivery="file"), outgoing_message)
    return subject, text, flat(html)


def assert_in_both(phrase: str, text: str, html: str) -> None:
    assert phrase in flat(text), f"{phrase!r} not in the text part"
    assert phrase in html, f"{phrase!r} not in the HTML part"


# --- every template, every branch ----------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", EXTRA_TEMPLATES + BUILTIN_TEMPLATES)
def test_no_branch_of_a_shipped_template_leaves_template_syntax_or_none(
    template: str, language: str
) -> None:
    renderer = Renderer(None, fallback_language="en")
    for sample in sample_messages(template, CREDITOR):
        rendered = renderer.render(sample, language)
        for part in (rendered.subject, rendered.text, rendered.html):
            assert not re.search(r"\{\{|\}\}|\{%|%\}|\{#|#\}", part), (template, part)
            assert "None" not in part
        assert rendered.subject and "\n" not in rendered.subject
        assert "\n\n\n" not in rendered.text
        greeting = "Beste Jan," if language == "nl" else "Dear Jan,"
        assert f"\n{greeting}\n" in f"\n{rendered.text}"
        assert f'<html lang="{language}">' in rendered.html


@pytest.mark.parametrize("template", EXTRA_TEMPLATES)
def test_the_debtors_language_chooses_the_template_set(tmp_path: Path, template: str) -> None:
    kind = PauseKind(template.removeprefix("confirm-")) if template.startswith("confirm-") else None
    extra: dict[str, Any] = {"template": template}
    if kind is not None:
        extra["confirmation"] = confirmation(kind)
    email = channel(tmp_path, delivery="file")
    for language, greeting in (("nl", "Beste Jan,"), ("en", "Dear Jan,"), ("de", "Dear Jan,")):
        mime = email.build(message(language, **extra)).mime
        text = mime.get_body(("plain",))
        assert text is not None and text.get_content().startswith(greeting)
        assert mime["Content-Language"] == ("nl" if language == "nl" else "en")


def test_context_variables_are_exactly_what_templates_get() -> None:
    assert set(build_context(message(), "nl")) == set(CONTEXT_VARIABLES)


def test_docs_list_every_context_variable_and_shipped_template() -> None:
    docs = (ROOT / "docs" / "channel-email.md").read_text(encoding="utf-8")
    for name in CONTEXT_VARIABLES:
        assert f"| `{name}` |" in docs, name
    for name in BUILTIN_TEMPLATES + EXTRA_TEMPLATES:
        assert f"| `{name}` |" in docs, name


# --- courtesy reminder ---------------------------------------------------------------------------

NOT_YET_DUE = invoice(issue_date=date(2026, 3, 3), due_date=date(2026, 3, 31))


def test_courtesy_reminder_announces_the_due_date_without_a_discount(tmp_path: Path) -> None:
    subject, text, html = render(
        tmp_path, message(template="courtesy-reminder", invoices=(NOT_YET_DUE,))
    )
    assert subject == "Factuur 2026-0012 vervalt op 31 maart 2026"
    assert_in_both("factuur 2026-0012 moet uiterlijk op 31 maart 2026 betaald zijn", text, html)
    assert_in_both("U bent dus nog niet te laat.", text, html)
    assert "%" not in text and "bespaart" not in text and "korting" not in text
    assert f"Maak {EUR_NL} over aan Acme B.V." in text


@pytest.mark.parametrize(
    ("language", "subject", "offer", "how_to_pay"),
    [
        (
            "nl",
            "Factuur 2026-0012 vervalt op 31 maart 2026 – betaal vroeg en bespaar 2%",
            f"betaalt u uiterlijk 10 maart 2026? Dan betaalt u €{NBSP}1.209,87 in plaats van "
            f"{EUR_NL} en bespaart u 2% (€{NBSP}24,69).",
            f"Maak uiterlijk 10 maart 2026 €{NBSP}1.209,87 (daarna: {EUR_NL}) over",
        ),
        (
            "en",
            "Invoice 2026-0012 is due on 31 March 2026 – pay early and save 2%",
            f"pay €1,209.87 instead of {EUR_EN} by 10 March 2026 and you save 2% (€24.69).",
            f"Please transfer €1,209.87 by 10 March 2026 (after that date: {EUR_EN}) to",
        ),
    ],
)
def test_courtesy_reminder_offers_the_early_payment_discount(
    tmp_path: Path, language: str, subject: str, offer: str, how_to_pay: str
) -> None:
    discount = EarlyDiscount(
        percent=Decimal("2"),
        deadline=date(2026, 3, 10),
        amount=Decimal("24.69"),
        pay_amount=Decimal("1209.87"),
    )
    rendered = render(
        tmp_path,
        message(
            language,
            template="courtesy-reminder",
            invoices=(NOT_YET_DUE,),
            early_discount=discount,
        ),
    )
    assert rendered[0] == subject
    assert_in_both(offer, rendered[1], rendered[2])
    assert_in_both(how_to_pay, rendered[1], rendered[2])


@pytest.mark.parametrize(
    ("language", "named"),
    [
        ("nl", "(de korting geldt voor factuur 2026-0012)"),
        ("en", "(the discount applies to invoice 2026-0012)"),
    ],
)
def test_a_discount_on_some_invoices_of_a_message_names_them(
    tmp_path: Path, language: str, named: str
) -> None:
    discount = EarlyDiscount(
        Decimal("2"), date(2026, 3, 10), Decimal("24.69"), Decimal("1209.87"), ("2026-0012",)
    )
    other = replace(NOT_YET_DUE, number="2026-0013")
    _, text, html = render(
        tmp_path,
        message(
            language,
            template="courtesy-reminder",
            invoices=(NOT_YET_DUE, other),
            early_discount=discount,
        ),
    )
    assert_in_both(named, text, html)
    _, alone, _ = render(
        tmp_path,
        message(
            language, template="courtesy-reminder", invoices=(NOT_YET_DUE,),
            early_discount=discount,
        ),
    )  # fmt: skip
    assert named not in alone


@pytest.mark.parametrize(("language", "shown"), [("nl", "2,5%"), ("en", "2.5%")])
def test_a_fractional_discount_percentage_is_formatted_per_language(
    tmp_path: Path, language: str, shown: str
) -> None:
    discount = EarlyDiscount(
        Decimal("2.50"), date(2026, 3, 10), Decimal("30.86"), Decimal("1203.70")
    )
    _, text, html = render(
        tmp_path,
        message(language, template="courtesy-reminder", early_discount=discount),
    )
    assert_in_both(f"{shown} (", text, html)


# --- broken agreements in reminders --------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", REMINDERS)
def test_every_reminder_says_that_a_promise_was_broken(
    tmp_path: Path, template: str, language: str
) -> None:
    _, text, html = render(
        tmp_path, message(language, template=template, resume_notes=(BROKEN_PROMISE,))
    )
    if language == "nl":
        note = "Op 2 maart 2026 heeft u ons toegezegd dat u uiterlijk 10 maart 2026 zou betalen"
        resume, table = "Daarom gaan we verder met onze herinneringen.", "Factuur "
    else:
        note = "On 2 March 2026 you promised to pay by 10 March 2026"
        resume, table = "That is why we continue our reminders.", "Invoice "
    assert_in_both(note, text, html)
    assert_in_both(resume, text, html)
    assert text.index(note) < text.index(f"\n\n{table}")  # first thing after the greeting


@pytest.mark.parametrize(
    ("language", "note"),
    [
        (
            "nl",
            "Op 1 februari 2026 hebben we met u een betalingsregeling afgesproken, maar we hebben "
            f"de termijn van €{NBSP}400,00 die uiterlijk 1 maart 2026 betaald moest zijn niet "
            "ontvangen.",
        ),
        (
            "en",
            "On 1 February 2026 we agreed a payment arrangement with you, but we have not "
            "received the instalment of €400.00 that was due on 1 March 2026.",
        ),
    ],
)
def test_reminders_name_the_missed_instalment(tmp_path: Path, language: str, note: str) -> None:
    _, text, html = render(
        tmp_path,
        message(language, template="second-reminder", resume_notes=(MISSED_INSTALMENT,)),
    )
    assert_in_both(note, text, html)


def test_a_note_carried_by_every_invoice_of_a_message_is_said_once(tmp_path: Path) -> None:
    invoices = (invoice("2026-0012"), invoice("2026-0015", "99.00"))
    _, text, html = render(
        tmp_path,
        message(
            invoices=invoices,
            resume_notes=(BROKEN_PROMISE, MISSED_INSTALMENT, BROKEN_PROMISE),
        ),
    )
    for body in (text, html):
        assert body.count("heeft u ons toegezegd") == 1
        assert body.count("betalingsregeling afgesproken") == 1
        assert body.count("Daarom gaan we verder met onze herinneringen.") == 1
    # the older agreement first
    assert text.index("1 februari 2026") < text.index("2 maart 2026")


@pytest.mark.parametrize(("language", "label"), [("nl", "uw referentie"), ("en", "your reference")])
def test_the_debtors_own_reference_stands_beside_its_invoice(
    tmp_path: Path, language: str, label: str
) -> None:
    invoices = (invoice("2026-0012", your_ref="PO-4471"), invoice("2026-0015", "99.00"))
    _, text, html = render(tmp_path, message(language, invoices=invoices))
    assert_in_both(f"{label}: PO-4471", text, html)
    assert text.count(label) == 1 and html.count(label) == 1  # the other invoice has none
    assert text.index("2026-0012") < text.index("PO-4471") < text.index("2026-0015")


@pytest.mark.parametrize("template", REMINDERS)
def test_reminders_without_broken_agreements_mention_none(tmp_path: Path, template: str) -> None:
    _, text, html = render(tmp_path, message(template=template))
    for body in (text, html):
        assert "toegezegd" not in body and "gaan we verder met onze herinneringen" not in body


# --- humorous variants ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("normal", ["friendly-reminder", "second-reminder"])
def test_humorous_variants_read_differently_but_state_the_same_facts(
    tmp_path: Path, normal: str, language: str
) -> None:
    invoices = (
        invoice("2026-0012", payment_link="https://pay.example.com/12"),
        invoice("2026-0015", "250.50", due_date=date(2026, 3, 5)),
    )
    previous = (PreviousContact("friendly-reminder", date(2026, 3, 6), "mail"),)
    email = channel(tmp_path, delivery="file")
    plain = bodies(email, message(language, template=normal, invoices=invoices, previous=previous))
    humorous = bodies(
        email,
        message(language, template=f"{normal}-humorous", invoices=invoices, previous=previous),
    )
    assert plain[0] != humorous[0]
    assert plain[1] != humorous[1] and plain[2] != humorous[2]
    total = f"€{NBSP}1.485,06" if language == "nl" else "€1,485.06"
    due = ("3 maart 2026", "5 maart 2026") if language == "nl" else ("3 March 2026", "5 March 2026")
    for body in humorous[1:]:
        for fact in ("2026-0012", "2026-0015", *due, total, "https://pay.example.com/12"):
            assert fact in body
        assert "NL91ABNA0417164300" in body
        assert "incasso" not in body and "collection" not in body
    if normal == "second-reminder":
        earlier = (
            "Op 6 maart 2026 hebben we u een herinnering gestuurd"
            if language == "nl"
            else "On 6 March 2026 we sent you a reminder"
        )
        assert_in_both(earlier, humorous[1], flat(humorous[2]))


def test_humorous_templates_are_not_copies_of_the_normal_ones() -> None:
    folder = ROOT / "channels" / "email" / "templates"
    for language in LANGUAGES:
        for normal in ("friendly-reminder", "second-reminder"):
            for suffix in (".subject.txt", ".txt", ".html"):
                plain = (folder / language / f"{normal}{suffix}").read_text(encoding="utf-8")
                funny = (folder / language / f"{normal}-humorous{suffix}").read_text("utf-8")
                assert plain != funny


def test_the_lonely_invoice_opens_the_humorous_first_reminder(tmp_path: Path) -> None:
    subject, text, html = render(tmp_path, message(template="friendly-reminder-humorous"))
    assert subject == "Factuur 2026-0012 voelt zich een beetje eenzaam"
    assert_in_both("Onze factuur 2026-0012 voelt zich een beetje eenzaam.", text, html)
    english = render(tmp_path, message("en", template="friendly-reminder-humorous"))
    assert english[0] == "Invoice 2026-0012 is feeling a little lonely"


def test_humorous_second_reminder_claims_no_reminder_that_was_never_sent(tmp_path: Path) -> None:
    _, text, html = render(tmp_path, message(template="second-reminder-humorous"))
    assert "herinnering gestuurd" not in text and "herinnering gestuurd" not in html
    assert_in_both("Volgens onze administratie is factuur 2026-0012 nog niet betaald", text, html)
    _, english, _ = render(tmp_path, message("en", template="second-reminder-humorous"))
    assert "we sent you" not in english and "According to our records" in english


# --- thank-you -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "subject", "thanks", "paid_on", "how_to_pay"),
    [
        (
            "nl",
            "Bedankt voor het op tijd betalen van factuur 2026-0012",
            "We hebben uw betaling voor factuur 2026-0012 op tijd ontvangen.",
            "1 maart 2026",
            "Zo kunt u betalen",
        ),
        (
            "en",
            "Thank you for paying invoice 2026-0012 on time",
            "We have received your payment for invoice 2026-0012, right on time.",
            "1 March 2026",
            "How to pay",
        ),
    ],
)
def test_thank_you_lists_the_invoices_as_paid_and_asks_for_nothing(
    tmp_path: Path, language: str, subject: str, thanks: str, paid_on: str, how_to_pay: str
) -> None:
    paid = invoice(
        amount_open=Decimal("0"),
        paid_on=date(2026, 3, 1),
        payment_link="https://pay.example.com/12",
    )
    rendered = render(tmp_path, message(language, template="thank-you", invoices=(paid,)))
    assert rendered[0] == subject
    assert_in_both(thanks, rendered[1], rendered[2])
    amount = EUR_NL if language == "nl" else EUR_EN
    for body in rendered[1:]:
        assert paid_on in body and amount in body
        assert how_to_pay not in body and "NL91ABNA0417164300" not in body
        assert "https://pay.example.com/12" not in body
    assert re.search(rf"^2026-0012 .*{re.escape(amount)}\s+{paid_on}$", rendered[1], re.M)


# --- written confirmations -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "subject", "sentences"),
    [
        (
            "nl",
            "Bevestiging van uw betalingstoezegging voor factuur 2026-0012",
            [
                f"Op 16 maart 2026 heeft u toegezegd dat u {EUR_NL} voor factuur 2026-0012 "
                "uiterlijk 31 maart 2026 betaalt.",
                "Tot die datum pauzeren we onze herinneringen.",
                "Hebben we de betaling op 31 maart 2026 nog niet ontvangen? Dan gaan we verder "
                "met onze herinneringen.",
                f"Maak {EUR_NL} over",
            ],
        ),
        (
            "en",
            "Confirmation of your promise to pay for invoice 2026-0012",
            [
                f"On 16 March 2026 you promised to pay {EUR_EN} for invoice 2026-0012 by "
                "31 March 2026.",
                "We pause our reminders until then.",
                "If we have not received the payment by 31 March 2026, our reminders will resume.",
            ],
        ),
    ],
)
def test_a_promise_to_pay_is_confirmed_with_amount_and_date(
    tmp_path: Path, language: str, subject: str, sentences: list[str]
) -> None:
    rendered = render(tmp_path, confirm(PauseKind.PROMISE, language=language))
    assert rendered[0] == subject
    for sentence in sentences:
        assert_in_both(sentence, rendered[1], rendered[2])


@pytest.mark.parametrize(
    ("language", "rows", "sentences"),
    [
        (
            "nl",
            [
                ("1", "1 april 2026", f"€{NBSP}400,00"),
                ("2", "1 mei 2026", f"€{NBSP}400,00"),
                ("3", "1 juni 2026", f"€{NBSP}434,56"),
                ("Totaal", "", EUR_NL),
            ],
            [
                "Op 16 maart 2026 hebben we afgesproken dat u factuur 2026-0012 in termijnen "
                "betaalt.",
                "Zolang de termijnen op tijd binnenkomen, sturen we u geen herinneringen voor "
                "deze factuur.",
                "Wordt een termijn niet op tijd betaald? Dan gaan we weer verder met onze "
                "herinneringen voor het bedrag dat dan nog openstaat.",
                "Maak elke termijn over aan Acme B.V.",
            ],
        ),
        (
            "en",
            [
                ("1", "1 April 2026", "€400.00"),
                ("2", "1 May 2026", "€400.00"),
                ("3", "1 June 2026", "€434.56"),
                ("Total", "", EUR_EN),
            ],
            [
                "On 16 March 2026 we agreed that you will pay invoice 2026-0012 in instalments.",
                "As long as the instalments arrive on time, we will not send you any reminders "
                "for this invoice.",
                "If an instalment is not paid on time, our reminders will resume for the amount "
                "that is still open.",
                "Please transfer each instalment to Acme B.V.",
            ],
        ),
    ],
)
def test_a_payment_arrangement_is_confirmed_with_its_instalments(
    tmp_path: Path, language: str, rows: list[tuple[str, str, str]], sentences: list[str]
) -> None:
    subject, text, html = bodies(
        channel(tmp_path, delivery="file"), confirm(PauseKind.ARRANGEMENT, language=language)
    )
    assert subject.endswith("betalingsregeling voor factuur 2026-0012") or subject.endswith(
        "payment arrangement for invoice 2026-0012"
    )
    for number, day, amount in rows:
        pattern = rf"^{number}\s+{re.escape(day)}\s*{re.escape(amount)}$"
        assert re.search(pattern, text, re.M), pattern
        cells = rf"<td[^>]*>{number}</td>\s*<td>{re.escape(day)}</td>" if day else number
        assert re.search(cells, html), cells
        assert amount in html
    for sentence in sentences:
        assert_in_both(sentence, text, flat(html))
    assert "pay.example.com" not in text  # a payment link would ask for the whole amount


@pytest.mark.parametrize(
    ("language", "subject", "sentences"),
    [
        (
            "nl",
            "We hebben uw bezwaar tegen factuur 2026-0012 ontvangen",
            [
                "Op 16 maart 2026 heeft u ons laten weten dat u het niet eens bent met factuur "
                "2026-0012.",
                "Terwijl we dit uitzoeken, hebben we onze herinneringen voor deze factuur "
                "gepauzeerd.",
                "Een van onze medewerkers neemt persoonlijk contact met u op",
            ],
        ),
        (
            "en",
            "We have received your objection to invoice 2026-0012",
            [
                "On 16 March 2026 you let us know that you do not agree with invoice 2026-0012.",
                "While we look into it, we have paused our reminders for this invoice.",
                "One of our colleagues will contact you personally",
            ],
        ),
    ],
)
def test_a_dispute_is_acknowledged_and_nothing_is_demanded(
    tmp_path: Path, language: str, subject: str, sentences: list[str]
) -> None:
    rendered = render(tmp_path, confirm(PauseKind.DISPUTE, language=language, until=None))
    assert rendered[0] == subject
    for sentence in sentences:
        assert_in_both(sentence, rendered[1], rendered[2])
    for body in rendered[1:]:
        assert "IBAN" not in body and "pay.example.com" not in body


@pytest.mark.parametrize(
    ("language", "until", "sentences"),
    [
        (
            "nl",
            date(2026, 3, 31),
            [
                "we onze herinneringen voor factuur 2026-0012 hebben gepauzeerd tot 31 maart 2026.",
                "Na 31 maart 2026 gaan we verder met onze herinneringen",
            ],
        ),
        (
            "nl",
            None,
            [
                "we onze herinneringen voor factuur 2026-0012 hebben gepauzeerd.",
                "Voordat we weer verder gaan met onze herinneringen, laten we het u weten.",
            ],
        ),
        (
            "en",
            date(2026, 3, 31),
            [
                "we have paused our reminders for invoice 2026-0012 until 31 March 2026.",
                "After 31 March 2026, our reminders will resume",
            ],
        ),
    ],
)
def test_a_pause_is_confirmed_with_its_end_date_when_it_has_one(
    tmp_path: Path, language: str, until: date | None, sentences: list[str]
) -> None:
    rendered = render(tmp_path, confirm(PauseKind.MANUAL, language=language, until=until))
    for sentence in sentences:
        assert_in_both(sentence, rendered[1], rendered[2])


def test_a_pause_on_the_whole_debtor_says_all_invoices(tmp_path: Path) -> None:
    _, text, html = render(tmp_path, confirm(PauseKind.MANUAL, invoice_numbers=()))
    assert_in_both("onze herinneringen voor al uw facturen hebben gepauzeerd", text, html)
    _, text, html = render(tmp_path, confirm(PauseKind.DISPUTE, invoice_numbers=()))
    assert_in_both("dat u het niet eens bent met onze facturen.", text, html)
    assert_in_both("onze herinneringen voor uw facturen gepauzeerd", text, html)


ENDED = [
    (
        PauseKind.PROMISE,
        ConfirmationEvent.LIFTED,
        "nl",
        "Uw betalingstoezegging voor factuur 2026-0012 is beëindigd",
        "Deze afspraak is nu beëindigd (op 2 april 2026).",
    ),
    (
        PauseKind.PROMISE,
        ConfirmationEvent.LIFTED,
        "en",
        "Your promise to pay for invoice 2026-0012 has ended",
        "This agreement has now ended (on 2 April 2026).",
    ),
    (
        PauseKind.ARRANGEMENT,
        ConfirmationEvent.LIFTED,
        "nl",
        "Uw betalingsregeling voor factuur 2026-0012 is beëindigd",
        "Deze regeling is nu beëindigd (op 2 april 2026).",
    ),
    (
        PauseKind.ARRANGEMENT,
        ConfirmationEvent.LIFTED,
        "en",
        "Your payment arrangement for invoice 2026-0012 has ended",
        "This arrangement has now ended (on 2 April 2026).",
    ),
    (
        PauseKind.DISPUTE,
        ConfirmationEvent.LIFTED,
        "nl",
        "Nieuws over uw bezwaar tegen factuur 2026-0012",
        "Die pauze is nu voorbij (sinds 2 april 2026).",
    ),
    (
        PauseKind.DISPUTE,
        ConfirmationEvent.LIFTED,
        "en",
        "News about your objection to invoice 2026-0012",
        "That pause has now ended (on 2 April 2026).",
    ),
    (
        PauseKind.DISPUTE,
        ConfirmationEvent.RESOLVED,
        "nl",
        "Uw bezwaar tegen factuur 2026-0012 is afgehandeld",
        "We hebben dit uitgezocht en de kwestie is nu afgehandeld (op 2 april 2026).",
    ),
    (
        PauseKind.DISPUTE,
        ConfirmationEvent.RESOLVED,
        "en",
        "Your objection to invoice 2026-0012 has been resolved",
        "We have looked into it, and the matter is now resolved (on 2 April 2026).",
    ),
    (
        PauseKind.MANUAL,
        ConfirmationEvent.LIFTED,
        "nl",
        "De pauze in onze herinneringen voor factuur 2026-0012 is voorbij",
        "Die pauze is nu voorbij (sinds 2 april 2026).",
    ),
    (
        PauseKind.MANUAL,
        ConfirmationEvent.LIFTED,
        "en",
        "The pause in our reminders for invoice 2026-0012 has ended",
        "That pause has now ended (on 2 April 2026).",
    ),
]


@pytest.mark.parametrize(("kind", "event", "language", "subject", "ended"), ENDED)
def test_an_ended_agreement_says_what_is_still_open_and_that_reminders_resume(
    tmp_path: Path,
    kind: PauseKind,
    event: ConfirmationEvent,
    language: str,
    subject: str,
    ended: str,
) -> None:
    partly_paid = invoice(amount_open=Decimal("834.56"))
    rendered = render(tmp_path, confirm(kind, event, language, invoices=(partly_paid,)))
    assert rendered[0] == subject
    assert_in_both(ended, rendered[1], rendered[2])
    if language == "nl":
        still_open = (
            f"Voor dit bedrag gaan we weer verder met onze herinneringen. Wilt u €{NBSP}834,56"
        )
    else:
        still_open = "Our reminders will resume for this amount. Could you please pay €834.56"
    assert_in_both(still_open, rendered[1], rendered[2])


@pytest.mark.parametrize("kind", list(CONFIRMATIONS))
@pytest.mark.parametrize("event", [ConfirmationEvent.LIFTED, ConfirmationEvent.RESOLVED])
def test_an_ended_agreement_with_nothing_open_asks_for_nothing(
    tmp_path: Path, kind: PauseKind, event: ConfirmationEvent
) -> None:
    settled = invoice(amount_open=Decimal("0"))
    _, text, html = render(tmp_path, confirm(kind, event, invoices=(settled,)))
    assert_in_both(
        "Volgens onze administratie staat er voor deze factuur niets meer open.", text, html
    )
    assert "Zo kunt u betalen" not in text and "verder met onze herinneringen" not in text


@pytest.mark.parametrize("kind", list(CONFIRMATIONS))
@pytest.mark.parametrize("event", list(ConfirmationEvent))
def test_a_confirmation_without_invoices_still_reads_well(
    tmp_path: Path, kind: PauseKind, event: ConfirmationEvent
) -> None:
    # OutgoingMessage needs invoices; the channel must cope when the engine sends none.
    empty = replace(confirm(kind, event), invoices=())
    subject, text, html = render(tmp_path, empty)
    assert "2026-0012" not in subject and "  " not in subject
    assert "Factuur " not in text  # no empty invoice table
    assert "2026-0012" in text and "2026-0012" in html  # named from the agreement itself
    assert "niets meer open" in text or event == ConfirmationEvent.SET


# --- delivery and check --------------------------------------------------------------------------


def test_a_confirmation_travels_through_a_real_smtp_server(
    smtp_server: SMTPTestServer, tmp_path: Path
) -> None:
    email = smtp_channel(smtp_server, tmp_path)
    arrangement = replace(confirm(PauseKind.ARRANGEMENT), idempotency_key="test:D012:confirm-7-set")
    discount = EarlyDiscount(Decimal("2"), date(2026, 3, 10), Decimal("24.69"), Decimal("1209.87"))
    courtesy = replace(
        message("en", template="courtesy-reminder", early_discount=discount),
        idempotency_key="test:D012:courtesy",
    )
    with email.connect() as connection:
        connection.send(arrangement)
        connection.send(courtesy)

    first, second = smtp_server.wait_for(2)
    mime = first.parsed()
    assert str(mime["Subject"]) == "Bevestiging van uw betalingsregeling voor factuur 2026-0012"
    assert mime["Content-Language"] == "nl" and first.key == "test:D012:confirm-7-set"
    text = mime.get_body(("plain",))
    assert text is not None
    content = text.get_content().replace("\r\n", "\n")
    assert re.search(rf"^3\s+1 juni 2026\s+€{NBSP}434,56$", content, re.M)
    english = second.parsed()
    assert str(english["Subject"]).endswith("pay early and save 2%")
    body = english.get_body(("html",))
    assert body is not None and "you save 2% (€24.69)" in flat(body.get_content())


def test_check_passes_for_every_shipped_template(tmp_path: Path) -> None:
    email = channel(tmp_path, delivery="file")
    steps = ["courtesy-reminder", "friendly-reminder-humorous", "thank-you", "confirm-pause"]
    email.check(steps)
    shipped = {name for _, name in email.renderer.template_sets()}
    assert set(BUILTIN_TEMPLATES + EXTRA_TEMPLATES) <= shipped


@pytest.mark.parametrize(
    ("file", "broken"),
    [
        (
            "confirm-pause.txt",
            '{% if confirmation.event == "lifted" %}{{ confirmation.untill }}{% endif %}',
        ),
        ("second-reminder.txt", "{% for note in resume_notes %}{{ note.promised_by }}{% endfor %}"),
        ("courtesy-reminder.txt", "{% if early_discount %}{{ early_discount.deadlne }}{% endif %}"),
    ],
)
def test_check_reaches_the_branches_of_the_new_context(
    tmp_path: Path, file: str, broken: str
) -> None:
    override = tmp_path / "mail-templates" / "nl"
    override.mkdir(parents=True)
    (override / file).write_text(f"Beste {{{{ greeting_name }}}},\n{broken}\n", encoding="utf-8")
    email = channel(tmp_path, delivery="file", templates="mail-templates")
    with pytest.raises(ConfigError) as failed:
        email.check()
    assert str(override / file) in str(failed.value)
