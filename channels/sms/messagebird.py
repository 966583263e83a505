"""MessageBird's SMS REST API: ``POST {base_url}/messages`` (the legacy API existing accounts use).

The request is JSON with ``Authorization: AccessKey <access_key>``: ``originator``,
``recipients`` (msisdns without ``+``), ``body``, ``reference`` (derived from the idempotency
key) and ``datacoding``, set from our own count (``plain`` for GSM-7, ``unicode`` otherwise) so
that the segments we checked are the segments billed.

MessageBird has no idempotency parameter: a request repeated after a time-out whose first try
did arrive sends the text twice. The ``reference`` lets the two be matched in MessageBird's logs.

How answers are read (``errors: [{code, description, parameter}]`` on failures):

* 2xx: accepted. A body that is not the expected JSON still means accepted: the receipt then
  carries our reference and says the answer was unreadable.
* 401, or code 2 (request not allowed): :class:`ChannelDown`, check ``access_key``.
* code 25 (not enough balance): :class:`ChannelDown`, top up.
* code 9, 10 or 21 about ``recipients``: :class:`BadRecipient`.
* 429 and 5xx: tried again by :func:`~dunning.core.http.call_with_retries` (``Retry-After``).
* anything else (422 about another parameter, 404): a permanent :class:`SendError` quoting the
  codes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests

from dunning.channels.sms.config import SmsConfig
from dunning.channels.sms.provider import SmsRequest
from dunning.channels.sms.segments import Encoding
from dunning.core.errors import BadRecipient, ChannelDown, SendError
from dunning.core.http import call_with_retries, excerpt, json_or_none, transient_status
from dunning.core.models import Receipt

WHAT = "MessageBird"
REQUEST_NOT_ALLOWED = 2
NOT_ENOUGH_BALANCE = 25
RECIPIENT_CODES = frozenset({9, 10, 21})
"""Missing, invalid or bad parameter: the debtor's number when ``parameter`` is a recipient."""
RECIPIENT_PARAMETERS = frozenset({"recipients", "recipient"})


class MessageBird:
    """Client for one batch (one HTTP session); see the module docstring for the contract."""

    def __init__(self, config: SmsConfig) -> None:
        assert config.access_key is not None and config.originator is not None
        self.url = f"{config.api_base}/messages"
        self.originator = config.originator
        self.policy = config.retry_policy
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"AccessKey {config.access_key.get_secret_value()}"
        self.session.headers["Accept"] = "application/json"

    def close(self) -> None:
        self.session.close()

    def send(self, request: SmsRequest) -> Receipt:
        body = {
            "originator": self.originator,
            "recipients": [request.to.removeprefix("+")],
            "body": request.text,
            "reference": request.reference,
            "datacoding": "plain" if request.length.encoding is Encoding.GSM7 else "unicode",
        }

        def judge(response: requests.Response) -> None:
            transient_status(response, WHAT, self.policy)
            if not 200 <= response.status_code < 300:
                raise _refusal(response, request)

        response = call_with_retries(
            self.session, "POST", self.url, what=WHAT, policy=self.policy, judge=judge, json=body
        )
        return _receipt(response, request)


def _errors(data: Any) -> list[tuple[int | None, str, str]]:
    """``(code, description, parameter)`` of each item of ``errors``."""
    items = data.get("errors") if isinstance(data, dict) else None
    found = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            code = item.get("code")
            found.append(
                (
                    code if isinstance(code, int) else None,
                    str(item.get("description") or ""),
                    str(item.get("parameter") or ""),
                )
            )
    return found


def _refusal(response: requests.Response, request: SmsRequest) -> SendError:
    """The error for a final answer that is not 2xx."""
    errors = _errors(json_or_none(response))
    answer = f"{response.status_code} {response.reason}".strip()
    listed = (
        "; ".join(
            f"code {code}: {excerpt(description)}" + (f" ({parameter})" if parameter else "")
            for code, description, parameter in errors
        )
        or f"{answer}: {excerpt(response.text)}"
    )
    codes = {code for code, _, _ in errors}
    if response.status_code == 401 or REQUEST_NOT_ALLOWED in codes:
        return ChannelDown(
            f"MessageBird refused the access key ({listed}); check access_key (a live key, "
            "not revoked)"
        )
    if NOT_ENOUGH_BALANCE in codes:
        return ChannelDown(
            f"MessageBird has not enough balance to send ({listed}); top up the account"
        )
    if any(c in RECIPIENT_CODES and p in RECIPIENT_PARAMETERS for c, _, p in errors):
        return BadRecipient(
            f"MessageBird refused the number {request.to} of {request.whom} ({listed}); "
            "correct the number in the source"
        )
    return SendError(
        f"MessageBird refused the SMS to {request.whom}: {answer} ({listed})", retryable=False
    )


def _receipt(response: requests.Response, request: SmsRequest) -> Receipt:
    """The receipt of an accepted message, also when its body cannot be read."""
    now = datetime.now(UTC)
    data = json_or_none(response)
    message_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(message_id, str) or not message_id:
        return Receipt(
            provider_message_id=request.reference,
            accepted_at=now,
            detail=(
                f"MessageBird accepted the SMS to {request.to} ({response.status_code}) but its "
                f"answer was unreadable ({excerpt(response.text) or 'empty'}); look it up by "
                f"reference {request.reference}; {request.length.describe()}"
            ),
        )
    recipients = data.get("recipients")
    items = recipients.get("items") if isinstance(recipients, dict) else None
    parts = [
        item["messagePartCount"]
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict) and isinstance(item.get("messagePartCount"), int)
    ]
    billed = f", MessageBird counts {sum(parts)}" if parts else ""
    return Receipt(
        provider_message_id=message_id,
        accepted_at=now,
        detail=(
            f"MessageBird SMS to {request.to}: {request.length.describe()}{billed}; "
            f"reference {request.reference}"
        ),
    )
