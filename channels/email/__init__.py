"""The ``email`` channel plugin: reminders by email (SMTP, or ``.eml`` files in a folder).

Registered through the ``dunning`` entry point ``email = "dunning.channels.email"``, the same
route a third-party plugin takes. See ``docs/channel-email.md``.
"""

from __future__ import annotations

from collections.abc import Callable

from dunning.channels.email.channel import EmailChannel
from dunning.channels.email.config import EmailConfig, SmtpSettings
from dunning.core import hookimpl
from dunning.core.channel import Channel

__all__ = ["EmailChannel", "EmailConfig", "SmtpSettings", "dunning_register_channels"]


@hookimpl
def dunning_register_channels(register: Callable[[type[Channel]], None]) -> None:
    """Register the ``email`` channel kind."""
    register(EmailChannel)
