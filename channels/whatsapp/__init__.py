"""The ``whatsapp`` channel plugin: reminders as approved WhatsApp templates (Cloud API).

Registered through the ``dunning`` entry point ``whatsapp = "dunning.channels.whatsapp"``, the
same route a third-party plugin takes. Settings: :class:`WhatsAppConfig`.
"""

from __future__ import annotations

from collections.abc import Callable

from dunning.channels.whatsapp.channel import WhatsAppChannel
from dunning.channels.whatsapp.config import WhatsAppConfig, WhatsAppTemplate
from dunning.core import hookimpl
from dunning.core.channel import Channel

__all__ = ["WhatsAppChannel", "WhatsAppConfig", "WhatsAppTemplate", "dunning_register_channels"]


@hookimpl
def dunning_register_channels(register: Callable[[type[Channel]], None]) -> None:
    """Register the ``whatsapp`` channel kind."""
    register(WhatsAppChannel)
