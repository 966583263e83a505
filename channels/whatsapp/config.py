"""The whatsapp channel's section of ``pipelines.yaml``, validated by pydantic.

Unknown keys are errors (inherited from :class:`~dunning.core.channel.ChannelConfig`), and so
are parameter names outside :data:`~dunning.channels.whatsapp.parameters.PARAMETERS`: both are
reported at load time with the file and line. The access token is a :class:`SecretStr`, so its
value never appears in a message, a log line or a ``repr``; write it as ``${WHATSAPP_TOKEN}``.

Example::

    channels:
      whatsapp:
        type: whatsapp
        phone_number_id: "106540352242922"
        token: ${WHATSAPP_TOKEN}
        templates:
          friendly-reminder:
            name: payment_reminder_1
            languages: {nl: nl, en: en_GB}
            parameters: [first_name, invoice_numbers, amount, due_date, payment_link]
            payment_button: true
            button_base_url: https://paymentlink.mollie.com/payment/
"""

from __future__ import annotations

import difflib
import re

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from dunning.channels.whatsapp.parameters import PARAMETERS
from dunning.core.channel import ChannelConfig
from dunning.core.http import RetryPolicy

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")


class WhatsAppTemplate(BaseModel):
    """One approved WhatsApp message template standing in for one of the ladder's templates.

    ``languages`` maps a debtor's language to the template's WhatsApp language code
    (``en: en_GB``); a language not listed is used as the code itself. ``parameters`` name, in
    order, the values for the body's ``{{1}}``, ``{{2}}``, ...; the approved template must have
    exactly that many. With ``payment_button`` the template has a URL button (the first button)
    whose variable is the payment link; ``button_base_url`` is the fixed start of that URL in
    the approved template, which is cut off the link to leave the variable part.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    """The approved template's name in WhatsApp Manager (lowercase letters, digits, ``_``)."""
    languages: dict[str, str] = {}
    parameters: tuple[str, ...] = ()
    payment_button: bool = False
    button_base_url: str | None = None

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, value: dict[str, str]) -> dict[str, str]:
        for language, code in value.items():
            if not LANGUAGE_CODE.match(code):
                raise ValueError(
                    f"{code!r} (for {language!r}) is not a WhatsApp language code; write it "
                    "as in WhatsApp Manager, e.g. nl, en, en_GB, en_US, de, fr"
                )
        return value

    @field_validator("parameters")
    @classmethod
    def _known_parameters(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if name not in PARAMETERS:
                close = difflib.get_close_matches(name, list(PARAMETERS), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ValueError(
                    f"unknown parameter {name!r}; {hint}known parameters: {', '.join(PARAMETERS)}"
                )
        return value

    @model_validator(mode="after")
    def _button_base_needs_button(self) -> WhatsAppTemplate:
        if self.button_base_url is not None and not self.payment_button:
            raise ValueError("button_base_url is only used with payment_button: true; add that")
        return self

    def language_code(self, language: str) -> str:
        """The WhatsApp language code to send to a debtor who reads ``language``."""
        return self.languages.get(language, language)


class WhatsAppConfig(ChannelConfig):
    """Settings of one ``type: whatsapp`` channel (WhatsApp Business Cloud API).

    ``templates`` maps each template name the steps use (``friendly-reminder``) to an approved
    WhatsApp template. ``timeout``, ``max_attempts``, ``retry_wait_seconds`` and
    ``max_retry_after_seconds`` steer the HTTP attempts of one message within a run (see
    :mod:`dunning.core.http`).
    """

    phone_number_id: str = Field(pattern=r"^\d+$")
    """The business phone number's id in WhatsApp Manager (digits; not the phone number)."""
    token: SecretStr
    """A system-user access token with ``whatsapp_business_messaging`` permission."""
    api_version: str = Field(default="v21.0", pattern=r"^v\d+\.\d+$")
    base_url: str = Field(default="https://graph.facebook.com", pattern=r"^https?://\S+$")
    templates: dict[str, WhatsAppTemplate]
    timeout: float = Field(default=30, gt=0)
    max_attempts: int = Field(default=4, ge=1, le=10)
    retry_wait_seconds: float = Field(default=1.0, ge=0)
    max_retry_after_seconds: float = Field(default=60, ge=0)

    @field_validator("token")
    @classmethod
    def _token_not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("the access token is empty; set WHATSAPP_TOKEN in the environment")
        return value

    @property
    def messages_url(self) -> str:
        """``{base_url}/{api_version}/{phone_number_id}/messages``."""
        return f"{self.base_url.rstrip('/')}/{self.api_version}/{self.phone_number_id}/messages"

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            wait_seconds=self.retry_wait_seconds,
            max_retry_after_seconds=self.max_retry_after_seconds,
            timeout=self.timeout,
            replay_after_send=False,  # no idempotency key: a request that went out is not repeated
        )
