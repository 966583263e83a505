"""The whatsapp channel against a local HTTP server that answers like the Cloud API (3.3).

The fake checks the Bearer token and answers a template message with the contract's body
(``contacts[0].wa_id``, ``messages[0].id``), or with a scripted answer: Graph API errors, a
rate limit with ``Retry-After``, a 5xx page, a slow or broken answer. The last tests run the
real CLI against it: a pipeline whose ladder goes out over WhatsApp.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from dunning.channels.whatsapp import WhatsAppChannel, WhatsAppConfig
from dunning.channels.whatsapp.answers import UnreadableAnswer
from dunning.core.channel import ChannelContext, OutgoingMessage
from dunning.core.cli import main
from dunning.core.errors import BadRecipient, ChannelDown, ConfigError, OptedOut, SendError
from dunning.core.http import AnswerLost
from dunning.core.models import Creditor, Debtor, Invoice, PaymentDetails, Receipt
from dunning.core.plugins import load_registry
from dunning.core.testing.channels import ChannelUnderTest, check_channel
from tests.smtp_server import free_port

NBSP = "\xa0"
TOKEN = "EAAG-test-token"
PHONE_NUMBER_ID = "106540352242922"
PATH = f"/v21.0/{PHONE_NUMBER_ID}/messages"
CREDITOR = Creditor(name="Acme B.V.", phone="020 123 4567", iban="NL91ABNA0417164300")
REMINDER = {
    "name": "payment_reminder",
    "languages": {"en": "en_GB"},
    "parameters": ["first_name", "invoice_numbers", "amount", "due_date", "payment_link"],
}


# --- the fake Cloud API ------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def to(self) -> str:
        return str(self.body["to"])

    @property
    def template(self) -> dict[str, Any]:
        return dict(self.body["template"])

    @property
    def texts(self) -> list[str]:
        [body] = [c for c in self.template["components"] if c["type"] == "body"]
        return [p["text"] for p in body["parameters"]]


def graph_error(
    status: int,
    code: int,
    message: str = "error",
    details: str = "details",
    *,
    subcode: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A Graph API error answer as the Cloud API sends it."""
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": "AbCdEf123",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return Response(
        json.dumps({"error": error}),
        status=status,
        headers=headers,
        content_type="application/json",
    )


@dataclass
class CloudApi:
    """The messages endpoint of one business number: records what it gets, answers as told.

    ``script`` answers the next requests in turn; ``refuse`` answers every request to a number
    the same way; ``failure`` (one of the kit's failure kinds) answers every request with such
    an error; everything else is accepted and counted in ``accepted``."""

    server: HTTPServer
    received: list[Received] = field(default_factory=list)
    script: list[Response] = field(default_factory=list)
    refuse: dict[str, Response] = field(default_factory=dict)
    delay: float = 0.0
    failure: str | None = None
    accepted: int = 0

    def __post_init__(self) -> None:
        self.server.expect_request(PATH, method="POST").respond_with_handler(self.answer)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def answer(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        self.received.append(Received(dict(request.headers), body))
        if self.delay:
            time.sleep(self.delay)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return graph_error(401, 190, "Error validating access token", "Session has expired")
        if self.script:
            return self.script.pop(0)
        to = str(body.get("to"))
        if to in self.refuse:
            return self.refuse[to]
        if self.failure is not None:
            return KIT_FAILURES[self.failure]()
        self.accepted += 1
        wamid = f"wamid.HBgL{to}{len(self.received):04d}FQIAERgS"
        return Response(
            json.dumps(
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to, "wa_id": to}],
                    "messages": [{"id": wamid}],
                }
            ),
            content_type="application/json",
        )


KIT_FAILURES = {
    "retryable": lambda: graph_error(429, 130429, "Rate limit hit"),
    "permanent": lambda: graph_error(400, 132001, "Template name does not exist"),
    "bad_recipient": lambda: graph_error(400, 131026, "Message undeliverable"),
}
"""The conformance kit's failure kinds, as the Cloud API answers them."""


@pytest.fixture
def api(httpserver: HTTPServer) -> CloudApi:
    return CloudApi(httpserver)


# --- building a channel and a message ----------------------------------------------------------


def settings(api: CloudApi, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "phone_number_id": PHONE_NUMBER_ID,
        "token": TOKEN,
        "base_url": api.base_url,
        "retry_wait_seconds": 0,
        "timeout": 2,
        "templates": {"friendly-reminder": REMINDER},
    }
    return {**values, **changes}


