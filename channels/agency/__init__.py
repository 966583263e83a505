"""The ``agency`` channel plugin: hands debtors over to a collection agency with a dossier.

Registered through the ``dunning`` entry point ``agency = "dunning.channels.agency"``, the same
route a third-party plugin takes. A step on this channel hands its invoices over: the core builds
a :class:`~dunning.core.handoff.dossier.Dossier`, which this plugin renders (JSON manifest, CSV of
invoices, PDF summary, invoice PDFs) and delivers to a folder, an intake mailbox or an API.
"""

from __future__ import annotations

from collections.abc import Callable

from dunning.channels.agency.channel import AgencyChannel
from dunning.channels.agency.config import AgencyConfig, SmtpSettings
from dunning.core import hookimpl
from dunning.core.channel import Channel

__all__ = ["AgencyChannel", "AgencyConfig", "SmtpSettings", "dunning_register_channels"]


@hookimpl
def dunning_register_channels(register: Callable[[type[Channel]], None]) -> None:
    """Register the ``agency`` channel kind."""
    register(AgencyChannel)
