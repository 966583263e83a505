"""The ``moneybird`` source plugin: sales invoices from a Moneybird administration, synced
incrementally; payments, notes and to-dos written back; Moneybird's own reminders paused while
the pipeline chases an invoice.

Registered through the ``dunning`` entry-point group like any third-party plugin.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from dunning.core import hookimpl
from dunning.core.source import Source
from dunning.plugins.moneybird.commands import moneybird
from dunning.plugins.moneybird.source import MoneybirdSource

__all__ = ["MoneybirdSource", "dunning_register_commands", "dunning_register_sources"]


@hookimpl
def dunning_register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register the ``moneybird`` source kind."""
    register(MoneybirdSource)


@hookimpl
def dunning_register_commands(register: Callable[[click.Command], None]) -> None:
    """Register ``dunning moneybird`` (``administrations``)."""
    register(moneybird)
