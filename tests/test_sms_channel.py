"""The sms channel: GSM-7/UCS-2 counting, recipients, texts, and MessageBird and Twilio as local
HTTP servers (pytest-httpserver) answering as their documentation says; end to end through
``dunning run``."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from pytest_httpserver import HTTPServer
from werkzeug import Request

from dunning.channels.sms import SmsChannel
from dunning.channels.sms.provider import provider_reference
from dunning.channels.sms.render import LADDER_TEMPLATES, SHIPPED_TEMPLATES, SmsRenderer
from dunning.channels.sms.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    Encoding,
    fold_to_gsm7,
    measure,
    non_gsm_characters,
)
from dunning.core.channel import PreviousContact
from dunning.core.cli import main
from dunning.core.errors import (
    BadRecipient,
    ChannelDown,
    ConfigError,
    OptedOut,
    SendError,
)
from dunning.core.http import AnswerLost
from dunning.core.models import Receipt
from dunning.core.plugins import load_registry
from tests.sms_fakes import (
    ACCESS_KEY,
    ACCOUNT_SID,
    AUTH_TOKEN,
    IBAN,
    MOBILE,
    SERVICE_SID,
    contact,
    debtor,
    invoice,
    messagebird,
    messagebird_created,
    messagebird_errors,
    outgoing,
    payment,
    silent_server,
    twilio,
    twilio_created,
    twilio_error,
)

MESSAGES = "/messages"
TWILIO_MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
PAY_URL = "https://pay.example.com/p/Xy12"


def send(channel: SmsChannel, **message: Any) -> Receipt:
    with channel.connect() as connection:
        return connection.send(outgoing(**message))


def text_of(channel: SmsChannel, **message: Any) -> str:
    return channel.renderer.render(outgoing(**message)).text


def requests_made(server: HTTPServer) -> list[Request]:
    return [request for request, _ in server.log]


# --- segments: GSM 03.38 and UCS-2 ----------------------------------------------------------------


def test_gsm7_tables_have_the_standard_sizes():
    assert len(GSM7_BASIC) == 127  # 128 positions less the escape
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("units", "segments"), [(0, 1), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3)]
)
def test_gsm7_text_fits_160_in_one_segment_and_153_per_part(units: int, segments: int):
    length = measure("a" * units)
    assert (length.encoding, length.units, length.segments) == (Encoding.GSM7, units, segments)


@pytest.mark.parametrize("char", sorted(GSM7_EXTENSION))
def test_extension_characters_count_two_septets(char: str):
    assert measure(char).units == 2
    assert measure(char * 80).segments == 1
    assert measure(char * 80 + "a").segments == 2


def test_euro_sign_is_gsm7_but_costs_two_septets():
    length = measure("Betaal € 12,50")
    assert length.encoding is Encoding.GSM7 and length.units == 15


def test_an_escape_sequence_is_never_split_over_two_parts():
    # 306 septets would fit two parts of 153, but the euro sign cannot start at septet 153
    text = "a" * 152 + "€" + "a" * 152
    assert measure(text).units == 306 and measure(text).segments == 3


@pytest.mark.parametrize(
    "char",
    [*"@£$¥èéùìòÇØøÅåÆæßÉÄÖÑÜ§¿äöñüà¡¤_", "\u0394", "\u03a9", "\u03a3", "\n", "\r"],
)
def test_accented_and_greek_characters_of_the_basic_table_stay_gsm7(char: str):
    assert measure(f"Beste {char}").encoding is Encoding.GSM7
    assert measure(char).units == 1


@pytest.mark.parametrize(
    "char",
    ["ë", "ï", "ç", "È", "á", "ó", "í", "ú", "ô", "ê", "`", "’", "“", "\xa0", "α", "ł", "😀"],
)
def test_characters_outside_gsm7_force_unicode(char: str):
    length = measure(f"Beste Chlo{char}")
    assert length.encoding is Encoding.UCS2
    assert non_gsm_characters(f"Beste {char}{char}") == [char]


@pytest.mark.parametrize(
    ("units", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_unicode_text_fits_70_in_one_segment_and_67_per_part(units: int, segments: int):
    length = measure("ë" * units)
    assert (length.encoding, length.units, length.segments) == (Encoding.UCS2, units, segments)


def test_an_emoji_counts_two_units_and_is_never_split():
    assert measure("😀" * 35).units == 70 and measure("😀" * 35).segments == 1
    assert measure("😀" * 36).segments == 2
    text = "ë" * 66 + "😀" + "ë" * 66  # 134 units, but the emoji cannot straddle parts
    assert measure(text).units == 134 and measure(text).segments == 3


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Beste Chloë, ’t is € 5", "Beste Chloe, 't is € 5"),
        ("Straße “Noël” – François…", 'Straße "Noel" - Francois...'),
        ("Beste\xa0Jan", "Beste Jan"),
        ("Hallo Jan", "Hallo Jan"),
    ],
)
def test_folding_writes_look_alikes_to_make_the_text_gsm7(text: str, folded: str):
    assert fold_to_gsm7(text) == folded
    assert measure(folded).encoding is Encoding.GSM7


@pytest.mark.parametrize("text", ["Beste Chloë 😀", "Beste Σοφία", "Łódź"])
def test_folding_leaves_a_text_alone_that_stays_unicode_anyway(text: str):
    assert fold_to_gsm7(text) == text


def test_describe_names_segments_encoding_and_units():
    assert measure("Hallo").describe() == "1 segment (GSM-7, 5 septets)"
    assert measure("ë" * 71).describe() == "2 segments (unicode, 71 UCS-2 units)"


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=700))
def test_gsm7_count_matches_the_table_for_any_text(text: str):
    length = measure(text)
    assert length.encoding is Encoding.GSM7
    assert length.units == len(text) + sum(char in GSM7_EXTENSION for char in text)
    assert (length.segments == 1) == (length.units <= 160)
    assert length.segments * 153 >= length.units


@given(st.text(min_size=1, max_size=300))
def test_any_text_needs_at_least_the_parts_its_units_fill(text: str):
    length = measure(text)
    single, part = (160, 153) if length.encoding is Encoding.GSM7 else (70, 67)
    if length.units <= single:
        assert length.segments == 1
    else:
        assert length.segments >= -(-length.units // part)


# --- configuration ------------------------------------------------------------------------------


def test_keys_of_the_other_provider_are_an_error(tmp_path: Path):
    with pytest.raises(ValidationError, match="'auth_token' belongs to provider twilio"):
        messagebird("http://127.0.0.1:1", tmp_path, auth_token="x")
    with pytest.raises(ValidationError, match="'access_key', 'originator' belong to provider"):
        twilio("http://127.0.0.1:1", tmp_path, access_key="x", originator="Voorbeeld")


@pytest.mark.parametrize("originator", ["Voorbeeld", "+31612345678", "3197010000000", "VB 2026"])
def test_originator_is_a_number_or_at_most_eleven_letters_and_digits(
    tmp_path: Path, originator: str
):
    channel = messagebird("http://127.0.0.1:1", tmp_path, originator=originator)
    assert channel.settings.originator


@pytest.mark.parametrize("originator", ["VoorbeeldBV12", "Voorbeeld!", "", "+31-6-1234"])
def test_a_bad_originator_is_refused_with_the_rule(tmp_path: Path, originator: str):
    with pytest.raises(ValidationError, match="at most 11 letters and digits"):
        messagebird("http://127.0.0.1:1", tmp_path, originator=originator)


def test_twilio_needs_exactly_one_sender(tmp_path: Path):
    with pytest.raises(ValidationError, match="exactly one of from_number"):
        twilio("http://127.0.0.1:1", tmp_path, messaging_service_sid=SERVICE_SID)
    with pytest.raises(ValidationError, match="exactly one of from_number"):
        twilio("http://127.0.0.1:1", tmp_path, from_number=None)


def test_missing_credentials_and_unknown_keys_are_errors(tmp_path: Path):
    with pytest.raises(ValidationError, match="needs access_key"):
        messagebird("http://127.0.0.1:1", tmp_path, access_key="")
    with pytest.raises(ValidationError, match="account_sid: 'AC' followed by 32"):
        twilio("http://127.0.0.1:1", tmp_path, account_sid="AC123")
    with pytest.raises(ValidationError, match="extra"):
        messagebird("http://127.0.0.1:1", tmp_path, sender="Voorbeeld")


def test_secrets_never_show_in_the_config_repr(tmp_path: Path):
    assert ACCESS_KEY not in repr(messagebird("http://127.0.0.1:1", tmp_path).settings)
    assert AUTH_TOKEN not in repr(twilio("http://127.0.0.1:1", tmp_path).settings)


def test_default_base_urls_are_the_public_apis(tmp_path: Path):
    assert messagebird(None, tmp_path).settings.api_base == "https://rest.messagebird.com"
    assert twilio(None, tmp_path).settings.api_base == "https://api.twilio.com"


def test_the_channel_comes_through_the_entry_point():
    registry = load_registry()
    assert registry.channel("sms") is SmsChannel
    assert registry.provided_by[("channel", "sms")] == "sms"


# --- recipient ----------------------------------------------------------------------------------


@pytest.fixture
def channel(tmp_path: Path) -> SmsChannel:
    return messagebird("http://127.0.0.1:1", tmp_path)


def test_a_dutch_mobile_number_is_normalised_to_e164(channel: SmsChannel):
    assert channel.recipient(debtor(phone="06 12345678")) == MOBILE
    assert channel.recipient(debtor(phone="+31 (0)6-1234 5678")) == MOBILE


def test_a_landline_is_a_bad_recipient_naming_debtor_and_number(channel: SmsChannel):
    with pytest.raises(BadRecipient) as caught:
        channel.recipient(debtor(phone="020 123 4567"))
    assert str(caught.value) == (
        "debtor D1 (Bakker B.V.): 020 123 4567 is a landline, SMS needs a mobile number; "
        "add one in the source"
    )


def test_a_contact_persons_mobile_is_used_when_the_main_number_is_a_landline(
    channel: SmsChannel,
):
    person = debtor(phone="020 123 4567", contacts=(contact("06 87654321"),))
    assert channel.recipient(person) == "+31687654321"


def test_a_managers_mobile_is_never_texted(channel: SmsChannel):
    person = debtor(phone="020 123 4567", contacts=(contact("06 87654321", role="management"),))
    with pytest.raises(BadRecipient, match="is a landline"):
        channel.recipient(person)


def test_a_belgian_mobile_is_read_with_the_debtors_country(channel: SmsChannel):
    assert channel.recipient(debtor(phone="0470 12 34 56", country="BE")) == "+32470123456"
    with pytest.raises(BadRecipient, match="not a valid phone number for NL"):
        channel.recipient(debtor(phone="0470 12 34 56"))


def test_a_number_that_may_be_mobile_is_accepted(channel: SmsChannel):
    assert channel.recipient(debtor(phone="+1 415 555 2671")) == "+14155552671"


@pytest.mark.parametrize(
    ("phone", "problem"),
    [
        ("12345", "not a valid phone number"),
        ("bel maar", "is not a phone number"),
        ("085 123 4567", r"is an internet \(VoIP\) number"),
        ("0800 0123", "is a toll-free number"),
    ],
)
def test_invalid_and_non_mobile_numbers_are_bad_recipients(
    channel: SmsChannel, phone: str, problem: str
):
    with pytest.raises(BadRecipient, match=rf"debtor D1 \(Bakker B\.V\.\): .*{problem}"):
        channel.recipient(debtor(phone=phone))


def test_a_debtor_without_a_phone_is_a_bad_recipient(channel: SmsChannel):
    with pytest.raises(BadRecipient, match=r"debtor D1 \(Bakker B\.V\.\) has no phone number"):
        channel.recipient(debtor(phone=None))


# --- texts --------------------------------------------------------------------------------------


def test_text_is_personal_with_amount_invoice_and_payment_link(channel: SmsChannel):
    text = text_of(channel, pay=payment(url=PAY_URL))
    assert text.startswith("Beste Jan,")
    assert "factuur 2026-0012 (€ 1.234,56)" in text
    assert f"Betaal via {PAY_URL}" in text
    assert IBAN not in text
    assert text.endswith("\nVoorbeeld B.V.")


def test_without_a_payment_link_the_text_gives_iban_and_reference(channel: SmsChannel):
    text = text_of(channel, pay=payment(url=None, reference="RF18 5390 0754 7034"))
    assert f"Maak € 1.234,56 over naar {IBAN} o.v.v. RF18 5390 0754 7034." in text
    assert "http" not in text


def test_without_payment_details_the_creditors_iban_and_invoice_numbers_are_used(
    channel: SmsChannel,
):
    two = (invoice("2026-0012"), invoice("2026-0013", amount="100.00"))
    text = text_of(channel, invoices=two, pay=None)
    assert "facturen 2026-0012 en 2026-0013 (€ 1.334,56)" in text
    assert f"over naar {IBAN} o.v.v. 2026-0012, 2026-0013." in text


def test_english_debtors_get_english_text_and_money_format(channel: SmsChannel):
    text = text_of(channel, to=debtor(language="en"), pay=payment(url=PAY_URL))
    assert text.startswith("Dear Jan,")
    assert "invoice 2026-0012 (€1,234.56)" in text and f"Pay here: {PAY_URL}" in text


def test_unknown_language_falls_back_to_english_and_english_to_dutch(channel: SmsChannel):
    assert text_of(channel, to=debtor(language="de")).startswith("Dear Jan,")
    letter = text_of(channel, to=debtor(language="en"), template="nl-14-day-letter")
    assert letter.startswith("14-DAGENBRIEF van Voorbeeld B.V.")
    assert "binnen 14 dagen na de dag waarop u dit bericht ontvangt" in letter


def test_many_invoices_name_two_and_count_the_rest(channel: SmsChannel):
    four = tuple(invoice(f"2026-00{n}", amount="10.00") for n in range(10, 14))
    assert "facturen 2026-0010, 2026-0011 en 2 andere (€ 40,00)" in text_of(channel, invoices=four)
    english = text_of(channel, to=debtor(language="en"), invoices=four)
    assert "invoices 2026-0010, 2026-0011 and 2 more (€40.00)" in english


def test_later_steps_mention_the_first_earlier_reminder_only_when_there_was_one(
    channel: SmsChannel,
):
    earlier = (PreviousContact("friendly-reminder", date(2026, 3, 6), "sms"),)
    assert "ondanks onze herinnering van 6 maart" in text_of(
        channel, template="second-reminder", previous=earlier
    )
    assert "herinnering van" not in text_of(channel, template="second-reminder")


def test_the_contact_name_or_debtor_name_greets_when_there_is_no_first_name(
    channel: SmsChannel,
):
    assert text_of(channel, to=debtor(first_name=None)).startswith("Beste Jan Bakker,")
    nameless = debtor(first_name=None, contact_name=None)
    assert text_of(channel, to=nameless).startswith("Beste Bakker B.V.,")


@pytest.mark.parametrize(
    ("language", "template"),
    [(lang, t) for lang in ("nl", "en") for t in LADDER_TEMPLATES] + [("nl", "nl-14-day-letter")],
)
def test_every_shipped_text_is_gsm7_within_three_segments(
    channel: SmsChannel, language: str, template: str
):
    long_creditor = replace(outgoing().creditor, name="Voorbeeld Installatietechniek B.V.")
    for invoices, pay in [
        ((invoice(),), payment(url=PAY_URL)),
        ((invoice(), invoice("2026-0013")), payment(reference="2026-0012, 2026-0013")),
    ]:
        message = replace(
            outgoing(
                to=debtor(language=language),
                invoices=invoices,
                template=template,
                pay=pay,
                previous=(PreviousContact("friendly-reminder", date(2026, 3, 6), "sms"),),
            ),
            creditor=long_creditor,
        )
        rendered = channel.renderer.render(message)
        assert rendered.template_file == f"{language}/{template}.txt"
        length = measure(rendered.text)
        assert length.encoding is Encoding.GSM7, non_gsm_characters(rendered.text)
        assert length.segments <= 3, rendered.text
        assert "  " not in rendered.text and "{" not in rendered.text


def test_shipped_templates_exist_in_both_languages():
    renderer = SmsRenderer(None)
    for template in SHIPPED_TEMPLATES:
        assert renderer.language_for(template, "nl") == "nl"
        expected = "nl" if template == "nl-14-day-letter" else "en"
        assert renderer.language_for(template, "en") == expected


def test_override_folder_beats_the_built_in_text(tmp_path: Path):
    (tmp_path / "sms" / "nl").mkdir(parents=True)
    (tmp_path / "sms" / "nl" / "friendly-reminder.txt").write_text(
        "Hoi {{ name }}, nog {{ money(amount) }} open.\n\n{{ creditor.name }}\n", encoding="utf-8"
    )
    channel = messagebird("http://127.0.0.1:1", tmp_path, templates="sms")
    channel.check(["friendly-reminder", "final-demand"])
    assert text_of(channel) == "Hoi Jan, nog € 1.234,56 open.\nVoorbeeld B.V."


def test_check_names_a_missing_template_and_folder(tmp_path: Path):
    channel = messagebird("http://127.0.0.1:1", tmp_path)
    with pytest.raises(ConfigError, match="no SMS template 'thank-you-card'"):
        channel.check(["friendly-reminder", "thank-you-card"])
    with pytest.raises(ConfigError, match=r"templates folder .*missing"):
        messagebird("http://127.0.0.1:1", tmp_path, templates="nowhere").check()


def test_a_broken_override_fails_the_message_not_the_run(tmp_path: Path):
    (tmp_path / "nl").mkdir()
    (tmp_path / "nl" / "friendly-reminder.txt").write_text("Hoi {{ nam }}", encoding="utf-8")
    channel = messagebird("http://127.0.0.1:1", tmp_path, templates=".")
    with pytest.raises(SendError, match=r"nl/friendly-reminder.txt cannot be rendered") as caught:
        send(channel)
    assert caught.value.retryable is False


def test_a_text_longer_than_max_segments_is_refused_naming_the_template(
    httpserver: HTTPServer, tmp_path: Path
):
    channel = messagebird(httpserver.url_for(""), tmp_path, max_segments=1)
    with pytest.raises(SendError) as caught:
        send(channel)
    assert caught.value.retryable is False and not caught.value.bad_recipient
    assert "SMS template nl/friendly-reminder.txt gives 2 segments" in str(caught.value)
    assert "more than max_segments 1" in str(caught.value)
    assert requests_made(httpserver) == []


def test_a_unicode_text_too_long_says_which_characters_made_it_unicode(
    httpserver: HTTPServer, tmp_path: Path
):
    channel = messagebird(httpserver.url_for(""), tmp_path, max_segments=2, fold_to_gsm=False)
    with pytest.raises(SendError, match=r"unicode because of 'ë'"):
        send(channel, to=debtor(first_name="Chloë"))


# --- MessageBird --------------------------------------------------------------------------------


def test_messagebird_gets_the_documented_json_and_the_receipt_reports_segments(
    httpserver: HTTPServer, tmp_path: Path
):
    message = outgoing(pay=payment(url=PAY_URL))
    reference = provider_reference(message.idempotency_key)
    httpserver.expect_oneshot_request(
        MESSAGES, method="POST", headers={"Authorization": f"AccessKey {ACCESS_KEY}"}
    ).respond_with_json(messagebird_created("...", reference, parts=2), status=201)
    channel = messagebird(httpserver.url_for(""), tmp_path)
    with channel.connect() as connection:
        receipt = connection.send(message)

    [request] = requests_made(httpserver)
    assert request.content_type == "application/json"
    body = request.get_json()
    assert body["originator"] == "Voorbeeld"
    assert body["recipients"] == ["31612345678"]
    assert body["reference"] == reference and reference.startswith("dunning-")
    assert body["datacoding"] == "plain"
    assert body["body"] == channel.renderer.render(message).text
    assert receipt.provider_message_id == "e8077d803532c0b5937c639b60216938"
    length = measure(body["body"])
    assert length.segments == 2
    assert receipt.detail == (
        f"MessageBird SMS to {MOBILE}: {length.describe()}, MessageBird counts 2; "
        f"reference {reference}"
    )


def test_reference_is_stable_per_idempotency_key():
    assert provider_reference("k:1") == provider_reference("k:1") != provider_reference("k:2")
    assert len(provider_reference("k:1")) == len("dunning-") + 16


@pytest.mark.parametrize(
    ("name", "fold", "sent", "datacoding"),
    [
        ("Chloë", True, "Beste Chloe,", "plain"),
        ("Chloë", False, "Beste Chloë,", "unicode"),
        ("Σοφία", True, "Beste Σοφία,", "unicode"),
    ],
)
def test_messagebird_datacoding_follows_the_text_as_sent(
    httpserver: HTTPServer, tmp_path: Path, name: str, fold: bool, sent: str, datacoding: str
):
    httpserver.expect_oneshot_request(MESSAGES).respond_with_json(
        messagebird_created("...", "r"), status=201
    )
    channel = messagebird(httpserver.url_for(""), tmp_path, fold_to_gsm=fold, max_segments=5)
    send(channel, to=debtor(first_name=name))
    body = requests_made(httpserver)[0].get_json()
    assert body["body"].startswith(sent) and body["datacoding"] == datacoding


def test_messagebird_bad_access_key_stops_the_channel_without_showing_the_key(
    httpserver: HTTPServer, tmp_path: Path
):
    httpserver.expect_request(MESSAGES).respond_with_json(
        messagebird_errors((2, "Request not allowed (incorrect access_key)", "access_key")),
        status=401,
    )
    with pytest.raises(ChannelDown, match="check access_key") as caught:
        send(messagebird(httpserver.url_for(""), tmp_path))
    assert "code 2: Request not allowed" in str(caught.value)
    assert ACCESS_KEY not in str(caught.value)
    assert len(requests_made(httpserver)) == 1


def test_messagebird_without_balance_stops_the_channel(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request(MESSAGES).respond_with_json(
        messagebird_errors((25, "Not enough balance", "")), status=422
    )
    with pytest.raises(ChannelDown, match=r"not enough balance.*top up"):
        send(messagebird(httpserver.url_for(""), tmp_path))


@pytest.mark.parametrize("code", [9, 10, 21])
def test_messagebird_refusing_the_recipient_is_a_bad_recipient(
    httpserver: HTTPServer, tmp_path: Path, code: int
):
    httpserver.expect_request(MESSAGES).respond_with_json(
        messagebird_errors((code, "no (correct) recipients found", "recipients")), status=422
    )
    with pytest.raises(BadRecipient) as caught:
        send(messagebird(httpserver.url_for(""), tmp_path))
    assert not isinstance(caught.value, ChannelDown | OptedOut)
    assert f"number {MOBILE} of debtor D1 (Bakker B.V.)" in str(caught.value)
    assert f"code {code}: no (correct) recipients found (recipients)" in str(caught.value)


def test_messagebird_other_422_is_a_permanent_failure_quoting_the_error(
    httpserver: HTTPServer, tmp_path: Path
):
    httpserver.expect_request(MESSAGES).respond_with_json(
        messagebird_errors((10, "originator is invalid", "originator")), status=422
    )
    with pytest.raises(SendError) as caught:
        send(messagebird(httpserver.url_for(""), tmp_path))
    error = caught.value
    assert type(error) is SendError and not error.retryable and not error.bad_recipient
    assert "422 UNPROCESSABLE ENTITY (code 10: originator is invalid (originator))" in str(error)


def test_messagebird_429_waits_for_retry_after_then_succeeds(
    httpserver: HTTPServer, tmp_path: Path
):
    httpserver.expect_ordered_request(MESSAGES).respond_with_json(
        messagebird_errors((99, "Too many requests", "")), status=429, headers={"Retry-After": "0"}
    )
    httpserver.expect_ordered_request(MESSAGES).respond_with_json(
        messagebird_created("...", "r"), status=201
    )
    receipt = send(messagebird(httpserver.url_for(""), tmp_path))
    assert receipt.provider_message_id == "e8077d803532c0b5937c639b60216938"
    assert len(requests_made(httpserver)) == 2


def test_messagebird_retry_after_beyond_the_limit_is_retried_on_a_later_run(
    httpserver: HTTPServer, tmp_path: Path
):
    httpserver.expect_request(MESSAGES).respond_with_data(
        "", status=429, headers={"Retry-After": "3600"}
    )
    with pytest.raises(SendError, match="asks to wait 3600 s") as caught:
        send(messagebird(httpserver.url_for(""), tmp_path))
    assert caught.value.retryable and not isinstance(caught.value, ChannelDown)
    assert len(requests_made(httpserver)) == 1


def test_messagebird_503_is_tried_again(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_ordered_request(MESSAGES).respond_with_data("busy", status=503)
    httpserver.expect_ordered_request(MESSAGES).respond_with_json(
        messagebird_created("...", "r"), status=201
    )
    assert send(messagebird(httpserver.url_for(""), tmp_path)).provider_message_id
    assert len(requests_made(httpserver)) == 2


def test_messagebird_down_for_every_attempt_is_retried_on_a_later_run(
    httpserver: HTTPServer, tmp_path: Path
):
    httpserver.expect_request(MESSAGES).respond_with_data("<html>down</html>", status=502)
    with pytest.raises(SendError, match=r"answered 502 BAD GATEWAY \(3 attempts\)") as caught:
        send(messagebird(httpserver.url_for(""), tmp_path))
    assert caught.value.retryable
    assert len(requests_made(httpserver)) == 3


@pytest.mark.timeout(30)
def test_a_provider_that_never_answers_is_not_sent_to_again(tmp_path: Path):
    """The request went out: without an idempotency key a second one could text twice, so
    the message becomes uncertain (not a SendError) and is not repeated."""
    with silent_server() as url:
        channel = messagebird(url, tmp_path, timeout=0.2, max_attempts=2)
        with pytest.raises(AnswerLost, match=r"none within 0\.2 s") as caught:
            send(channel)
    assert not isinstance(caught.value, SendError)


def test_messagebird_201_with_an_unreadable_body_counts_as_accepted(
    httpserver: HTTPServer, tmp_path: Path
):
    httpserver.expect_request(MESSAGES).respond_with_data(
        "{not json", status=201, content_type="application/json"
    )
    message = outgoing()
    channel = messagebird(httpserver.url_for(""), tmp_path)
    with channel.connect() as connection:
        receipt = connection.send(message)
    reference = provider_reference(message.idempotency_key)
    assert receipt.provider_message_id == reference
    assert "accepted the SMS" in receipt.detail and "unreadable ({not json)" in receipt.detail
    assert len(requests_made(httpserver)) == 1


# --- Twilio -------------------------------------------------------------------------------------


def test_twilio_gets_a_form_with_basic_auth_and_the_receipt_has_the_sid(
    httpserver: HTTPServer, tmp_path: Path
):
    message = outgoing(pay=payment(url=PAY_URL))
    channel = twilio(httpserver.url_for(""), tmp_path)
    text = channel.renderer.render(message).text
    httpserver.expect_oneshot_request(TWILIO_MESSAGES, method="POST").respond_with_json(
        twilio_created(MOBILE, text), status=201
    )
    with channel.connect() as connection:
        receipt = connection.send(message)

    [request] = requests_made(httpserver)
    assert request.content_type == "application/x-www-form-urlencoded"
    assert request.authorization is not None
    assert (request.authorization.username, request.authorization.password) == (
        ACCOUNT_SID,
        AUTH_TOKEN,
    )
    form = parse_qs(request.get_data(as_text=True), strict_parsing=True)
    assert form == {"To": [MOBILE], "From": ["+3197010000000"], "Body": [text]}
    assert receipt.provider_message_id.startswith("SM")
    reference = provider_reference(message.idempotency_key)
    assert receipt.detail == (
        f"Twilio SMS to {MOBILE}, status queued: {measure(text).describe()}, Twilio counts 2; "
        f"reference {reference}"
    )


def test_twilio_messaging_service_replaces_from(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request(TWILIO_MESSAGES).respond_with_json(
        twilio_created(MOBILE, "..."), status=201
    )
    channel = twilio(
        httpserver.url_for(""), tmp_path, from_number=None, messaging_service_sid=SERVICE_SID
    )
    send(channel)
    form = parse_qs(requests_made(httpserver)[0].get_data(as_text=True))
    assert form["MessagingServiceSid"] == [SERVICE_SID] and "From" not in form


@pytest.mark.parametrize(
    ("status", "code", "message", "error", "says"),
    [
        (401, 20003, "Authenticate", ChannelDown, "check account_sid and auth_token"),
        (400, 21211, "The 'To' number is not valid", BadRecipient, "not a valid phone number"),
        (400, 21612, "Cannot route to this number", BadRecipient, "cannot route an SMS"),
        (400, 21614, "'To' number is not a valid mobile", BadRecipient, "not a mobile number"),
        (400, 21610, "Attempt to send to unsubscribed recipient", OptedOut, "replied STOP"),
        (400, 21606, "'From' is not a valid SMS-capable number", ChannelDown, "use a number"),
        (400, 21608, "The number is unverified", ChannelDown, "trial account"),
    ],
)
def test_twilio_error_codes_are_classified(
    httpserver: HTTPServer,
    tmp_path: Path,
    status: int,
    code: int,
    message: str,
    error: type[SendError],
    says: str,
):
    httpserver.expect_request(TWILIO_MESSAGES).respond_with_json(
        twilio_error(code, message, status), status=status
    )
    with pytest.raises(SendError) as caught:
        send(twilio(httpserver.url_for(""), tmp_path))
    assert type(caught.value) is error
    assert says in str(caught.value) and f"Twilio {code}: {message}" in str(caught.value)
    assert AUTH_TOKEN not in str(caught.value)
    assert len(requests_made(httpserver)) == 1


def test_twilio_opt_out_names_debtor_and_number(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request(TWILIO_MESSAGES).respond_with_json(
        twilio_error(21610, "Attempt to send to unsubscribed recipient"), status=400
    )
    with pytest.raises(OptedOut) as caught:
        send(twilio(httpserver.url_for(""), tmp_path))
    assert str(caught.value).startswith(
        f"debtor D1 (Bakker B.V.) unsubscribed from SMS at {MOBILE} (they replied STOP; "
    )


def test_twilio_other_errors_are_permanent_and_quote_code_message_and_link(
    httpserver: HTTPServer, tmp_path: Path
):
    httpserver.expect_request(TWILIO_MESSAGES).respond_with_json(
        twilio_error(21617, "The concatenated message body exceeds the 1600 character limit"),
        status=400,
    )
    with pytest.raises(SendError) as caught:
        send(twilio(httpserver.url_for(""), tmp_path))
    assert type(caught.value) is SendError and not caught.value.retryable
    assert "Twilio 21617: The concatenated message body exceeds" in str(caught.value)
    assert "https://www.twilio.com/docs/errors/21617" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body"),
    [(429, twilio_error(20429, "Too Many Requests", 429)), (500, {"message": "oops"})],
)
def test_twilio_429_and_5xx_are_tried_again(
    httpserver: HTTPServer, tmp_path: Path, status: int, body: dict[str, Any]
):
    httpserver.expect_ordered_request(TWILIO_MESSAGES).respond_with_json(
        body, status=status, headers={"Retry-After": "0"}
    )
    httpserver.expect_ordered_request(TWILIO_MESSAGES).respond_with_json(
        twilio_created(MOBILE, "..."), status=201
    )
    assert send(twilio(httpserver.url_for(""), tmp_path)).provider_message_id.startswith("SM")
    assert len(requests_made(httpserver)) == 2


def test_twilio_20429_with_another_status_is_still_tried_again(
    httpserver: HTTPServer, tmp_path: Path
):
    httpserver.expect_request(TWILIO_MESSAGES).respond_with_json(
        twilio_error(20429, "Too Many Requests", 400), status=400
    )
    with pytest.raises(SendError, match=r"Twilio 20429.*\(3 attempts\)") as caught:
        send(twilio(httpserver.url_for(""), tmp_path))
    assert caught.value.retryable
    assert len(requests_made(httpserver)) == 3


def test_twilio_201_with_an_unreadable_body_counts_as_accepted(
    httpserver: HTTPServer, tmp_path: Path
):
    httpserver.expect_request(TWILIO_MESSAGES).respond_with_data("<Response/>", status=201)
    receipt = send(twilio(httpserver.url_for(""), tmp_path))
    assert receipt.provider_message_id.startswith("dunning-")
    assert "unreadable (<Response/>)" in receipt.detail


# --- end to end through the CLI -----------------------------------------------------------------

HEADER = (
    "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;telefoon;taal;"
    "factuurdatum;vervaldatum;bedrag"
)
ROWS = [
    "F-1;D1;Bakker B.V.;Jan Bakker;jan@bakker.nl;06 12345678;nl;01-02-2026;01-03-2026;150,00",
    "F-2;D2;Vast B.V.;Piet Vast;piet@vast.nl;020 123 4567;nl;01-02-2026;01-03-2026;99,00",
]
LADDER = """\
      - {name: friendly-reminder, after_due: 3, channel: sms, template: friendly-reminder}
      - {name: second-reminder, after_previous: 7, channel: sms, template: second-reminder}
