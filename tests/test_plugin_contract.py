"""The plugin contract: hooks documented and tested, in-tree plugins loaded via entry points."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from dunning.core import hookimpl, hookspecs
from dunning.core.errors import PluginError
from dunning.core.plugins import get_plugin_manager, load_registry

ROOT = Path(__file__).resolve().parent.parent
HOOKS = [
    name
    for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("dunning_")
]


def test_there_are_hooks():
    assert HOOKS == [
        "dunning_register_channels",
        "dunning_register_commands",
        "dunning_register_sources",
    ]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_contract_docstring(hook: str):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert "register(" in doc and len(doc) > 200


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_for_plugin_authors(hook: str):
    assert f"`{hook}(register)`" in (ROOT / "docs" / "plugins.md").read_text()


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_test(hook: str):
    tests = "".join(
        p.read_text()
        for p in Path(__file__).parent.glob("test_*.py")
        if p.name != Path(__file__).name
    )
    if hook == "dunning_register_commands":
        assert "plugin_commands(" in tests
        return
    kind = "source" if "sources" in hook else "channel"
    assert f"registry.{kind}s" in tests or f'"{kind}s"' in tests


def test_in_tree_plugins_come_through_the_entry_point_group():
    manager = get_plugin_manager()
    names = {name for name, _ in manager.list_name_plugin()}
    assert {"csv", "email", "call", "agency"} <= names
    registry = load_registry(manager)
    assert registry.provided_by[("source", "csv")] == "csv"
    assert registry.provided_by[("channel", "email")] == "email"
    assert registry.provided_by[("channel", "call")] == "call"
    assert registry.provided_by[("channel", "agency")] == "agency"
    assert registry.provided_by[("source", "exact")] == "exact"


def test_blocked_plugins_are_not_loaded(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(
        "DUNNING_DISABLE_PLUGINS",
        "email, csv, call, agency, letter, sms, whatsapp, moneybird, exact",
    )
    registry = load_registry(get_plugin_manager())
    assert registry.sources == {} and registry.channels == {}


def test_unknown_kind_lists_what_is_installed():
    registry = load_registry()
    with pytest.raises(
        PluginError, match="installed channel types: agency, call, email, letter, sms, whatsapp"
    ):
        registry.channel("pigeon")


def test_a_kind_registered_twice_is_a_start_up_error():
    manager = get_plugin_manager()

    csv_source = load_registry().sources["csv"]

    class Twin:
        @staticmethod
        @hookimpl
        def dunning_register_sources(register):  # type: ignore[no-untyped-def]
            register(csv_source)

    manager.register(Twin(), name="twin")
    with pytest.raises(PluginError, match="registered by both 'csv' and 'twin'"):
        load_registry(manager)
