"""Loading ``pipelines.yaml``: YAML with line numbers, ``${NAME}`` interpolation, validation.

:func:`load_config` either returns a fully validated :class:`LoadedConfig` (engine sections and
every plugin section) or raises one :class:`~dunning.core.errors.ConfigError` listing every
problem, one per line, each as ``file:line: key: what is wrong and how to fix it``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from dunning.core.channel import Channel, ChannelConfig
from dunning.core.config.interpolate import environment_for, interpolate
from dunning.core.config.schema import PipelineConfig, PluginSection, RootConfig, StepConfig
from dunning.core.config.validation import describe_errors
from dunning.core.config.yamlfile import ConfigPath, YamlDocument, dotted, read_yaml
from dunning.core.errors import ConfigError, PluginError
from dunning.core.models import Creditor
from dunning.core.plugins import Registry, load_registry
from dunning.core.source import Source, SourceConfig

CONFIG_ENV = "DUNNING_CONFIG"
DEFAULT_CONFIG = "pipelines.yaml"
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "LoadedChannel",
    "LoadedConfig",
    "LoadedPipeline",
    "StepConfig",
    "default_config_path",
    "load_config",
]


@dataclass(frozen=True)
class LoadedChannel:
    name: str
    cls: type[Channel]
    config: ChannelConfig


@dataclass(frozen=True)
class LoadedPipeline:
    name: str
    config: PipelineConfig
    source_cls: type[Source]
    source_config: SourceConfig
    channels: dict[str, LoadedChannel]

    @property
    def steps(self) -> list[StepConfig]:
        return self.config.steps

    @property
    def creditor(self) -> Creditor:
        c = self.config.creditor
        return Creditor(
            name=c.name,
            email=c.email,
            phone=c.phone,
            iban=c.iban,
            website=c.website,
            signature=c.signature,
        )


@dataclass(frozen=True)
class LoadedConfig:
    path: Path
    root: RootConfig
    pipelines: dict[str, LoadedPipeline]
    registry: Registry

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def state_url(self) -> str:
        """SQLAlchemy URL of the ledger; a plain path is a SQLite file next to the config."""
        state = self.root.state
        if "://" in state:
            return state
        file = Path(state)
        if not file.is_absolute():
            file = self.directory / file
        return f"sqlite:///{file}"

    def pipeline(self, name: str) -> LoadedPipeline:
        if name not in self.pipelines:
            known = ", ".join(self.pipelines)
            raise ConfigError(f"{self.path.name}: no pipeline named {name!r}; pipelines: {known}")
        return self.pipelines[name]


def default_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--config``, else ``$DUNNING_CONFIG``, else ``pipelines.yaml`` in the current folder."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def _validate_plugin(
    model: type[M],
    section: PluginSection,
    document: YamlDocument,
    prefix: ConfigPath,
    problems: list[str],
) -> M | None:
    try:
        return model.model_validate(section.plugin_settings())
    except ValidationError as exc:
        problems.extend(describe_errors(exc, model, document, prefix))
        return None


def _resolve_kind(
    lookup: Callable[[str], T],
    kind: str,
    document: YamlDocument,
    loc: ConfigPath,
    problems: list[str],
) -> T | None:
    try:
        return lookup(kind)
    except PluginError as exc:
        problems.append(f"{document.where(loc)}: {dotted(loc)}: {exc}")
        return None


def load_config(path: Path, registry: Registry | None = None) -> LoadedConfig:
    """Read, interpolate and validate ``path``; raise one ConfigError listing every problem."""
    path = path.resolve() if path.exists() else path
    document = read_yaml(path)
    if not isinstance(document.data, dict):
        raise ConfigError(
            f"{path.name}:1: the file must be a mapping with a 'pipelines:' key; "
            "see README.md for an example"
        )
    problems: list[str] = []
    data = interpolate(document, environment_for(path), problems)
    try:
        root = RootConfig.model_validate(data)
    except ValidationError as exc:
        problems.extend(describe_errors(exc, RootConfig, document))
        raise ConfigError("\n".join(problems)) from None

    registry = registry or load_registry()
    pipelines: dict[str, LoadedPipeline] = {}
    for name, pipeline in root.pipelines.items():
        base: ConfigPath = ("pipelines", name)
        source_cls = _resolve_kind(
            registry.source, pipeline.source.type, document, (*base, "source", "type"), problems
        )
        source_config = None
        if source_cls is not None:
            source_config = _validate_plugin(
                source_cls.Config, pipeline.source, document, (*base, "source"), problems
            )
        channels: dict[str, LoadedChannel] = {}
        for channel_name, section in pipeline.channels.items():
            loc = (*base, "channels", channel_name)
            channel_cls = _resolve_kind(
                registry.channel, section.type, document, (*loc, "type"), problems
            )
            if channel_cls is None:
                continue
            channel_config = _validate_plugin(channel_cls.Config, section, document, loc, problems)
            if channel_config is not None:
                channels[channel_name] = LoadedChannel(
                    channel_name,
                    channel_cls,
                    channel_config,
                )
        for index, step in enumerate(pipeline.steps):
            for alternative in step.fallback:
                if alternative not in pipeline.channels:
                    loc = (*base, "steps", index, "channel")
                    problems.append(
                        f"{document.where(loc)}: {dotted(loc)}: no channel named "
                        f"{alternative!r} in this pipeline; channels: "
                        f"{', '.join(pipeline.channels)}"
                    )
            if step.channel not in pipeline.channels:
                loc = (*base, "steps", index, "channel")
                known = ", ".join(pipeline.channels)
                problems.append(
                    f"{document.where(loc)}: {dotted(loc)}: no channel named {step.channel!r} "
                    f"in this pipeline; channels: {known}"
                )
        named_channels = [
            (
                (*base, "thank_you", "channel"),
                pipeline.thank_you.channel if pipeline.thank_you else None,
            ),
            ((*base, "pauses", "confirm_channel"), pipeline.pauses.confirm_channel),
        ]
        for loc, named in named_channels:
            if named is not None and named not in pipeline.channels:
                known = ", ".join(pipeline.channels)
                problems.append(
                    f"{document.where(loc)}: {dotted(loc)}: no channel named {named!r} "
                    f"in this pipeline; channels: {known}"
                )
        if source_cls is not None and source_config is not None:
            pipelines[name] = LoadedPipeline(
                name,
                pipeline,
                source_cls,
                source_config,
                channels,
            )
    if problems:
        raise ConfigError("\n".join(problems))
    return LoadedConfig(path=path, root=root, pipelines=pipelines, registry=registry)
