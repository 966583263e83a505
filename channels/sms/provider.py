"""What the channel hands a provider client, and what every client promises in return."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from dunning.channels.sms.segments import SmsLength
from dunning.core.models import Receipt

REFERENCE_PREFIX = "dunning-"


def provider_reference(idempotency_key: str) -> str:
    """A short reference derived from the message's idempotency key: the same on every attempt
    and every run, so a message can be found in the provider's logs from the ledger (and a
    duplicate recognised), without putting the key itself (pipeline, debtor) in the request."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()
    return REFERENCE_PREFIX + digest[:16]


@dataclass(frozen=True, slots=True)
class SmsRequest:
    """One text to one number. ``whom`` names the debtor in error messages."""

    to: str
    """E.164, with ``+``."""
    text: str
    length: SmsLength
    reference: str
    whom: str


class SmsProvider(Protocol):
    """A provider's client for one batch; its requests share one HTTP session."""

    def send(self, request: SmsRequest) -> Receipt:
        """Hand the text to the provider; return its receipt.

        Raises :class:`~dunning.core.errors.ChannelDown` (credentials, balance, sender: nothing
        more can be sent this run), :class:`~dunning.core.errors.OptedOut`,
        :class:`~dunning.core.errors.BadRecipient`, or :class:`~dunning.core.errors.SendError`
        (``retryable`` when attempts ran out on time-outs, 429 or 5xx).
        """
        ...

    def close(self) -> None:
        """Release the HTTP session."""
        ...
