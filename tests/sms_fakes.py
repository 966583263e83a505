"""Builders and faithful provider answers for the sms channel tests (API-CONTRACTS.md 3.1, 3.2).

The answers are what MessageBird and Twilio document: MessageBird's 201 message object and its
``errors[]`` array, Twilio's 201 message resource (``num_segments`` as a string, RFC 2822 dates)
and its ``{code, message, more_info, status}`` errors.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from dunning.channels.sms import SmsChannel, SmsConfig
from dunning.core.channel import ChannelContext, OutgoingMessage, PreviousContact
from dunning.core.models import ContactPerson, Creditor, Debtor, Invoice, PaymentDetails

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
SERVICE_SID = "MG" + "fedcba9876543210" * 2
AUTH_TOKEN = "twilio-secret-token"
ACCESS_KEY = "live_mb_secret_key"
MOBILE = "+31612345678"
IBAN = "NL91 ABNA 0417 1643 00"
CREDITOR = Creditor(
    name="Voorbeeld B.V.", email="debiteuren@example.nl", phone="+31 20 123 4567", iban=IBAN
)
TODAY = date(2026, 3, 17)


def debtor(**changes: Any) -> Debtor:
    fields: dict[str, Any] = {
        "debtor_id": "D1",
        "name": "Bakker B.V.",
        "phone": "06 12345678",
        "contact_name": "Jan Bakker",
        "first_name": "Jan",
        "language": "nl",
    }
    return Debtor(**{**fields, **changes})


def contact(phone: str, role: str = "contact") -> ContactPerson:
    return ContactPerson(name="Els Bakker", role=role, phone=phone)


def invoice(number: str = "2026-0012", amount: str = "1234.56", **changes: Any) -> Invoice:
    fields: dict[str, Any] = {
        "number": number,
        "debtor_id": "D1",
        "issue_date": date(2026, 2, 1),
        "due_date": date(2026, 3, 3),
        "amount_total": Decimal(amount),
        "amount_open": Decimal(amount),
    }
    return Invoice(**{**fields, **changes})


def payment(
    url: str | None = None, amount: str = "1234.56", reference: str = "2026-0012"
) -> PaymentDetails:
    return PaymentDetails(
        amount=Decimal(amount),
        currency="EUR",
        reference=reference,
        iban=IBAN,
        url=url,
        source="mollie" if url else "bank",
    )


def outgoing(
    *,
    to: Debtor | None = None,
    invoices: tuple[Invoice, ...] | None = None,
    template: str = "friendly-reminder",
    pay: PaymentDetails | None = None,
    previous: tuple[PreviousContact, ...] = (),
    key: str = "main:D1:friendly-reminder:2026-03-17",
) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=key,
        pipeline="main",
        debtor=to or debtor(),
        recipient=MOBILE,
        step=template,
        template=template,
        invoices=invoices or (invoice(),),
        today=TODAY,
        creditor=CREDITOR,
        previous_contacts=previous,
        payment=pay,
    )


FAST = {"max_attempts": 3, "retry_wait_seconds": 0, "timeout": 5}


def messagebird(base_url: str | None, folder: Path, **settings: Any) -> SmsChannel:
    config = {
        "provider": "messagebird",
        "access_key": ACCESS_KEY,
        "originator": "Voorbeeld",
        "base_url": base_url,
        **FAST,
        **settings,
    }
    return make_channel(config, folder)


def twilio(base_url: str | None, folder: Path, **settings: Any) -> SmsChannel:
    config = {
        "provider": "twilio",
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": "+3197010000000",
        "base_url": base_url,
        **FAST,
        **settings,
    }
    return make_channel(config, folder)


def make_channel(settings: dict[str, Any], folder: Path) -> SmsChannel:
    context = ChannelContext(pipeline="main", name="sms", config_dir=folder, creditor=CREDITOR)
    return SmsChannel(SmsConfig.model_validate(settings), context)


def messagebird_created(body: str, reference: str, parts: int = 1) -> dict[str, Any]:
    """MessageBird's 201 answer to ``POST /messages``."""
    return {
        "id": "e8077d803532c0b5937c639b60216938",
        "href": "https://rest.messagebird.com/messages/e8077d803532c0b5937c639b60216938",
        "direction": "mt",
        "type": "sms",
        "originator": "Voorbeeld",
        "body": body,
        "reference": reference,
        "validity": None,
        "gateway": 10,
        "typeDetails": {},
        "datacoding": "plain",
        "mclass": 1,
        "scheduledDatetime": None,
        "createdDatetime": "2026-03-17T09:00:00+00:00",
        "recipients": {
            "totalCount": 1,
            "totalSentCount": 1,
            "totalDeliveredCount": 0,
            "totalDeliveryFailedCount": 0,
            "items": [
                {
                    "recipient": 31612345678,
                    "status": "sent",
                    "statusDatetime": "2026-03-17T09:00:00+00:00",
                    "messagePartCount": parts,
                }
            ],
        },
    }


def messagebird_errors(*errors: tuple[int, str, str]) -> dict[str, Any]:
    """MessageBird's error body: ``(code, description, parameter)`` per item."""
    return {
        "errors": [
            {"code": code, "description": description, "parameter": parameter}
            for code, description, parameter in errors
        ]
    }


def twilio_created(to: str, body: str, segments: str = "2") -> dict[str, Any]:
    """Twilio's 201 answer to ``POST .../Messages.json``."""
    sid = "SM" + "1234567890abcdef" * 2
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": "Tue, 17 Mar 2026 09:00:00 +0000",
        "date_sent": None,
        "date_updated": "Tue, 17 Mar 2026 09:00:00 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": "+3197010000000",
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": segments,
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "to": to,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }


def twilio_error(code: int, message: str, status: int = 400) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@contextmanager
def silent_server() -> Iterator[str]:
    """A TCP port that accepts connections (the kernel's backlog) and never answers: every
    request to it runs into the client's read time-out."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
