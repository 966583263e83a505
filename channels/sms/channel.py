"""The sms channel: a short text to the debtor's mobile number, through MessageBird or Twilio.

Each message is rendered (:mod:`.render`), folded to GSM-7 where look-alikes make that possible
(``fold_to_gsm``), measured (:mod:`.segments`) and refused before any request when it is longer
than ``max_segments``: a permanent failure of that message naming the template. The provider's
reference is derived from the idempotency key (:mod:`.provider`); neither provider can drop a
duplicate by it, see :mod:`.messagebird` and :mod:`.twilio`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import ClassVar

import phonenumbers

from dunning.channels.sms.config import SmsConfig
from dunning.channels.sms.messagebird import MessageBird
from dunning.channels.sms.provider import SmsProvider, SmsRequest, provider_reference
from dunning.channels.sms.render import SmsRenderer, SmsTemplateError
from dunning.channels.sms.segments import fold_to_gsm7, measure, non_gsm_characters
from dunning.channels.sms.twilio import Twilio
from dunning.core.channel import Channel, ChannelConfig, ChannelContext, Connection, OutgoingMessage
from dunning.core.errors import BadRecipient, ConfigError, PluginError, SendError
from dunning.core.models import Debtor, Receipt
from dunning.core.phones import BadPhoneNumber, normalise_phone

MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
NOT_MOBILE = {
    phonenumbers.PhoneNumberType.FIXED_LINE: "a landline",
    phonenumbers.PhoneNumberType.VOIP: "an internet (VoIP) number",
    phonenumbers.PhoneNumberType.TOLL_FREE: "a toll-free number",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    phonenumbers.PhoneNumberType.SHARED_COST: "a shared-cost number",
    phonenumbers.PhoneNumberType.PAGER: "a pager number",
    phonenumbers.PhoneNumberType.UAN: "a company switchboard number",
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER: "a personal forwarding number",
    phonenumbers.PhoneNumberType.VOICEMAIL: "a voicemail number",
}
SKIPPED_ROLES = frozenset({"management"})
"""Contact people never texted: a manager is whom a credit controller escalates to by phone."""


def mobile_number(text: str, country: str | None) -> str:
    """``text`` in E.164 when it is a valid mobile number (numbers without ``+`` read as
    numbers of ``country``, default NL); else :class:`BadPhoneNumber` saying what it is."""
    e164 = normalise_phone(text, country)
    kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    if kind not in MOBILE_TYPES:
        what = NOT_MOBILE.get(kind, "not a mobile number")
        raise BadPhoneNumber(f"{text} is {what}, SMS needs a mobile number")
    return e164


class SmsChannel(Channel):
    """SMS to the debtor's mobile number. Settings: :class:`SmsConfig`."""

    kind: ClassVar[str] = "sms"
    Config: ClassVar[type[ChannelConfig]] = SmsConfig

    def __init__(self, config: ChannelConfig, context: ChannelContext) -> None:
        if not isinstance(config, SmsConfig):
            raise PluginError(
                f"channel {context.name!r}: the sms channel needs an SmsConfig, "
                f"got {type(config).__name__}"
            )
        super().__init__(config, context)
        self.settings = config
        self.renderer = SmsRenderer(config.templates_in(context.config_dir))

    def recipient(self, debtor: Debtor) -> str:
        """The first mobile number among the debtor's phone and their contact people's phones
        (managers left out), in E.164; :class:`BadRecipient` naming every number tried."""
        numbers = [debtor.phone] + [
            contact.phone for contact in debtor.contacts if contact.role not in SKIPPED_ROLES
        ]
        usable = [number.strip() for number in numbers if number and number.strip()]
        who = f"debtor {debtor.debtor_id} ({debtor.name})"
        if not usable:
            raise BadRecipient(f"{who} has no phone number; add a mobile number in the source")
        problems = []
        for number in usable:
            try:
                return mobile_number(number, debtor.country)
            except BadPhoneNumber as error:
                problems.append(str(error))
        raise BadRecipient(f"{who}: {'; '.join(problems)}; add one in the source")

    def check(self, templates: Collection[str] = ()) -> None:
        """The override folder exists and every template the steps use is found and compiles."""
        folder = self.settings.templates_in(self.context.config_dir)
        if folder is not None and not folder.is_dir():
            raise ConfigError(
                f"channel {self.context.name!r}: templates folder {folder} is missing"
            )
        for template in templates:
            try:
                self.renderer.check(template)
            except SmsTemplateError as error:
                raise ConfigError(f"channel {self.context.name!r}: {error}") from None

    def connect(self) -> AbstractContextManager[Connection]:
        return self._session()

    @contextmanager
    def _session(self) -> Iterator[Connection]:
        provider: SmsProvider = (
            MessageBird(self.settings)
            if self.settings.provider == "messagebird"
            else Twilio(self.settings)
        )
        try:
            yield _SmsConnection(self, provider)
        finally:
            provider.close()


class _SmsConnection:
    def __init__(self, channel: SmsChannel, provider: SmsProvider) -> None:
        self.channel = channel
        self.provider = provider

    def send(self, message: OutgoingMessage) -> Receipt:
        rendered = self.channel.renderer.render(message)
        text = rendered.text
        if self.channel.settings.fold_to_gsm:
            text = fold_to_gsm7(text)
        length = measure(text)
        limit = self.channel.settings.max_segments
        if length.segments > limit:
            odd = non_gsm_characters(text)
            why = f"; unicode because of {''.join(odd)!r}" if odd else ""
            raise SendError(
                f"SMS template {rendered.template_file} gives {length.describe()} for "
                f"{message.idempotency_key}{why}, more than max_segments {limit}; shorten the "
                "template or raise max_segments",
                retryable=False,
            )
        debtor = message.debtor
        return self.provider.send(
            SmsRequest(
                to=message.recipient,
                text=text,
                length=length,
                reference=provider_reference(message.idempotency_key),
                whom=f"debtor {debtor.debtor_id} ({debtor.name})",
            )
        )
