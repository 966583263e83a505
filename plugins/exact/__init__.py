"""The ``exact`` source plugin: open receivables of an Exact Online division, synced
incrementally under Exact's rate limits; notes, call tasks and (opt-in) payments written back.

Registered through the ``dunning`` entry-point group like any third-party plugin.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from dunning.core import hookimpl
from dunning.core.source import Source
from dunning.plugins.exact.commands import auth
from dunning.plugins.exact.source import ExactSource

__all__ = ["ExactSource", "dunning_register_commands", "dunning_register_sources"]


@hookimpl
def dunning_register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register the ``exact`` source kind."""
    register(ExactSource)


@hookimpl
def dunning_register_commands(register: Callable[[click.Command], None]) -> None:
    """Register ``dunning auth exact``."""
    register(auth)
