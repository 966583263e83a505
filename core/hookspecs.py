"""Hook specifications: the whole plugin contract of dunning.

Hooks only *register* kinds by name; the behaviour lives in the base classes
:class:`dunning.core.source.Source` and :class:`dunning.core.channel.Channel`. A plugin is a
module (or object) listed in the ``dunning`` entry-point group that implements one or both hooks
with the :data:`dunning.core.hookimpl` marker. In-tree plugins register the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click
import pluggy

from dunning.core import PROJECT_NAME

if TYPE_CHECKING:
    from dunning.core.channel import Channel
    from dunning.core.source import Source

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@hookspec
def dunning_register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register source kinds: call ``register(SourceClass)`` once per kind.

    Called once when the plugin manager is built, before any configuration is read.
    ``SourceClass.kind`` is the name ``pipelines.yaml`` uses in ``source: {type: ...}``; it must be
    unique across all installed plugins (a clash is a start-up error naming both plugins).
    ``SourceClass.Config`` is the pydantic model that validates the rest of the ``source`` section.
    Nothing is returned; raising here is a broken plugin and stops start-up.
    """


@hookspec
def dunning_register_channels(register: Callable[[type[Channel]], None]) -> None:
    """Register channel kinds: call ``register(ChannelClass)`` once per kind.

    Called once when the plugin manager is built. ``ChannelClass.kind`` is the name used in
    ``channels: {<name>: {type: ...}}``; unique across plugins. ``ChannelClass.Config`` validates
    the rest of that channel's section. Nothing is returned.
    """


@hookspec
def dunning_register_commands(register: Callable[[click.Command], None]) -> None:
    """Register command-line commands of the plugin: call ``register(command)`` per click
    command or group (``dunning moneybird administrations``). Its name must not clash with a
    built-in command or another plugin's (a clash is a start-up error naming both)."""
