"""Plugins add command-line commands through ``dunning_register_commands``."""

from __future__ import annotations

from dunning.core import hookimpl
from dunning.core.plugins import get_plugin_manager


def test_a_plugin_adds_a_command():
    import click

    from dunning.core.plugins import plugin_commands

    @click.command(name="hello")
    def hello() -> None:
        click.echo("hello from a plugin")

    class Greeter:
        @staticmethod
        @hookimpl
        def dunning_register_commands(register):  # type: ignore[no-untyped-def]
            register(hello)

    manager = get_plugin_manager()
    manager.register(Greeter(), name="greeter")
    assert "hello" in [command.name for command in plugin_commands(manager)]
