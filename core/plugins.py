"""The plugin manager: loads every plugin of the ``dunning`` entry-point group and collects kinds.

In-tree plugins (``csv``, ``email``) are entry points of this distribution, so every run takes the
same route as a third-party plugin. ``DUNNING_DISABLE_PLUGINS`` (comma-separated entry-point
names) blocks plugins before they are imported.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click
import pluggy

from dunning.core import PROJECT_NAME, hookspecs
from dunning.core.channel import Channel
from dunning.core.errors import PluginError
from dunning.core.source import Source

DISABLE_ENV = "DUNNING_DISABLE_PLUGINS"
T = TypeVar("T")


@dataclass
class Registry:
    """Installed source and channel kinds, and which plugin provided each."""

    sources: dict[str, type[Source]] = field(default_factory=dict)
    channels: dict[str, type[Channel]] = field(default_factory=dict)
    provided_by: dict[tuple[str, str], str] = field(default_factory=dict)

    def source(self, kind: str) -> type[Source]:
        return self._lookup("source", self.sources, kind)

    def channel(self, kind: str) -> type[Channel]:
        return self._lookup("channel", self.channels, kind)

    @staticmethod
    def _lookup(role: str, kinds: dict[str, T], kind: str) -> T:
        if kind in kinds:
            return kinds[kind]
        available = ", ".join(sorted(kinds)) or "none"
        close = difflib.get_close_matches(kind, list(kinds), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise PluginError(
            f"unknown {role} type {kind!r}{hint}; installed {role} types: {available}"
        )


def blocked_plugins() -> list[str]:
    raw = os.environ.get(DISABLE_ENV, "")
    return [name.strip() for name in raw.split(",") if name.strip()]


def get_plugin_manager() -> pluggy.PluginManager:
    """Build a plugin manager with the hook specs and every non-blocked entry-point plugin."""
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    for name in blocked_plugins():
        manager.set_blocked(name)
    try:
        manager.load_setuptools_entrypoints(PROJECT_NAME)
    except Exception as exc:  # a plugin that fails to import must not take down the CLI
        raise PluginError(f"a dunning plugin failed to load: {exc}") from exc
    manager.check_pending()
    return manager


def load_registry(manager: pluggy.PluginManager | None = None) -> Registry:
    """Ask every plugin to register its kinds. A kind registered twice is a start-up error."""
    manager = manager or get_plugin_manager()
    registry = Registry()
    names = {id(plugin): name for name, plugin in manager.list_name_plugin()}

    for role, hook, table in (
        ("source", manager.hook.dunning_register_sources, registry.sources),
        ("channel", manager.hook.dunning_register_channels, registry.channels),
    ):
        for impl in hook.get_hookimpls():
            plugin_name = names.get(id(impl.plugin), impl.plugin_name)

            def register(
                cls: type,
                _role: str = role,
                _plugin: str = plugin_name,
                _table: dict[str, Any] = table,
            ) -> None:
                kind = getattr(cls, "kind", None)
                if not isinstance(kind, str) or not kind:
                    raise PluginError(f"plugin {_plugin!r} registered a {_role} without a kind")
                if kind in _table:
                    other = registry.provided_by[(_role, kind)]
                    raise PluginError(
                        f"{_role} type {kind!r} is registered by both {other!r} and {_plugin!r}; "
                        f"uninstall one or block it with {DISABLE_ENV}={_plugin}"
                    )
                _table[kind] = cls
                registry.provided_by[(_role, kind)] = _plugin

            impl.function(register=register)
    return registry


def plugin_commands(manager: pluggy.PluginManager | None = None) -> list[click.Command]:
    """The command-line commands plugins register (``dunning_register_commands``)."""
    manager = manager or get_plugin_manager()
    commands: list[click.Command] = []
    manager.hook.dunning_register_commands(register=commands.append)
    return commands
