"""pipelines.yaml loading: every problem is reported as file:line, key, and the fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import pytest

from dunning.core.channel import Channel, ChannelConfig, Connection
from dunning.core.config import load_config
from dunning.core.errors import ConfigError
from dunning.core.models import Debtor
from dunning.core.plugins import Registry
from dunning.core.source import Source, SourceConfig, SyncRecord


class TinySourceConfig(SourceConfig):
    path: str
    delimiter: str = ";"


class TinySource(Source):
    kind = "tiny"
    Config = TinySourceConfig

    def sync(self, cursor: str | None) -> Iterator[SyncRecord]:
        yield from ()


class TinyChannelConfig(ChannelConfig):
    folder: str = "out"
    password: str | None = None


class TinyChannel(Channel):
    kind = "note"
    Config = TinyChannelConfig

    def recipient(self, debtor: Debtor) -> str:
        return debtor.debtor_id

    def connect(self) -> Iterator[Connection]:  # type: ignore[override]
        raise NotImplementedError


@pytest.fixture
def registry() -> Registry:
    return Registry(
        sources={"tiny": TinySource},
        channels={"note": TinyChannel},
        provided_by={("source", "tiny"): "test", ("channel", "note"): "test"},
    )


GOOD = """\
version: 1
pipelines:
  main:
    creditor:
      name: Acme B.V.
    source:
      type: tiny
      path: data.csv
    channels:
      mail:
        type: note
        folder: ${MAIL_FOLDER:-out}
    steps:
      - name: first
        after_due: 3
        channel: mail
        template: first
      - name: second
        after_previous: 7
        channel: mail
        template: second
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pipelines.yaml"
    path.write_text(dedent(text), encoding="utf-8")
    return path


def error_of(path: Path, registry: Registry) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, registry)
    return str(caught.value)


def test_good_config_loads_with_plugin_sections_validated(tmp_path: Path, registry: Registry):
    config = load_config(write(tmp_path, GOOD), registry)
    pipeline = config.pipeline("main")
    assert pipeline.source_cls is TinySource
    assert isinstance(pipeline.source_config, TinySourceConfig)
    assert pipeline.source_config.path == "data.csv"
    assert pipeline.channels["mail"].config.folder == "out"  # type: ignore[attr-defined]
    assert [s.name for s in pipeline.steps] == ["first", "second"]
    assert config.state_url == f"sqlite:///{tmp_path / 'dunning.db'}"


def test_misspelt_key_names_line_and_suggests_the_right_one(tmp_path, registry):
    text = GOOD.replace("      delimiter", "").replace(
        "path: data.csv", "path: d\n      delimitor: x"
    )
    message = error_of(write(tmp_path, text), registry)
    assert message == (
        "pipelines.yaml:9: pipelines.main.source: unknown key 'delimitor'; "
        "did you mean 'delimiter'?"
    )


def test_misspelt_engine_key_suggests_the_right_one(tmp_path, registry):
    text = GOOD.replace("after_previous: 7", "after_previus: 7")
    message = error_of(write(tmp_path, text), registry)
    assert "pipelines.yaml:19: pipelines.main.steps[1]: unknown key 'after_previus'" in message
    assert "did you mean 'after_previous'?" in message


def test_missing_environment_variable_says_which_to_set(tmp_path, registry, monkeypatch):
    monkeypatch.delenv("MAIL_FOLDER_X", raising=False)
    text = GOOD.replace("${MAIL_FOLDER:-out}", "${MAIL_FOLDER_X}")
    message = error_of(write(tmp_path, text), registry)
    assert message.startswith("pipelines.yaml:12: pipelines.main.channels.mail.folder: ")
    assert "environment variable MAIL_FOLDER_X is not set" in message
    assert ".env" in message


def test_dotenv_file_supplies_variables_and_environment_wins(tmp_path, registry, monkeypatch):
    monkeypatch.delenv("MAIL_FOLDER", raising=False)
    (tmp_path / ".env").write_text("MAIL_FOLDER=from-dotenv\n")
    path = write(tmp_path, GOOD.replace("${MAIL_FOLDER:-out}", "${MAIL_FOLDER}"))
    assert load_config(path, registry).pipeline("main").channels["mail"].config.folder == (  # type: ignore[attr-defined]
        "from-dotenv"
    )
    monkeypatch.setenv("MAIL_FOLDER", "from-env")
    assert load_config(path, registry).pipeline("main").channels["mail"].config.folder == (  # type: ignore[attr-defined]
        "from-env"
    )


def test_unknown_source_type_lists_installed_kinds(tmp_path, registry):
    message = error_of(write(tmp_path, GOOD.replace("type: tiny", "type: tiyn")), registry)
    assert message == (
        "pipelines.yaml:7: pipelines.main.source.type: unknown source type 'tiyn' "
        "(did you mean 'tiny'?); installed source types: tiny"
    )


def test_unknown_channel_type_fails_at_start_up(tmp_path, registry):
    message = error_of(write(tmp_path, GOOD.replace("type: note", "type: sms")), registry)
    assert "pipelines.yaml:11: pipelines.main.channels.mail.type: unknown channel type 'sms'" in (
        message
    )
    assert "installed channel types: note" in message


def test_step_with_unknown_channel_names_the_channels(tmp_path, registry):
    text = GOOD.replace(
        "channel: mail\n        template: second", "channel: post\n        template: second"
    )
    message = error_of(write(tmp_path, text), registry)
    assert message == (
        "pipelines.yaml:20: pipelines.main.steps[1].channel: no channel named 'post' in this "
        "pipeline; channels: mail"
    )


