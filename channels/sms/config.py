"""The sms channel's section of ``pipelines.yaml``, validated by pydantic.

One model for both providers: ``provider`` says which keys apply. Keys of the other provider
are an error (they are a sign of a half-edited section, and a secret in the wrong place), as are
unknown keys (inherited from :class:`~dunning.core.channel.ChannelConfig`). Secrets are
:class:`SecretStr`: their values never appear in a message, a log line or a ``repr``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from dunning.core.channel import ChannelConfig
from dunning.core.http import RetryPolicy

PHONE_SENDER = re.compile(r"^\+?[0-9]{3,15}$")
ALPHANUMERIC_SENDER = re.compile(r"^[A-Za-z0-9 ]{1,11}$")
TWILIO_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
TWILIO_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")

DEFAULT_BASE_URLS = {
    "messagebird": "https://rest.messagebird.com",
    "twilio": "https://api.twilio.com",
}
PROVIDER_KEYS = {
    "messagebird": ("access_key", "originator"),
    "twilio": ("account_sid", "auth_token", "from_number", "messaging_service_sid"),
}
"""The keys that belong to one provider only."""


def _sender(value: str, key: str) -> str:
    """A sender is a phone number (digits, optionally ``+``) or at most 11 letters and digits
    (an alphanumeric sender ID, which the handset shows instead of a number)."""
    text = value.strip()
    compact = text.replace(" ", "")
    if PHONE_SENDER.match(compact):
        return compact
    if ALPHANUMERIC_SENDER.match(text) and any(char.isalpha() for char in text):
        return text
    raise ValueError(
        f"{key} must be a phone number (+31612345678) or a name of at most 11 letters and "
        f"digits ({len(text)} characters given)"
    )


class SmsConfig(ChannelConfig):
    """Settings of one ``type: sms`` channel. The docstring under each key documents it.

    Example (secrets come from the environment or ``.env``)::

        channels:
          sms:
            type: sms
            provider: messagebird
            access_key: ${MESSAGEBIRD_ACCESS_KEY}
            originator: Voorbeeld
    """

    provider: Literal["messagebird", "twilio"]
    base_url: str | None = None
    """The provider's API root; the public one by default (tests point it at a local server)."""

    access_key: SecretStr | None = None
    """MessageBird: the live or test access key (``Authorization: AccessKey ...``)."""
    originator: str | None = None
    """MessageBird: the sender shown on the handset: a number, or up to 11 letters/digits."""

    account_sid: str | None = None
    """Twilio: the account SID (``AC`` + 32 hex digits), also part of the request path."""
    auth_token: SecretStr | None = None
    """Twilio: the account's auth token (HTTP Basic password)."""
    from_number: str | None = None
    """Twilio: the sending number in E.164 (or an alphanumeric sender ID)."""
    messaging_service_sid: str | None = None
    """Twilio: a Messaging Service (``MG...``) that picks the sender; instead of ``from_number``."""

    templates: Path | None = None
    """A folder of ``<language>/<template>.txt`` that override or add to the built-in texts;
    relative to pipelines.yaml."""
    fold_to_gsm: bool = True
    """Write characters outside GSM-7 as their GSM-7 look-alikes (``ë`` as ``e``, ``’`` as
    ``'``) when that makes the whole text GSM-7: a name like Chloë would otherwise turn the text
    into UCS-2, with 70 characters a segment instead of 160."""
    max_segments: int = Field(default=3, ge=1, le=10)
    """A rendered text longer than this many segments is not sent (a permanent failure naming
    the template): it would cost more than intended, or arrive in pieces on old handsets."""
    timeout: float = Field(default=30.0, gt=0)
    """Seconds to wait for the provider's answer to one request."""
    max_attempts: int = Field(default=4, ge=1, le=10)
    """Requests per message on time-outs, 429 and 5xx before it waits for a later run."""
    retry_wait_seconds: float = Field(default=1.0, ge=0)
    """The first wait between attempts (it doubles), unless the provider sends Retry-After."""
    max_retry_after_seconds: float = Field(default=60.0, ge=0)
    """A longer Retry-After ends the attempts at once: the message waits for a later run."""

    @field_validator("originator", "from_number")
    @classmethod
    def _valid_sender(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else _sender(value, info.field_name or "sender")

    @field_validator("base_url")
    @classmethod
    def _valid_base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", text):
            raise ValueError("base_url must start with https:// (or http:// for a local test)")
        return text

    @model_validator(mode="after")
    def _provider_keys(self) -> SmsConfig:
        other = "twilio" if self.provider == "messagebird" else "messagebird"
        wrong = [key for key in PROVIDER_KEYS[other] if key in self.model_fields_set]
        if wrong:
            keys = ", ".join(repr(key) for key in wrong)
            one = len(wrong) == 1
            raise ValueError(
                f"{keys} belong{'s' if one else ''} to provider {other}, but this channel uses "
                f"provider {self.provider}; remove {'it' if one else 'them'}"
            )
        if self.provider == "messagebird":
            self._messagebird_keys()
        else:
            self._twilio_keys()
        return self

    def _messagebird_keys(self) -> None:
        missing = [
            key
            for key, value in (("access_key", self.access_key), ("originator", self.originator))
            if value is None or (isinstance(value, SecretStr) and not value.get_secret_value())
        ]
        if missing:
            raise ValueError(
                f"provider messagebird needs {' and '.join(missing)}; add "
                f"{'it' if len(missing) == 1 else 'them'} (the access key from the MessageBird "
                "dashboard, e.g. access_key: ${MESSAGEBIRD_ACCESS_KEY})"
            )

    def _twilio_keys(self) -> None:
        if self.account_sid is None or not TWILIO_ACCOUNT_SID.match(self.account_sid):
            raise ValueError(
                "provider twilio needs account_sid: 'AC' followed by 32 hexadecimal digits, as "
                "shown in the Twilio console"
            )
        if self.auth_token is None or not self.auth_token.get_secret_value():
            raise ValueError(
                "provider twilio needs auth_token; add it, e.g. auth_token: ${TWILIO_AUTH_TOKEN}"
            )
        if (self.from_number is None) == (self.messaging_service_sid is None):
            raise ValueError(
                "provider twilio needs exactly one of from_number (the sending number) and "
                "messaging_service_sid (a Messaging Service that picks it)"
            )
        if self.messaging_service_sid is not None and not TWILIO_SERVICE_SID.match(
            self.messaging_service_sid
        ):
            raise ValueError("messaging_service_sid must be 'MG' followed by 32 hexadecimal digits")

    @property
    def api_base(self) -> str:
        """``base_url``, or the provider's public API root."""
        return self.base_url or DEFAULT_BASE_URLS[self.provider]

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            wait_seconds=self.retry_wait_seconds,
            max_retry_after_seconds=self.max_retry_after_seconds,
            timeout=self.timeout,
            replay_after_send=False,  # neither provider drops a repeated request
        )

    def templates_in(self, config_dir: Path) -> Path | None:
        """The override folder, relative to the folder of pipelines.yaml."""
        return None if self.templates is None else config_dir / self.templates.expanduser()
