"""The ``sms`` channel plugin: short reminders by SMS through MessageBird or Twilio.

Registered through the ``dunning`` entry point ``sms = "dunning.channels.sms"``, the same route
a third-party plugin takes. Modules: ``config`` (the ``pipelines.yaml`` section), ``segments``
(GSM-7/UCS-2 length), ``render`` (templates), ``provider`` (reference, request),
``messagebird`` and ``twilio`` (the HTTP contracts and how their errors are classified),
``channel`` (recipient validation and sending).
"""

from __future__ import annotations

from collections.abc import Callable

from dunning.channels.sms.channel import SmsChannel
from dunning.channels.sms.config import SmsConfig
from dunning.core import hookimpl
from dunning.core.channel import Channel

__all__ = ["SmsChannel", "SmsConfig", "dunning_register_channels"]


@hookimpl
def dunning_register_channels(register: Callable[[type[Channel]], None]) -> None:
    """Register the ``sms`` channel kind."""
    register(SmsChannel)
