"""Mollie payment links: ``POST /v2/payment-links`` (API-CONTRACTS.md section 4).

The amount is a string with exactly two decimals, the invoice numbers go in the description (so
the payout and the bank statement can be matched), and the message's idempotency key is sent as
``Idempotency-Key``, so a retry after a lost answer cannot make a second link. The link to put
in the message is ``_links.paymentLink.href``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests

from dunning.core.errors import SendError
from dunning.core.http import (
    RetryPolicy,
    call_with_retries,
    excerpt,
    json_or_none,
    transient_status,
)

USER_AGENT = "dunning-payment-links/1"


class MollieRefused(SendError):
    """Mollie will not make links with these settings (bad API key, bad profile): links are off
    for the rest of the run."""


@dataclass(frozen=True, slots=True)
class CreatedLink:
    link_id: str
    url: str


class MollieClient:
    """One session with the Mollie API for a run."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://api.mollie.com",
        policy: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/hal+json, application/json",
                "User-Agent": USER_AGENT,
            }
        )

    def close(self) -> None:
        self.session.close()

    def create(
        self,
        *,
        amount: Decimal,
        currency: str,
        description: str,
        key: str,
        redirect_url: str | None = None,
        webhook_url: str | None = None,
        expires_after_days: int | None = None,
        today: datetime | None = None,
    ) -> CreatedLink:
        """Make a payment link for ``amount``; raises :class:`MollieRefused` for settings Mollie
        refuses, :class:`SendError` (retryable) when Mollie cannot be reached."""
        body: dict[str, Any] = {
            "description": description[:255],
            "amount": {"currency": currency, "value": f"{amount:.2f}"},
        }
        if redirect_url:
            body["redirectUrl"] = redirect_url
        if webhook_url:
            body["webhookUrl"] = webhook_url
        if expires_after_days is not None:
            moment = (today or datetime.now(UTC)) + timedelta(days=expires_after_days)
            body["expiresAt"] = moment.replace(microsecond=0).isoformat()
        url = f"{self.base_url}/v2/payment-links"
        response = call_with_retries(
            self.session,
            "POST",
            url,
            what="Mollie",
            policy=self.policy,
            judge=self._judge,
            json=body,
            headers={"Idempotency-Key": key},
        )
        data = json_or_none(response)
        try:
            return CreatedLink(str(data["id"]), str(data["_links"]["paymentLink"]["href"]))
        except (TypeError, KeyError):
            raise SendError(
                f"Mollie answered {response.status_code} without a payment link "
                f"({excerpt(response.text)})",
                retryable=True,
            ) from None

    def _judge(self, response: requests.Response) -> None:
        if 200 <= response.status_code < 300:
            return
        transient_status(response, "Mollie", self.policy)
        data = json_or_none(response)
        detail = data.get("detail") if isinstance(data, dict) else None
        field = data.get("field") if isinstance(data, dict) else None
        text = detail or excerpt(response.text)
        where = f" (field {field})" if field else ""
        if response.status_code in (401, 403):
            raise MollieRefused(
                f"Mollie refused the API key ({response.status_code}: {text}); check "
                "payment_links.api_key (live_... or test_...)"
            )
        raise MollieRefused(
            f"Mollie refused the payment link: {response.status_code} {text}{where}"
        )
