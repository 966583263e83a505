"""What the Cloud API's answers mean: the receipt of an accepted message, and each error.

An error answer is ``{"error": {"message", "type", "code", "error_data": {"details"},
"fbtrace_id"}}``; Meta asks integrations to act on ``code`` (and ``details``), never on the
title in ``message``. :func:`judge` turns every answer that is not a success into the error the
engine acts on:

- the token is invalid or expired (190, also 0 and HTTP 401), the app lacks a permission (3, 10,
  200-299), the business account or number cannot send (368, 131031, 131042, 133010) or
  ``phone_number_id`` is wrong: :class:`ChannelDown`, so the rest of the batch waits for the
  next run;
- throughput and rate limits (4, 80007, 130429, 131056) and temporary trouble on Meta's side
  (1, 2, 131000, 131016, HTTP 429 and 5xx): :class:`Transient`, tried again within the run,
  honouring ``Retry-After``;
- the spam and ecosystem limits (131048, 131049): a retryable :class:`SendError`, for a later run;
- not a WhatsApp user or cannot receive (131026), or our own number (131021): :class:`BadRecipient`;
- the user stopped marketing messages from us (131050): :class:`OptedOut`;
- re-engagement (131047) is what WhatsApp says to a free-form message outside the 24-hour
  window; this channel only sends templates, so it points at the template or its category;
- template problems (132000, 132001, 132005, 132007, 132012, 132015, 132016) and any other
  answer: a permanent :class:`SendError` saying what to fix.

A success (2xx) that carries no message id (``wamid``) leaves the message's fate unknown:
:func:`receipt_of` raises :class:`UnreadableAnswer`, deliberately *not* a ``SendError``, so the
engine marks the message ``uncertain`` and never sends it again by itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

import requests

from dunning.core.errors import BadRecipient, ChannelDown, OptedOut, SendError
from dunning.core.http import RetryPolicy, Transient, excerpt, json_or_none, retry_after_seconds
from dunning.core.models import Receipt

PROVIDER = "WhatsApp Cloud API"
WAMID = re.compile(r"wamid\.[A-Za-z0-9+/=_-]+")

TOKEN = {0, 190}
PERMISSION = {3, 10, *range(200, 300)}
ACCOUNT = {
    368: "the WhatsApp Business Account is temporarily blocked for policy violations",
    131031: "the WhatsApp Business Account is locked",
    131042: "the WhatsApp Business Account has a payment problem (no valid payment method)",
    133010: "the business phone number is not registered on the Cloud API",
}
UNKNOWN_OBJECT = 33
"""Graph API subcode (and code) for an id that does not exist: a wrong ``phone_number_id``."""
RATE_LIMITS = {4, 80007, 130429, 131056}
TEMPORARY = {1, 2, 131000, 131016}
LATER = {131048, 131049}
UNDELIVERABLE = {131021, 131026}
OPTED_OUT = {131050}
RE_ENGAGEMENT = 131047
TEMPLATE = {
    132000: "the number of parameters does not match the template's variables; make "
    "'parameters' list exactly one name per {{n}} of the approved template",
    132001: "the template does not exist in this language or is not approved; check its "
    "name and add or approve the language in WhatsApp Manager, or map the debtor's "
    "language to an approved one under 'languages'",
    132005: "the text with the parameters filled in is too long; shorten the template or "
    "use fewer or shorter parameters",
    132007: "the template breaks WhatsApp's format rules; correct it in WhatsApp Manager",
    132012: "a parameter's format does not match the template's variable; use text "
    "variables in the template",
    132015: "the template is paused for low quality; edit it or use another template",
    132016: "the template is disabled for low quality; create a new template and map it",
}


@dataclass(frozen=True, slots=True)
class Attempt:
    """What was sent, for error messages that say what to fix."""

    channel: str
    step_template: str
    template: str
    language: str
    debtor: str
    """``D012 (Bakkerij Jansen)``."""
    to: str


class UnreadableAnswer(Exception):
    """A success answer without a message id: the message may or may not have been accepted.

    Not a :class:`SendError` on purpose: the engine marks the message ``uncertain``, so that a
    person decides; the Cloud API has no idempotency key that would make a resend safe."""


@dataclass(frozen=True, slots=True)
class ApiError:
    status: int
    code: int | None
    subcode: int | None
    text: str
    """``message: details (fbtrace_id ...)``, or an excerpt of a body that is not an error."""


def read_error(response: requests.Response) -> ApiError:
    body = json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        text = excerpt(response.text) or response.reason or "no body"
        return ApiError(response.status_code, None, None, text)
    details = error.get("error_data", {})
    detail = details.get("details") if isinstance(details, dict) else None
    parts = [str(error.get("message") or "").strip(), str(detail or "").strip()]
    text = ": ".join(p for p in parts if p) or "no message"
    if error.get("fbtrace_id"):
        text += f" (fbtrace_id {error['fbtrace_id']})"
    return ApiError(
        response.status_code, _int(error.get("code")), _int(error.get("error_subcode")), text
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def judge(response: requests.Response, attempt: Attempt, policy: RetryPolicy) -> None:
    """Accept a 2xx answer; raise what any other answer means (see the module docstring)."""
    if 200 <= response.status_code < 300:
        return
    error = read_error(response)
    code = error.code
    said = f"{PROVIDER} answered {error.status}" + (f" error {code}" if code is not None else "")
    said += f": {error.text}"
    where = f"channel {attempt.channel!r}"
    if code in TOKEN or error.status == 401:
        raise ChannelDown(
            f"{where}: {said}; the access token is invalid or expired: renew 'token' "
            "(WHATSAPP_TOKEN) with a system-user token that does not expire"
        )
    if code in PERMISSION:
        raise ChannelDown(
            f"{where}: {said}; the token lacks a permission: give the app "
            "whatsapp_business_messaging for this number and renew 'token'"
        )
    if code in ACCOUNT:
        raise ChannelDown(f"{where}: {said}; {ACCOUNT[code]}: resolve it in WhatsApp Manager")
    if code == UNKNOWN_OBJECT or error.subcode == UNKNOWN_OBJECT:
        raise ChannelDown(
            f"{where}: {said}; check 'phone_number_id' (the id of the business number in "
            "WhatsApp Manager, not the number itself) and the token's access to it"
        )
    if code in RATE_LIMITS or code in TEMPORARY:
        _try_again(response, said, policy)
    if code in LATER:
        raise SendError(f"{where}: {said}; it will be retried on a later run", retryable=True)
    if code in UNDELIVERABLE:
        raise BadRecipient(
            f"debtor {attempt.debtor}: WhatsApp cannot deliver to +{attempt.to} ({said}); "
            "the number may not use WhatsApp: reach them on another channel"
        )
    if code in OPTED_OUT:
        raise OptedOut(
            f"debtor {attempt.debtor} stopped marketing messages from us on WhatsApp (error "
            f"{code}, template {attempt.template!r}); reminders belong in utility templates, "
            "which this does not block"
        )
    if code == RE_ENGAGEMENT:
        raise SendError(
            f"{where}: {said}; WhatsApp treated the message as free-form text outside the "
            f"24-hour window although template {attempt.template!r} was sent: check that "
            "the template is approved and its category allows business-initiated messages"
        )
    if code in TEMPLATE:
        raise SendError(
            f"{where}: template {attempt.template!r} in language {attempt.language!r} (for "
            f"{attempt.step_template!r}) was refused: {said}; {TEMPLATE[code]}"
        )
    if error.status == 429 or error.status >= 500:
        _try_again(response, said, policy)
    raise SendError(f"{where}: message to debtor {attempt.debtor} refused: {said}")


def _try_again(response: requests.Response, said: str, policy: RetryPolicy) -> NoReturn:
    wait = retry_after_seconds(response.headers.get("Retry-After"))
    if wait is not None and wait > policy.max_retry_after_seconds:
        raise SendError(
            f"{said}; asked to wait {wait:g} s, more than {policy.max_retry_after_seconds:g} s: "
            "it will be retried on a later run",
            retryable=True,
        )
    raise Transient(said, retry_after=wait)


def receipt_of(response: requests.Response, attempt: Attempt) -> Receipt:
    """The receipt of an accepted message: ``messages[0].id`` (the wamid), found in the text
    when the body is not valid JSON. Raises :class:`UnreadableAnswer` when there is none."""
    body = json_or_none(response)
    wamid = _first(body, "messages", "id")
    wa_id = _first(body, "contacts", "wa_id")
    if wamid is None:
        found = WAMID.search(response.text)
        wamid = found.group(0) if found else None
    if wamid is None:
        raise UnreadableAnswer(
            f"channel {attempt.channel!r}: {PROVIDER} answered {response.status_code} without "
            f"a message id ({excerpt(response.text) or 'empty body'}), so it is unknown whether "
            f"the message to debtor {attempt.debtor} was accepted; check in WhatsApp Manager "
            "before sending it again"
        )
    who = f"wa_id {wa_id}" if wa_id else f"+{attempt.to}"
    return Receipt(
        provider_message_id=wamid,
        accepted_at=datetime.now(UTC),
        detail=f"to {who}, template {attempt.template} ({attempt.language})",
    )


def _first(body: Any, key: str, field: str) -> str | None:
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        return None
    value = items[0].get(field)
    return value if isinstance(value, str) and value else None