def channel_for(api: CloudApi, **changes: Any) -> WhatsAppChannel:
    config = WhatsAppConfig.model_validate(settings(api, **changes))
    context = ChannelContext(pipeline="test", name="whatsapp", config_dir=Path(), creditor=CREDITOR)
    return WhatsAppChannel(config, context)


def debtor(**changes: Any) -> Debtor:
    values: dict[str, Any] = {
        "debtor_id": "D012",
        "name": "Bakkerij Jansen",
        "phone": "06 12345678",
        "contact_name": "Jan Jansen",
        "first_name": "Jan",
        "language": "nl",
    }
    return Debtor(**{**values, **changes})


def invoice(number: str = "2026-0012", amount: str = "1234.56") -> Invoice:
    return Invoice(
        number=number,
        debtor_id="D012",
        issue_date=date(2026, 2, 1),
        due_date=date(2026, 3, 3),
        amount_total=Decimal(amount),
        amount_open=Decimal(amount),
    )


def outgoing(
    to: Debtor | None = None,
    *,
    payment: PaymentDetails | None = None,
    invoices: Sequence[Invoice] = (),
    template: str = "friendly-reminder",
    recipient: str = "31612345678",
) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key="test:D012:friendly-reminder:2026-03-17",
        pipeline="test",
        debtor=to or debtor(),
        recipient=recipient,
        step=template,
        template=template,
        invoices=tuple(invoices) or (invoice(),),
        today=date(2026, 3, 17),
        creditor=CREDITOR,
        payment=payment,
    )


def bank_details(**changes: Any) -> PaymentDetails:
    values: dict[str, Any] = {
        "amount": Decimal("1234.56"),
        "currency": "EUR",
        "reference": "RF18 5390 0754 7034",
        "iban": "NL91ABNA0417164300",
    }
    return PaymentDetails(**{**values, **changes})


def send(channel: WhatsAppChannel, message: OutgoingMessage) -> Receipt:
    with channel.connect() as connection:
        return connection.send(message)


# --- what is sent ------------------------------------------------------------------------------


def test_a_reminder_is_posted_as_a_template_message_as_the_contract_says(api: CloudApi) -> None:
    receipt = send(channel_for(api), outgoing(payment=bank_details()))

    [request] = api.received
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "31612345678",
        "type": "template",
        "template": {
            "name": "payment_reminder",
            "language": {"code": "nl"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Jan"},
                        {"type": "text", "text": "2026-0012"},
                        {"type": "text", "text": f"€{NBSP}1.234,56"},
                        {"type": "text", "text": "3 maart 2026"},
                        {
                            "type": "text",
                            "text": "NL91 ABNA 0417 1643 00 o.v.v. RF18 5390 0754 7034",
                        },
                    ],
                }
            ],
        },
    }
    assert receipt.provider_message_id == "wamid.HBgL316123456780001FQIAERgS"
    assert "wa_id 31612345678" in receipt.detail
    assert "payment_reminder (nl)" in receipt.detail


def test_an_english_debtor_gets_the_mapped_language_and_english_formats(api: CloudApi) -> None:
    send(channel_for(api), outgoing(debtor(language="en"), payment=bank_details()))

    [request] = api.received
    assert request.template["language"] == {"code": "en_GB"}
    assert request.texts == [
        "Jan",
        "2026-0012",
        "€1,234.56",
        "3 March 2026",
        "NL91 ABNA 0417 1643 00, reference RF18 5390 0754 7034",
    ]


def test_a_language_without_mapping_is_sent_as_its_own_code(api: CloudApi) -> None:
    send(channel_for(api), outgoing(debtor(language="de"), payment=bank_details()))

    [request] = api.received
    assert request.template["language"] == {"code": "de"}
    assert request.texts[2] == f"1.234,56{NBSP}€"


def test_parameters_follow_the_configured_order_and_show_the_payment_link(api: CloudApi) -> None:
    template = {
        "name": "final_notice",
        "parameters": ["creditor", "amount", "invoice_count", "days_overdue", "payment_link"],
    }
    channel = channel_for(api, templates={"friendly-reminder": template})
    invoices = (invoice("F-1", "1000.00"), invoice("F-2", "234.56"))
    link = "https://paymentlink.mollie.com/payment/AbC123/"
    send(channel, outgoing(invoices=invoices, payment=bank_details(url=link)))

    [request] = api.received
    assert request.template["name"] == "final_notice"
    assert request.texts == ["Acme B.V.", f"€{NBSP}1.234,56", "2", "14", link]


