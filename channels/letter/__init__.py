"""The ``letter`` channel plugin: reminders and legal letters on paper.

Registered through the ``dunning`` entry point ``letter = "dunning.channels.letter"``, the same
route a third-party plugin takes. Each message becomes a PDF letter for a left-window envelope
in a print outbox folder, and optionally an email to a print-and-post service.
"""

from __future__ import annotations

from collections.abc import Callable

from dunning.channels.letter.channel import LetterChannel
from dunning.channels.letter.config import LetterConfig, PrintService
from dunning.core import hookimpl
from dunning.core.channel import Channel

__all__ = ["LetterChannel", "LetterConfig", "PrintService", "dunning_register_channels"]


@hookimpl
def dunning_register_channels(register: Callable[[type[Channel]], None]) -> None:
    """Register the ``letter`` channel kind."""
    register(LetterChannel)
