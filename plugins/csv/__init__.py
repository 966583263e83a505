"""The ``csv`` source plugin: invoices from a spreadsheet export, payments written back into it.

Registered through the ``dunning`` entry-point group like any third-party plugin.
"""

from __future__ import annotations

from collections.abc import Callable

from dunning.core import hookimpl
from dunning.core.source import Source
from dunning.plugins.csv.source import CsvSource

__all__ = ["CsvSource", "dunning_register_sources"]


@hookimpl
def dunning_register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register the ``csv`` source kind."""
    register(CsvSource)