def test_without_payment_details_the_invoices_and_creditor_say_how_to_pay(api: CloudApi) -> None:
    send(channel_for(api), outgoing(invoices=(invoice("F-1", "10"), invoice("F-2", "5.5"))))

    [request] = api.received
    assert request.texts[1:3] == ["F-1, F-2", f"€{NBSP}15,50"]
    assert request.texts[4] == "NL91 ABNA 0417 1643 00 o.v.v. F-1, F-2"


def test_a_payment_button_carries_the_variable_part_of_the_link(api: CloudApi) -> None:
    template = {
        **REMINDER,
        "payment_button": True,
        "button_base_url": "https://paymentlink.mollie.com/payment/",
    }
    channel = channel_for(api, templates={"friendly-reminder": template})
    link = "https://paymentlink.mollie.com/payment/AbC123/"
    send(channel, outgoing(payment=bank_details(url=link)))

    [request] = api.received
    assert request.template["components"][1] == {
        "type": "button",
        "sub_type": "url",
        "index": "0",
        "parameters": [{"type": "text", "text": "AbC123/"}],
    }


def test_a_payment_button_without_a_link_fails_before_anything_is_sent(api: CloudApi) -> None:
    template = {**REMINDER, "payment_button": True}
    channel = channel_for(api, templates={"friendly-reminder": template})

    with pytest.raises(SendError, match="no payment link") as failure:
        send(channel, outgoing(payment=bank_details()))
    assert not failure.value.retryable
    assert api.received == []


def test_a_parameter_without_a_value_fails_naming_it(api: CloudApi) -> None:
    template = {"name": "payment_reminder", "parameters": ["first_name", "creditor_email"]}
    channel = channel_for(api, templates={"friendly-reminder": template})

    with pytest.raises(SendError, match="'creditor_email' has no value") as failure:
        send(channel, outgoing())
    assert not failure.value.retryable
    assert "D012 (Bakkerij Jansen)" in str(failure.value)
    assert api.received == []


def test_parameter_text_is_flattened_to_one_line(api: CloudApi) -> None:
    template = {"name": "payment_reminder", "parameters": ["debtor_name"]}
    channel = channel_for(api, templates={"friendly-reminder": template})
    send(channel, outgoing(debtor(name="Bakkerij\nJansen    \tB.V.")))

    assert api.received[0].texts == ["Bakkerij Jansen B.V."]


def test_a_template_without_mapping_fails_without_sending(api: CloudApi) -> None:
    with pytest.raises(SendError, match="no WhatsApp template for 'final-reminder'"):
        send(channel_for(api), outgoing(template="final-reminder"))
    assert api.received == []


# --- the recipient -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "country", "expected"),
    [
        ("06 12345678", None, "31612345678"),
        ("+31 6 1234 5678", "BE", "31612345678"),
        ("0470 12 34 56", "BE", "32470123456"),
        ("07911 123456", "GB", "447911123456"),
    ],
)
def test_the_recipient_is_the_mobile_number_in_e164_without_plus(
    api: CloudApi, phone: str, country: str | None, expected: str
) -> None:
    assert channel_for(api).recipient(debtor(phone=phone, country=country)) == expected


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        (None, "has no phone number"),
        ("020 123 4567", "is not a mobile number"),
        ("12", "not a valid phone number"),
        ("call me", "not a phone number"),
    ],
)
def test_a_debtor_without_a_usable_mobile_number_is_a_bad_recipient(
    api: CloudApi, phone: str | None, reason: str
) -> None:
    with pytest.raises(BadRecipient, match=reason) as failure:
        channel_for(api).recipient(debtor(phone=phone))
    assert "debtor D012 (Bakkerij Jansen)" in str(failure.value)
    if phone is not None:
        assert phone in str(failure.value)


# --- errors ------------------------------------------------------------------------------------


def test_an_expired_token_stops_the_channel_and_says_to_renew_it(api: CloudApi) -> None:
    with pytest.raises(ChannelDown, match="renew 'token'") as failure:
        send(channel_for(api, token="expired"), outgoing())
    assert "190" in str(failure.value) and "Session has expired" in str(failure.value)
    assert "expired" not in repr(WhatsAppConfig.model_validate(settings(api, token="expired")))
    assert len(api.received) == 1


