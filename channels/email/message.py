"""Building the MIME message and its envelope from a rendered message.

The ``Message-ID`` is derived from the idempotency key only, so every attempt to send the same
message carries the same id and a mail server or mailbox can drop a duplicate. The archive
``bcc`` is an envelope recipient only: it never appears in a header.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime

from dunning.channels.email.addresses import debtor_label, domain_of, split_addresses
from dunning.channels.email.config import EmailConfig
from dunning.channels.email.render import RenderedMessage
from dunning.core.channel import OutgoingMessage
from dunning.core.errors import BadRecipient

KEY_HEADER = "X-Dunning-Key"


class _CachingHeaderRegistry(HeaderRegistry):
    """The standard registry creates a new header class on every header it sets or reads; this
    one creates each class once (a quarter of the cost of building a message)."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        found = self._classes.get(key)
        if found is None:
            found = self._classes[key] = super().__getitem__(name)
        return found


MIME_POLICY = policy.SMTP.clone(header_factory=_CachingHeaderRegistry())
"""RFC 5322 with CRLF line ends; headers that need it are encoded (RFC 2047)."""
MIME_POLICY_UTF8 = MIME_POLICY.clone(utf8=True)
"""For addresses with non-ASCII local parts (sent with the SMTPUTF8 extension)."""


def message_id_for(idempotency_key: str, from_address: str) -> str:
    """``<sha256(key)[:32]@sender-domain>``: the same key always gives the same id."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{domain_of(from_address)}>"


@dataclass(frozen=True, slots=True)
class Envelope:
    """SMTP envelope: ``recipients`` are the debtor's addresses, ``bcc`` the archive, if any."""

    sender: str
    recipients: tuple[str, ...]
    bcc: str | None

    @property
    def all_recipients(self) -> tuple[str, ...]:
        return (*self.recipients, self.bcc) if self.bcc else self.recipients

    @property
    def needs_smtputf8(self) -> bool:
        """True when an address has a non-ASCII local part (needs the SMTPUTF8 extension)."""
        return not all(address.isascii() for address in (self.sender, *self.all_recipients))


@dataclass(frozen=True, slots=True)
class BuiltMessage:
    """A message ready for delivery: MIME content, envelope and Message-ID."""

    mime: EmailMessage
    envelope: Envelope
    message_id: str

    def as_bytes(self) -> bytes:
        """The message as it goes on the wire or into a ``.eml`` file (CRLF line ends)."""
        utf8 = self.envelope.needs_smtputf8
        return self.mime.as_bytes(policy=MIME_POLICY_UTF8 if utf8 else MIME_POLICY)


Builder = Callable[[OutgoingMessage], BuiltMessage]
"""Renders an :class:`OutgoingMessage` and wraps it as a :class:`BuiltMessage`."""


def _address(address: str, display_name: str = "") -> Address:
    local, _, domain = address.rpartition("@")
    return Address(display_name=display_name, username=local, domain=domain)


def build_message(
    message: OutgoingMessage,
    rendered: RenderedMessage,
    config: EmailConfig,
    *,
    now: datetime | None = None,
) -> BuiltMessage:
    """A multipart/alternative (text, then HTML) message with the channel's sender headers.

    ``message.recipient`` holds one or more validated addresses separated by ``,`` or ``;``;
    none at all raises :class:`BadRecipient`.
    """
    recipients = tuple(split_addresses(message.recipient))
    if not recipients:
        raise BadRecipient(
            f"{debtor_label(message.debtor)}: the message has no recipient address; add an "
            "email address in the source"
        )
    from_name = config.from_name if config.from_name is not None else message.creditor.name
    message_id = message_id_for(message.idempotency_key, config.from_address)

    mime = EmailMessage(policy=MIME_POLICY)
    mime["From"] = _address(config.from_address, from_name)
    mime["To"] = [_address(address) for address in recipients]
    if config.reply_to:
        mime["Reply-To"] = _address(config.reply_to, from_name)
    mime["Date"] = format_datetime(now or datetime.now(UTC))
    mime["Subject"] = rendered.subject
    mime["Message-ID"] = message_id
    mime[KEY_HEADER] = message.idempotency_key
    mime.set_content(rendered.text, subtype="plain", cte="quoted-printable")
    mime.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    for document in message.documents:  # the invoices' PDFs: the message becomes mixed
        mime.add_attachment(
            document.content, maintype="application", subtype="pdf", filename=document.filename
        )
    mime["Content-Language"] = rendered.language  # after the parts, or it moves into the first

    envelope = Envelope(sender=config.from_address, recipients=recipients, bcc=config.bcc)
    return BuiltMessage(mime=mime, envelope=envelope, message_id=message_id)