"""


class Project:
    """invoices.csv and a pipelines.yaml with one ``sms`` channel, run through the real CLI."""

    def __init__(self, folder: Path, channel: dict[str, str]) -> None:
        self.folder = folder
        (folder / "invoices.csv").write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
        settings = "".join(f"        {key}: {value}\n" for key, value in channel.items())
        self.config = folder / "pipelines.yaml"
        self.config.write_text(
            f"""\
pipelines:
  main:
    creditor: {{name: Voorbeeld B.V., iban: NL91ABNA0417164300}}
    source: {{type: csv, path: invoices.csv}}
    calendar: {{business_days_only: false, quiet_channels: []}}
    channels:
      sms:
        type: sms
{settings}    steps:
{LADDER}""",
            encoding="utf-8",
        )

    def __call__(self, *args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(main, [*args, "--config", str(self.config)])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    def run(self, day: str) -> dict[str, Any]:
        code, out, err = self("run", "--date", day, "--quiet", "--json")
        assert code in (0, 1), err
        [summary] = json.loads(out)
        return summary


def test_a_run_texts_the_mobile_debtor_once_and_reports_the_landline(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MB_KEY", ACCESS_KEY)
    httpserver.expect_request(MESSAGES, method="POST").respond_with_json(
        messagebird_created("...", "r"), status=201
    )
    project = Project(
        tmp_path,
        {
            "provider": "messagebird",
            "access_key": "${MB_KEY}",
            "base_url": httpserver.url_for(""),
            "originator": "Voorbeeld",
            "retry_wait_seconds": "0",
        },
    )
    assert project("check")[0] == 0

    first = project.run("2026-03-04")
    assert first["sent"] == 1 and first["bad_recipients"] == 1
    assert any("020 123 4567 is a landline" in line for line in first["problems"])
    [request] = requests_made(httpserver)
    assert request.headers["Authorization"] == f"AccessKey {ACCESS_KEY}"
    body = request.get_json()
    assert body["recipients"] == ["31612345678"] and body["originator"] == "Voorbeeld"
    assert body["body"].startswith("Beste Jan, ")
    assert "factuur F-1 (€ 150,00)" in body["body"]
    assert "NL91ABNA0417164300" in body["body"]
    assert body["reference"].startswith("dunning-") and body["datacoding"] == "plain"

    again = project.run("2026-03-04")
    assert again["sent"] == 0
    assert len(requests_made(httpserver)) == 1


def test_other_providers_keys_fail_the_check_without_showing_the_secret(tmp_path: Path):
    project = Project(
        tmp_path,
        {
            "provider": "messagebird",
            "access_key": "k",
            "originator": "Voorbeeld",
            "auth_token": "hunter2",
        },
    )
    code, _, err = project("check")
    assert code == 2
    assert "'auth_token' belongs to provider twilio" in err and "hunter2" not in err


def test_a_debtor_who_opted_out_is_not_texted_again(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TWILIO_TOKEN", AUTH_TOKEN)
    httpserver.expect_request(TWILIO_MESSAGES, method="POST").respond_with_json(
        twilio_error(21610, "Attempt to send to unsubscribed recipient"), status=400
    )
    project = Project(
        tmp_path,
        {
            "provider": "twilio",
            "account_sid": ACCOUNT_SID,
            "auth_token": "${TWILIO_TOKEN}",
            "from_number": "'+3197010000000'",
            "base_url": httpserver.url_for(""),
            "retry_wait_seconds": "0",
        },
    )
    first = project.run("2026-03-04")
    assert first["sent"] == 0
    assert any(
        "debtor D1 (Bakker B.V.) unsubscribed from SMS at +31612345678" in line
        and "remembered" in line
        for line in first["problems"]
    ), first["problems"]
    assert len(requests_made(httpserver)) == 1

    day = date(2026, 3, 4)
    later = [project.run(str(day + timedelta(days=n))) for n in range(1, 12)]
    assert len(requests_made(httpserver)) == 1
    problems = [line for summary in later for line in summary["problems"]]
    assert any(
        "debtor D1 (Bakker B.V.) opted out of sms at +31612345678" in line for line in problems
    ), problems


@pytest.mark.timeout(30)
def test_a_provider_that_hangs_up_after_the_request_is_not_sent_to_again(tmp_path: Path):
    """The server reads the request and closes the connection without an answer: the text may
    have gone out, so it is not sent again (one request, the message becomes uncertain)."""
    import socket
    import threading

    received: list[bytes] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            received.append(connection.recv(65536))
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        channel = messagebird(url, tmp_path, timeout=2, max_attempts=3)
        with pytest.raises(AnswerLost, match="the connection broke"):
            send(channel)
    finally:
        listener.close()
    assert len(received) == 1


def test_a_provider_that_is_not_running_is_retried_later(tmp_path: Path):
    """Nothing listens: nothing was sent, so the attempts are repeated and then deferred."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = messagebird(f"http://127.0.0.1:{port}", tmp_path, timeout=2, max_attempts=2)
    with pytest.raises(SendError) as caught:
        send(channel)
    assert caught.value.retryable