def test_a_wrong_phone_number_id_stops_the_channel(api: CloudApi) -> None:
    api.script.append(graph_error(400, 100, "Unsupported post request", subcode=33))
    with pytest.raises(ChannelDown, match="check 'phone_number_id'"):
        send(channel_for(api), outgoing())


@pytest.mark.parametrize(
    ("code", "error", "says"),
    [
        (131026, BadRecipient, r"cannot deliver to \+31612345678"),
        (131050, OptedOut, "stopped marketing messages"),
        (131047, SendError, "outside the 24-hour window"),
        (132000, SendError, "one name per {{n}}"),
        (132001, SendError, "not approved"),
        (132005, SendError, "too long"),
        (132012, SendError, "format does not match"),
        (131009, SendError, "refused"),
    ],
)
def test_a_refused_message_fails_once_with_what_to_do(
    api: CloudApi, code: int, error: type[SendError], says: str
) -> None:
    api.script.append(graph_error(400, code, f"title {code}", f"details of {code}"))

    with pytest.raises(error, match=says) as failure:
        send(channel_for(api), outgoing())

    assert type(failure.value) is error
    assert not failure.value.retryable
    assert str(code) in str(failure.value)
    if error is not OptedOut:  # remembered as the opt-out's reason: kept short
        assert f"details of {code}" in str(failure.value)
    assert len(api.received) == 1


@pytest.mark.parametrize("code", [132000, 132001, 132005, 132012])
def test_a_template_error_names_the_template_and_language(api: CloudApi, code: int) -> None:
    api.script.append(graph_error(400, code))
    with pytest.raises(SendError) as failure:
        send(channel_for(api), outgoing(debtor(language="en")))
    assert "template 'payment_reminder' in language 'en_GB'" in str(failure.value)


@pytest.mark.parametrize(
    "busy",
    [
        graph_error(429, 130429, "Rate limit hit", headers={"Retry-After": "1"}),
        graph_error(400, 131056, "(Business Account, Consumer Account) pair rate limit hit"),
        graph_error(400, 80007, "Rate limit issues"),
        Response("<html>Service Unavailable</html>", status=503, content_type="text/html"),
    ],
    ids=["130429-retry-after", "131056", "80007", "503"],
)
def test_rate_limits_and_server_trouble_are_tried_again(api: CloudApi, busy: Response) -> None:
    api.script.append(busy)
    started = time.monotonic()

    receipt = send(channel_for(api), outgoing())

    assert receipt.provider_message_id.startswith("wamid.")
    assert len(api.received) == 2
    if "Retry-After" in busy.headers:
        assert time.monotonic() - started >= 1


def test_a_lasting_rate_limit_is_left_for_a_later_run(api: CloudApi) -> None:
    api.script.extend(graph_error(429, 130429, "Rate limit hit") for _ in range(3))
    with pytest.raises(SendError, match="130429") as failure:
        send(channel_for(api, max_attempts=3), outgoing())
    assert failure.value.retryable and not isinstance(failure.value, ChannelDown)
    assert len(api.received) == 3


def test_a_retry_after_beyond_the_limit_is_not_waited_for(api: CloudApi) -> None:
    api.script.append(graph_error(429, 130429, headers={"Retry-After": "3600"}))
    with pytest.raises(SendError, match="3600 s") as failure:
        send(channel_for(api), outgoing())
    assert failure.value.retryable
    assert len(api.received) == 1


def test_no_answer_in_time_is_not_sent_again_and_leaves_the_fate_open(api: CloudApi) -> None:
    api.delay = 1.0
    with pytest.raises(AnswerLost, match="may have been delivered") as failure:
        send(channel_for(api, timeout=0.3), outgoing())
    assert not isinstance(failure.value, SendError)  # the engine marks it uncertain
    time.sleep(api.delay)
    assert len(api.received) == 1


def test_a_server_that_cannot_be_reached_is_retried_later(api: CloudApi) -> None:
    with pytest.raises(SendError, match="cannot connect") as failure:
        send(channel_for(api, base_url=f"http://127.0.0.1:{free_port()}"), outgoing())
    assert failure.value.retryable


def test_a_garbled_success_with_a_message_id_counts_as_sent(api: CloudApi) -> None:
    api.script.append(Response('{"messages":[{"id":"wamid.HBgLMTIz=="}', status=200))
    assert send(channel_for(api), outgoing()).provider_message_id == "wamid.HBgLMTIz=="


