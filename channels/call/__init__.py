"""The ``call`` channel plugin: a ladder step that creates a call task for a credit controller.

Registered through the ``dunning`` entry point ``call = "dunning.channels.call"``, the same
route a third-party plugin takes. See ``docs/calls.md``.
"""

from __future__ import annotations

from collections.abc import Callable

from dunning.channels.call.channel import CallChannel, CallChannelConfig
from dunning.core import hookimpl
from dunning.core.channel import Channel

__all__ = ["CallChannel", "CallChannelConfig", "dunning_register_channels"]


@hookimpl
def dunning_register_channels(register: Callable[[type[Channel]], None]) -> None:
    """Register the ``call`` channel kind."""
    register(CallChannel)
