"""The secret values a loaded configuration and a ledger hold, to register for redaction.

* every ``SecretStr`` of the engine config and of every plugin section (a ``SecretStr`` is a
  secret by declaration);
* every value a ``${NAME}`` in pipelines.yaml was replaced with (environment or ``.env``):
  variables are where people put secrets, whatever the key is called;
* the OAuth access and refresh tokens stored in the ledger (Exact, Moneybird).

Reading is dialect-neutral (SQLAlchemy Core) and never changes anything.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, SecretStr
from sqlalchemy import Engine, select

from dunning.core.config import LoadedConfig
from dunning.core.config.interpolate import environment_for, interpolate
from dunning.core.config.yamlfile import read_yaml
from dunning.core.ledger.schema import oauth_tokens


def secret_strings(value: Any) -> Iterator[str]:
    """Every ``SecretStr`` value inside ``value`` (models, mappings, lists), revealed."""
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from secret_strings(getattr(value, name, None))
        for extra in (value.model_extra or {}).values():
            yield from secret_strings(extra)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from secret_strings(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from secret_strings(item)


class _Recording(Mapping[str, str]):
    """An environment that remembers which variables were read."""

    def __init__(self, environment: Mapping[str, str]) -> None:
        self._environment = environment
        self.used: set[str] = set()

    def __getitem__(self, name: str) -> str:
        value = self._environment[name]
        self.used.add(name)
        return value

    def __contains__(self, name: object) -> bool:
        return name in self._environment

    def __iter__(self) -> Iterator[str]:
        return iter(self._environment)

    def __len__(self) -> int:
        return len(self._environment)


def interpolated_values(config: LoadedConfig) -> list[str]:
    """The values that ``${NAME}`` references in the config file were replaced with."""
    environment = _Recording(environment_for(config.path))
    interpolate(read_yaml(config.path), environment, [])
    return sorted(environment[name] for name in environment.used)


def config_secrets(config: LoadedConfig) -> list[str]:
    """Every secret the loaded config holds: ``SecretStr`` values and interpolated values."""
    found = set(secret_strings(config.root))
    for pipeline in config.pipelines.values():
        found.update(secret_strings(pipeline.source_config))
        for channel in pipeline.channels.values():
            found.update(secret_strings(channel.config))
    found.update(interpolated_values(config))
    return sorted(found)


def ledger_secrets(engine: Engine) -> list[str]:
    """The OAuth tokens stored in the ledger."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(oauth_tokens.c.access_token, oauth_tokens.c.refresh_token)
        ).all()
    return sorted({token for row in rows for token in row if token})