@pytest.mark.parametrize(
    "answer",
    [
        Response("<html>OK</html>", status=200, content_type="text/html"),
        Response('{"messaging_product": "whatsapp"}', content_type="application/json"),
    ],
    ids=["not-json", "no-messages"],
)
def test_a_success_without_a_message_id_leaves_the_fate_open(
    api: CloudApi, answer: Response
) -> None:
    api.script.append(answer)
    with pytest.raises(UnreadableAnswer, match="unknown whether") as failure:
        send(channel_for(api), outgoing())
    assert not isinstance(failure.value, SendError)  # the engine marks it uncertain
    assert len(api.received) == 1


# --- configuration -----------------------------------------------------------------------------


def test_an_unknown_parameter_is_a_config_error_with_a_suggestion(api: CloudApi) -> None:
    template = {"name": "payment_reminder", "parameters": ["first_name", "amout"]}
    with pytest.raises(ValidationError, match="unknown parameter 'amout'; did you mean 'amount'"):
        WhatsAppConfig.model_validate(settings(api, templates={"friendly-reminder": template}))


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ({"name": "Payment-Reminder"}, "should match pattern"),
        ({"name": "reminder", "languages": {"en": "english"}}, "not a WhatsApp language code"),
        ({"name": "reminder", "button_base_url": "https://x.example/"}, "payment_button"),
        ({"name": "reminder", "body": "Hi"}, "Extra inputs"),
    ],
)
def test_a_wrong_template_mapping_is_a_config_error(
    api: CloudApi, template: dict[str, Any], says: str
) -> None:
    with pytest.raises(ValidationError, match=says):
        WhatsAppConfig.model_validate(settings(api, templates={"friendly-reminder": template}))


def test_check_reports_steps_whose_template_has_no_mapping(api: CloudApi) -> None:
    channel = channel_for(api)
    channel.check(["friendly-reminder"])
    with pytest.raises(ConfigError, match="no WhatsApp template for 'second-reminder'"):
        channel.check(["friendly-reminder", "second-reminder"])
    assert api.received == []


def test_the_channel_comes_through_the_entry_point() -> None:
    registry = load_registry()
    assert registry.channel("whatsapp") is WhatsAppChannel
    assert registry.provided_by[("channel", "whatsapp")] == "whatsapp"


# --- through the engine and the CLI -----------------------------------------------------


def test_the_channel_passes_the_conformance_kit(tmp_path: Path, api: CloudApi) -> None:
    def fail(kind: str | None) -> None:
        api.failure = kind

    case = ChannelUnderTest(
        kind="whatsapp",
        section={**settings(api, max_attempts=2), "type": "whatsapp"},
        reachable={"telefoon": "06 12345678"},
        unreachable={"telefoon": "020 123 4567"},
        delivered=lambda: api.accepted,
        fail=fail,
        can_fail=("retryable", "permanent", "bad_recipient"),
    )
    check_channel(case, tmp_path)


HEADER = (
    "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;telefoon;taal;"
    "factuurdatum;vervaldatum;bedrag"
)
JAN, ANNE = "31612345678", "447911123456"
ROWS = [
    "F-1;D1;Bakker B.V.;Jan Bakker;jan@bakker.nl;06 12345678;nl;01-02-2026;01-03-2026;1234,56",
    "F-3;D2;Smith Ltd;Anne Smith;anne@smith.co.uk;+44 7911 123456;en;01-02-2026;01-03-2026;300",
    "F-4;D3;Vast B.V.;Piet Vast;piet@vast.nl;020 123 4567;nl;01-02-2026;01-03-2026;50,00",
]
TEMPLATES = """\
          friendly-reminder:
            name: payment_reminder
            languages: {nl: nl, en: en_GB}
            parameters: [first_name, invoice_numbers, amount, payment_link]
          second-reminder:
            name: second_payment_reminder
            parameters: [first_name, amount, due_date]
          final-reminder:
            name: final_payment_reminder
            parameters: [debtor_name, amount]
"""
LADDER = """\
      - {name: friendly-reminder, after_due: 3, channel: whatsapp, template: friendly-reminder}
      - {name: second-reminder, after_previous: 7, channel: whatsapp, template: second-reminder}
      - {name: final-reminder, after_previous: 7, channel: whatsapp, template: final-reminder}
"""