def test_step_needs_exactly_one_delay(tmp_path, registry):
    text = GOOD.replace("after_previous: 7", "after_previous: 7\n        after_due: 9")
    message = error_of(write(tmp_path, text), registry)
    assert "pipelines.yaml:18: pipelines.main.steps[1]: step 'second' needs exactly one of" in (
        message
    )


def test_wrong_type_shows_the_value(tmp_path, registry):
    message = error_of(write(tmp_path, GOOD.replace("after_due: 3", "after_due: three")), registry)
    assert message.startswith("pipelines.yaml:15: pipelines.main.steps[0].after_due: ")
    assert "(got 'three')" in message


def test_secret_values_are_never_echoed(tmp_path, registry):
    text = GOOD.replace("folder: ${MAIL_FOLDER:-out}", "password: [hunter2]")
    message = error_of(write(tmp_path, text), registry)
    assert "pipelines.main.channels.mail.password" in message
    assert "hunter2" not in message


def test_missing_required_key_points_at_its_parent(tmp_path, registry):
    message = error_of(write(tmp_path, GOOD.replace("      path: data.csv\n", "")), registry)
    assert message == (
        "pipelines.yaml:6: pipelines.main.source: required key 'path' is missing; add it"
    )


def test_every_problem_is_reported_at_once(tmp_path, registry):
    text = GOOD.replace("type: tiny", "type: nope").replace("type: note", "type: nada")
    lines = error_of(write(tmp_path, text), registry).splitlines()
    assert len(lines) == 2


def test_yaml_syntax_error_names_the_line(tmp_path, registry):
    message = error_of(write(tmp_path, GOOD.replace("  main:", "  main: [")), registry)
    assert message.startswith("pipelines.yaml:")
    assert "invalid YAML" in message


def test_missing_file_says_how_to_point_at_one(tmp_path, registry):
    message = error_of(tmp_path / "nope.yaml", registry)
    assert "configuration file not found" in message
    assert "DUNNING_CONFIG" in message


def test_empty_file_is_a_clear_error(tmp_path, registry):
    message = error_of(write(tmp_path, ""), registry)
    assert message.startswith("pipelines.yaml:1: the file must be a mapping")


POLICY = GOOD.replace(
    "    steps:\n",
    """    calendar:
      country: BE
      business_days: [mon, tue, wed, thu, fri, sat]
      closed: [2026-12-31]
      send_window: "08:00-20:00"
      timezone: Europe/Brussels
      delays_in: business
    contact:
      min_days_between: 2
    early_payment_discount: {percent: 2, within_days: 8}
    variant_by_segment: {late-but-reliable: humorous}
    debtors:
      D1: {variant: humorous, segment: punctual}
    thank_you: {channel: mail}
    steps:
      - name: courtesy
        before_due: 3
        channel: mail
        template: courtesy
        when: {not_segment: punctual, tags: VIP, debtor_kind: consumer}
        variants: {humorous: courtesy-humorous}
""",
)


def test_policy_keys_load_with_their_values(tmp_path: Path, registry: Registry) -> None:
    pipeline = load_config(write(tmp_path, POLICY), registry).pipeline("main").config
    assert pipeline.calendar.country == "BE"
    assert pipeline.calendar.business_days[-1] == "sat"
    assert str(pipeline.calendar.closed[0]) == "2026-12-31"
    assert pipeline.contact.min_days_between == 2
    assert pipeline.steps[0].when.tags == ["vip"]
    assert pipeline.steps[0].when.debtor_kind == ["consumer"]
    assert pipeline.thank_you is not None and pipeline.thank_you.segment == ["punctual"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("country: BE", "country: XX", "calendar.country: unknown country 'XX'"),
        ('send_window: "08:00-20:00"', "send_window: 8-20", "is not of the form HH:MM-HH:MM"),
        ("timezone: Europe/Brussels", "timezone: Europe/Brusels", "unknown time zone"),
        ("[mon, tue, wed, thu, fri, sat]", "[mon, funday]", "'fun' is not a weekday"),
        ("not_segment: punctual", "not_segment: vip", "unknown segment 'vip'"),
        ("{percent: 2, within_days: 8}", "{percent: 120, within_days: 8}", "less than 100"),
        ("{channel: mail}", "{channel: post}", "thank_you.channel: no channel named 'post'"),
        ("segment: punctual}", "segment: gold}", "unknown segment 'gold'"),
        ("{variant: humorous,", "{variant: humourous,", "no step has a variant named 'humourous'"),
        ("{channel: mail}", "{channel: mail, segment: puntcual}", "unknown segment 'puntcual'"),
        ("before_due: 3", "before_due: 0", "greater than or equal to 1"),
    ],
)
def test_bad_policy_values_name_the_line_and_the_fix(
    tmp_path: Path, registry: Registry, old: str, new: str, expected: str
) -> None:
    assert old in POLICY
    message = error_of(write(tmp_path, POLICY.replace(old, new)), registry)
    assert expected in message
    assert message.startswith("pipelines.yaml:")


def test_before_due_steps_come_first(tmp_path: Path, registry: Registry) -> None:
    text = GOOD.replace(
        "        template: second\n",
        "        template: second\n      - name: early\n        before_due: 2\n"
        "        channel: mail\n        template: early\n",
    )
    message = error_of(write(tmp_path, text), registry)
    assert "step 'early' uses 'before_due' after a step that goes out after the due date" in message
