"""The ``source:`` section of an Exact Online pipeline (``type: exact``).

Only the app's ``client_id`` and ``client_secret`` are required; the tokens come from
``dunning auth exact`` and live in the ledger::

    source:
      type: exact
      country: nl                       # or base_url: https://start.exactonline.be
      client_id: ${EXACT_CLIENT_ID}
      client_secret: ${EXACT_CLIENT_SECRET}
      division: 123456                  # optional: the user's current division otherwise

Pipelines of several divisions authorized by the same Exact user share one token pair: give
them the same ``connection`` (the default is ``default``). Exact rotates the refresh token on
every refresh, so a pair must never be used by two stores.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from dunning.core.http import RetryPolicy
from dunning.core.source import SourceConfig

COUNTRY_URLS = {
    "nl": "https://start.exactonline.nl",
    "be": "https://start.exactonline.be",
    "de": "https://start.exactonline.de",
    "uk": "https://start.exactonline.co.uk",
    "us": "https://start.exactonline.com",
    "es": "https://start.exactonline.es",
    "fr": "https://start.exactonline.fr",
}
DEFAULT_REDIRECT_URI = "http://localhost:8400/callback"
GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
ConsumerRule = Literal["without-registration", "none", "all"]


class PaymentEntries(BaseModel):
    """Opt-in payment write-back: each payment the pipeline learns of (a call outcome, an
    agency's report, ``mark-paid``) is posted as a bank entry line on ``journal``, with the
    invoice number as ``OurRef``, which Exact matches to the invoice when the amounts agree.

    Off unless configured: a payment that also reaches Exact through its bank feed would be
    booked twice. Use it for money Exact does not otherwise see (cash, a payment provider
    settling to a clearing account), with the journal of that account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    journal: str = Field(min_length=1, max_length=20)
    """The bank or cash journal code the entries go to (Exact's ``JournalCode``)."""
    gl_account: str | None = Field(default=None, pattern=GUID)
    """The G/L account (guid) of the lines; Exact takes the journal's default without it."""


class ExactConfig(SourceConfig):
    """Settings of a ``type: exact`` source."""

    client_id: SecretStr
    """The app's client id (Exact App Center)."""
    client_secret: SecretStr
    redirect_uri: str = DEFAULT_REDIRECT_URI
    """The app's registered redirect URI; ``dunning auth exact`` listens on it when it is a
    localhost address."""
    country: Literal["nl", "be", "de", "uk", "us", "es", "fr"] | None = None
    base_url: str | None = None
    """``https://start.exactonline.<tld>``; set ``country`` or this (a test fake's address)."""
    division: int | None = Field(default=None, ge=1)
    """The division (administration) to read; ``None``: the user's current division, asked
    once per run (``current/Me``)."""
    connection: str = Field(default="default", min_length=1, max_length=80)
    """The name the token pair is stored under in the ledger (shared by pipelines of divisions
    authorized by the same user)."""
    notes: bool = True
    """Record each action (a reminder sent, a call task, a handoff) as a communication note on
    the account."""
    task_user: str | None = Field(default=None, pattern=GUID)
    """The Exact user (guid) responsible for mirrored call tasks; the app's user without it."""
    payment_entries: PaymentEntries | None = None
    """Opt-in payment write-back (see :class:`PaymentEntries`); off by default."""
    consumers: ConsumerRule = "without-registration"
    """Which accounts are consumers (stricter collection law): ``without-registration``, those
    with neither a Chamber of Commerce nor a VAT number; ``none``; ``all``."""
    full_check_days: int = Field(default=7, ge=0)
    """Every so many days the sync also reads every open receivable (the bulk endpoint), and
    closes a case Exact no longer has open even when no change said so; 0: every run."""
    calls_per_minute: int = Field(default=60, ge=1)
    """Exact's minutely limit per app and division; the answers' headers can only lower it."""
    rate_window_seconds: float = Field(default=60.0, gt=0)
    """The length of Exact's minute (shorter only for a benchmark against a scaled fake)."""
    timeout: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=4, ge=1, le=10)
    max_wait_seconds: float = Field(default=65.0, gt=0)
    """The longest wait for a minutely limit to reset before a request is given up."""

    @field_validator("client_id", "client_secret")
    @classmethod
    def _given(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("is empty; set it, e.g. client_secret: ${EXACT_CLIENT_SECRET}")
        return value

    @field_validator("base_url", "redirect_uri")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError(f"must be an http(s) URL, not {value!r}")
        return value.rstrip("/") if value is not None else None

    @model_validator(mode="after")
    def _one_address(self) -> ExactConfig:
        if self.country is not None and self.base_url is not None:
            raise ValueError("give country or base_url, not both")
        return self

    @property
    def api_base(self) -> str:
        """``https://start.exactonline.<tld>`` (``base_url``, the ``country``'s, or NL's)."""
        if self.base_url is not None:
            return self.base_url
        return COUNTRY_URLS[self.country or "nl"]

    def retry_policy(self, *, replay_after_send: bool = True) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            timeout=self.timeout,
            max_retry_after_seconds=self.max_wait_seconds,
            replay_after_send=replay_after_send,
        )
