"""The ``whatsapp`` channel: approved template messages through the WhatsApp Business Cloud API.

Reminders usually reach a debtor outside WhatsApp's 24-hour customer-service window, where only
approved templates may be sent; this channel therefore sends nothing but templates. Each
template the steps use is mapped in the config to an approved WhatsApp template, its language
per debtor language, and the values of its parameters (see :mod:`.parameters`).

The Cloud API takes no idempotency key. Once-only delivery rests on the engine's outbox (a
message is claimed before it is sent and never handed over again once accepted) and on this
channel never repeating a request that may have arrived (see :mod:`.client`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import ClassVar

import phonenumbers

from dunning.channels.whatsapp.answers import Attempt
from dunning.channels.whatsapp.client import CloudApiSession, template_body
from dunning.channels.whatsapp.config import WhatsAppConfig
from dunning.channels.whatsapp.parameters import MissingValue, button_value, parameter_values
from dunning.core.channel import Channel, ChannelConfig, ChannelContext, Connection, OutgoingMessage
from dunning.core.errors import BadRecipient, ConfigError, PluginError, SendError
from dunning.core.models import Debtor, Receipt
from dunning.core.phones import BadPhoneNumber, normalise_phone

MOBILE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


class WhatsAppChannel(Channel):
    """Template messages to the debtor's mobile number. Settings: :class:`WhatsAppConfig`."""

    kind: ClassVar[str] = "whatsapp"
    Config: ClassVar[type[ChannelConfig]] = WhatsAppConfig

    def __init__(self, config: ChannelConfig, context: ChannelContext) -> None:
        if not isinstance(config, WhatsAppConfig):
            raise PluginError(
                f"channel {context.name!r}: the whatsapp channel needs a WhatsAppConfig, "
                f"got {type(config).__name__}"
            )
        super().__init__(config, context)
        self.settings = config

    def recipient(self, debtor: Debtor) -> str:
        """The debtor's phone number in E.164 without the ``+`` (as the Cloud API's ``to``).

        Numbers without a country code are read for ``debtor.country`` (default NL). Raises
        :class:`BadRecipient` when there is no number, it is invalid, or it is not a mobile
        number (WhatsApp runs on mobile numbers)."""
        who = f"debtor {debtor.debtor_id} ({debtor.name})"
        if not (debtor.phone or "").strip():
            raise BadRecipient(
                f"{who} has no phone number for WhatsApp; add a mobile number in the source "
                "or reach them on another channel"
            )
        number = str(debtor.phone)
        try:
            e164 = normalise_phone(number, debtor.country)
        except BadPhoneNumber as error:
            raise BadRecipient(f"{who}: {error}; correct the number in the source") from None
        if phonenumbers.number_type(phonenumbers.parse(e164)) not in MOBILE:
            raise BadRecipient(
                f"{who}: {number!r} ({e164}) is not a mobile number, so it cannot use "
                "WhatsApp; add a mobile number in the source or reach them on another channel"
            )
        return e164.removeprefix("+")

    def check(self, templates: Collection[str] = ()) -> None:
        """Every template the steps use on this channel is mapped to a WhatsApp template.

        Parameter names, language codes and template names are already checked when the config
        is loaded. Whether the template is approved, in which languages, and with how many
        variables, only the Cloud API knows: a send reports that (error 132000/132001)."""
        missing = sorted(set(templates) - set(self.settings.templates))
        if missing:
            mapped = ", ".join(sorted(self.settings.templates)) or "none"
            raise ConfigError(
                f"channel {self.context.name!r} of pipeline {self.context.pipeline!r}: no "
                f"WhatsApp template for {', '.join(repr(t) for t in missing)} (mapped: {mapped}); "
                "add each under 'templates' with the approved template's name, languages and "
                "parameters"
            )

    def connect(self) -> AbstractContextManager[Connection]:
        """One kept-alive HTTP session for a batch; nothing is called until the first send."""
        return self._session()

    @contextmanager
    def _session(self) -> Iterator[Connection]:
        session = CloudApiSession(self.settings)
        try:
            yield _TemplateSender(self, session)
        finally:
            session.close()


class _TemplateSender:
    def __init__(self, channel: WhatsAppChannel, session: CloudApiSession) -> None:
        self.channel = channel
        self.session = session

    def send(self, message: OutgoingMessage) -> Receipt:
        """Send ``message`` as its mapped template; see :class:`Connection` for the errors.

        A missing mapping or parameter value is a permanent :class:`SendError`: nothing was
        sent and nothing will change until the config or the data does."""
        name = self.channel.context.name
        debtor = f"{message.debtor.debtor_id} ({message.debtor.name})"
        mapping = self.channel.settings.templates.get(message.template)
        if mapping is None:
            raise SendError(
                f"channel {name!r}: no WhatsApp template for {message.template!r}; add it "
                "under 'templates' (run 'dunning check')"
            )
        language = mapping.language_code(message.debtor.language)
        try:
            values = parameter_values(message, mapping.parameters, language)
            button = (
                button_value(message, mapping.button_base_url) if mapping.payment_button else None
            )
        except MissingValue as error:
            raise SendError(
                f"channel {name!r}: template {mapping.name!r} for debtor {debtor}: {error}"
            ) from None
        attempt = Attempt(
            channel=name,
            step_template=message.template,
            template=mapping.name,
            language=language,
            debtor=debtor,
            to=message.recipient,
        )
        body = template_body(message.recipient, mapping.name, language, values, button)
        return self.session.post(body, attempt)
