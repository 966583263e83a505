"""The ``source:`` section of a Moneybird pipeline (``type: moneybird``).

Only ``administration_id`` and ``token`` are required::

    source:
      type: moneybird
      administration_id: "496081500075198001"
      token: ${MONEYBIRD_TOKEN}

``token`` is a personal API token or an OAuth access token. With ``refresh_token``,
``client_id`` and ``client_secret`` (all three, or none) a ``401`` first refreshes the OAuth
token at ``oauth_url`` and tries again once. Secrets are :class:`SecretStr`: their values never
appear in a message, a log line or a ``repr``.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from dunning.core.http import RetryPolicy
from dunning.core.source import SourceConfig

DEFAULT_BASE_URL = "https://moneybird.com/api/v2"
DEFAULT_OAUTH_URL = "https://moneybird.com/oauth/token"
DEFAULT_PERIOD = "20000101..20991231"
"""Wide and explicit: without a ``period`` Moneybird answers ``this_year`` only, and last year's
overdue invoices go missing (API-CONTRACTS.md 2.2)."""
ManualPaymentAction = Literal[
    "private_payment",
    "payment_without_proof",
    "cash_payment",
    "rounding_error",
    "balance_settlement",
    "invoices_settlement",
]
"""Moneybird's actions, less ``bank_transfer`` (it needs a financial mutation we do not have)."""
PERIOD = re.compile(r"^(\d{6}\.\.\d{6}|\d{8}\.\.\d{8}|(this|prev|next)_(month|quarter|year))$")


class MoneybirdConfig(SourceConfig):
    """Settings of a ``type: moneybird`` source."""

    administration_id: str = Field(pattern=r"^\d+$")
    """The administration's id (digits; ``dunning moneybird administrations`` lists them)."""
    token: SecretStr
    """Personal API token or OAuth access token (``Authorization: Bearer``)."""
    refresh_token: SecretStr | None = None
    client_id: SecretStr | None = None
    client_secret: SecretStr | None = None
    oauth_url: str = DEFAULT_OAUTH_URL
    base_url: str = DEFAULT_BASE_URL
    period: str = DEFAULT_PERIOD
    """Sent with every invoice query (``YYYYMMDD..YYYYMMDD``, ``YYYYMM..YYYYMM`` or a name)."""
    notes: bool = True
    """Write a note on the Moneybird invoice for each action the pipeline takes."""
    pause_own_reminders: bool = True
    """Pause Moneybird's own reminder workflow for an invoice while the pipeline chases it."""
    manual_payment_action: ManualPaymentAction | None = None
    """Sent with each payment registered; left out by default (the bank transaction is matched
    to the payment when it comes in). ``payment_without_proof`` books it without one."""
    requests_per_window: int = Field(default=150, ge=1)
    window_seconds: float = Field(default=300.0, gt=0)
    timeout: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=4, ge=1, le=10)

    @field_validator("token")
    @classmethod
    def _token_given(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("token is empty; set it, e.g. token: ${MONEYBIRD_TOKEN}")
        return value

    @field_validator("base_url", "oauth_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"must be an http(s) URL, not {value!r}")
        return value.rstrip("/")

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        if not PERIOD.match(value):
            raise ValueError(
                "period must look like 20000101..20991231 (YYYYMMDD..YYYYMMDD), "
                "202001..209912 or a name such as prev_year"
            )
        return value

    @model_validator(mode="after")
    def _oauth_complete(self) -> MoneybirdConfig:
        given = [self.refresh_token, self.client_id, self.client_secret]
        if any(given) and not all(given):
            raise ValueError(
                "OAuth refresh needs refresh_token, client_id and client_secret together"
            )
        return self

    @property
    def can_refresh(self) -> bool:
        return self.refresh_token is not None

    def retry_policy(self, *, replay_after_send: bool = True) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            timeout=self.timeout,
            replay_after_send=replay_after_send,
        )