class Project:
    """A folder with invoices.csv, pipelines.yaml (WhatsApp to ``api``) and .env, and the CLI."""

    def __init__(self, folder: Path, api: CloudApi, templates: str = TEMPLATES) -> None:
        self.config = folder / "pipelines.yaml"
        (folder / "invoices.csv").write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
        (folder / ".env").write_text(f"WHATSAPP_TOKEN={TOKEN}\n", encoding="utf-8")
        self.config.write_text(
            f"""\
pipelines:
  main:
    creditor: {{name: Test B.V., iban: NL91ABNA0417164300}}
    source: {{type: csv, path: invoices.csv}}
    calendar: {{business_days_only: false, quiet_channels: []}}
    channels:
      whatsapp:
        type: whatsapp
        phone_number_id: "{PHONE_NUMBER_ID}"
        token: ${{WHATSAPP_TOKEN}}
        base_url: {api.base_url}
        retry_wait_seconds: 0
        templates:
{templates}    steps:
{LADDER}""",
            encoding="utf-8",
        )
        self.runner = CliRunner()

    def __call__(self, *args: str) -> tuple[int, str, str]:
        """``dunning ARGS --config pipelines.yaml``: exit code, stdout, stderr."""
        result = self.runner.invoke(main, [*args, "--config", str(self.config)])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    def run(self, day: str) -> dict[str, Any]:
        """``dunning run --date DAY``: the run's summary."""
        code, stdout, stderr = self("run", "--date", day, "--quiet", "--json")
        assert code in (0, 1), stderr
        [summary] = json.loads(stdout)
        return dict(summary)


def test_a_ladder_goes_out_over_whatsapp_once(tmp_path: Path, api: CloudApi) -> None:
    project = Project(tmp_path, api)

    summary = project.run("2026-03-04")

    assert summary["sent"] == 2
    assert summary["bad_recipients"] == 1
    assert any("D3 (Vast B.V.)" in p and "not a mobile number" in p for p in summary["problems"])
    by_number = {r.to: r for r in api.received}
    assert set(by_number) == {JAN, ANNE}
    jan, anne = by_number[JAN], by_number[ANNE]
    assert jan.headers["Authorization"] == f"Bearer {TOKEN}"
    assert jan.template["name"] == anne.template["name"] == "payment_reminder"
    assert jan.template["language"] == {"code": "nl"}
    assert anne.template["language"] == {"code": "en_GB"}
    assert jan.texts[:3] == ["Jan", "F-1", f"€{NBSP}1.234,56"]
    assert "NL91 ABNA 0417 1643 00" in jan.texts[3]
    assert anne.texts[:3] == ["Anne", "F-3", "€300.00"]

    again = project.run("2026-03-04")
    assert again["sent"] == 0
    assert len(api.received) == 2


def test_a_debtor_who_opted_out_is_not_tried_again(tmp_path: Path, api: CloudApi) -> None:
    project = Project(tmp_path, api)
    project.run("2026-03-04")
    api.refuse[ANNE] = graph_error(400, 131050, "Unable to deliver message")

    second = project.run("2026-03-11")
    assert second["sent"] == 1
    assert [r.to for r in api.received[2:]] == [JAN, ANNE]
    assert any("D2 (Smith Ltd) stopped marketing" in p for p in second["problems"])

    final = project.run("2026-03-18")
    assert final["sent"] == 1
    assert [r.to for r in api.received[4:]] == [JAN]
    assert any("opted out of whatsapp" in p for p in final["problems"])


def test_an_expired_token_stops_the_channel_until_it_is_renewed(
    tmp_path: Path, api: CloudApi
) -> None:
    project = Project(tmp_path, api)
    (tmp_path / ".env").write_text("WHATSAPP_TOKEN=expired\n", encoding="utf-8")

    stopped = project.run("2026-03-04")
    assert stopped["sent"] == 0
    assert len(api.received) == 1
    assert any("renew 'token'" in p for p in stopped["problems"])

    (tmp_path / ".env").write_text(f"WHATSAPP_TOKEN={TOKEN}\n", encoding="utf-8")
    renewed = project.run("2026-03-04")
    assert renewed["sent"] == 2


def test_dunning_check_names_a_step_whose_template_is_not_mapped(
    tmp_path: Path, api: CloudApi
) -> None:
    only_first = "\n".join(TEMPLATES.splitlines()[:4]) + "\n"
    project = Project(tmp_path, api, templates=only_first)

    code, stdout, stderr = project("check")
    output = stdout + stderr

    assert code == 2, output
    assert "no WhatsApp template for 'second-reminder'" in output
    assert "pipelines.yaml:" in output
    assert api.received == []
