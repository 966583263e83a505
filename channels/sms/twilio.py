"""Twilio's Messages API: ``POST {base_url}/2010-04-01/Accounts/{AccountSid}/Messages.json``.

HTTP Basic auth (``account_sid:auth_token``), a form-encoded body: ``To`` (E.164), ``From`` or
``MessagingServiceSid``, ``Body``. The ``.json`` suffix makes the answer JSON.

Twilio has no idempotency parameter on Messages: a request repeated after a time-out whose
first try did arrive sends the text twice. Our reference (derived from the idempotency key)
is therefore only recorded in the receipt's detail, next to Twilio's ``sid``; no status
callback is registered (this pipeline does not receive webhooks).

How answers are read (failures are ``{code, message, more_info, status}``):

* 2xx: accepted; ``sid`` is the receipt id, ``num_segments`` is reported next to our count. A
  body that is not the expected JSON still means accepted (the receipt says so).
* 401, or 20003: :class:`ChannelDown`, check ``account_sid`` and ``auth_token``.
* 20429, 429 and 5xx: tried again by :func:`~dunning.core.http.call_with_retries`.
* 21211 (bad ``To``), 21612 (unroutable), 21614 (not a mobile): :class:`BadRecipient`.
* 21610 (the recipient replied STOP): :class:`OptedOut`; the engine never tries again.
* 21606 (the sender cannot send SMS), 21608 (trial account, number not verified):
  :class:`ChannelDown` with what to change.
* any other answer: a permanent :class:`SendError` quoting Twilio's code and message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests

from dunning.channels.sms.config import SmsConfig
from dunning.channels.sms.provider import SmsRequest
from dunning.core.errors import BadRecipient, ChannelDown, OptedOut, SendError
from dunning.core.http import (
    Transient,
    call_with_retries,
    excerpt,
    json_or_none,
    retry_after_seconds,
    transient_status,
)
from dunning.core.models import Receipt

WHAT = "Twilio"
AUTHENTICATION = 20003
TOO_MANY_REQUESTS = 20429
UNSUBSCRIBED = 21610
SENDER_CANNOT_SEND = 21606
TRIAL_UNVERIFIED = 21608
RECIPIENT_CODES = {
    21211: "not a valid phone number",
    21612: "Twilio cannot route an SMS to it",
    21614: "not a mobile number",
}


class Twilio:
    """Client for one batch (one HTTP session); see the module docstring for the contract."""

    def __init__(self, config: SmsConfig) -> None:
        assert config.account_sid is not None and config.auth_token is not None
        self.url = f"{config.api_base}/2010-04-01/Accounts/{config.account_sid}/Messages.json"
        self.sender: dict[str, str] = (
            {"MessagingServiceSid": config.messaging_service_sid}
            if config.messaging_service_sid
            else {"From": config.from_number or ""}
        )
        self.policy = config.retry_policy
        self.session = requests.Session()
        self.session.auth = (config.account_sid, config.auth_token.get_secret_value())
        self.session.headers["Accept"] = "application/json"

    def close(self) -> None:
        self.session.close()

    def send(self, request: SmsRequest) -> Receipt:
        form = {"To": request.to, **self.sender, "Body": request.text}

        def judge(response: requests.Response) -> None:
            transient_status(response, WHAT, self.policy)
            if not 200 <= response.status_code < 300:
                raise self._refusal(response, request)

        response = call_with_retries(
            self.session, "POST", self.url, what=WHAT, policy=self.policy, judge=judge, data=form
        )
        return _receipt(response, request)

    def _refusal(self, response: requests.Response, request: SmsRequest) -> Exception:
        data = json_or_none(response)
        code = data.get("code") if isinstance(data, dict) else None
        text = data.get("message") if isinstance(data, dict) else None
        answer = f"{response.status_code} {response.reason}".strip()
        said = (
            f"Twilio {code}: {excerpt(str(text or ''))}"
            if isinstance(code, int)
            else f"{answer}: {excerpt(response.text)}"
        )
        if response.status_code == 401 or code == AUTHENTICATION:
            return ChannelDown(
                f"Twilio refused the credentials ({said}); check account_sid and auth_token"
            )
        if code == TOO_MANY_REQUESTS:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            return Transient(f"Twilio answered {answer} ({said})", retry_after=wait)
        if code == UNSUBSCRIBED:
            return OptedOut(
                f"{request.whom} unsubscribed from SMS at {request.to} (they replied STOP; "
                f"{said}); only they can undo it, by replying START"
            )
        if isinstance(code, int) and code in RECIPIENT_CODES:
            return BadRecipient(
                f"Twilio cannot send to {request.to} of {request.whom}: "
                f"{RECIPIENT_CODES[code]} ({said}); correct the number in the source"
            )
        sender = ", ".join(f"{key} {value}" for key, value in self.sender.items())
        if code == SENDER_CANNOT_SEND:
            return ChannelDown(
                f"Twilio will not send SMS from {sender} ({said}); use a number that can send "
                "SMS to this country, or a messaging_service_sid"
            )
        if code == TRIAL_UNVERIFIED:
            return ChannelDown(
                f"the Twilio account is a trial account and {request.to} is not one of its "
                f"verified numbers ({said}); upgrade the account in the Twilio console"
            )
        more = data.get("more_info") if isinstance(data, dict) else None
        return SendError(
            f"Twilio refused the SMS to {request.whom}: {answer} ({said})"
            + (f", see {more}" if isinstance(more, str) and more else ""),
            retryable=False,
        )


def _receipt(response: requests.Response, request: SmsRequest) -> Receipt:
    """The receipt of an accepted message, also when its body cannot be read."""
    now = datetime.now(UTC)
    data: Any = json_or_none(response)
    sid = data.get("sid") if isinstance(data, dict) else None
    if not isinstance(sid, str) or not sid:
        return Receipt(
            provider_message_id=request.reference,
            accepted_at=now,
            detail=(
                f"Twilio accepted the SMS to {request.to} ({response.status_code}) but its answer "
                f"was unreadable ({excerpt(response.text) or 'empty'}); our reference "
                f"{request.reference}; {request.length.describe()}"
            ),
        )
    status = data.get("status")
    segments = data.get("num_segments")
    counted = f", Twilio counts {segments}" if segments not in (None, "") else ""
    return Receipt(
        provider_message_id=sid,
        accepted_at=now,
        detail=(
            f"Twilio SMS to {request.to}, status {status}: {request.length.describe()}{counted}; "
            f"reference {request.reference}"
        ),
    )
