"""The shape of ``pipelines.yaml`` (engine part). Plugin sections are validated by the plugins.

Every model forbids unknown keys so a misspelt key is reported with a suggestion rather than
silently ignored.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PluginSection(BaseModel):
    """A ``type:`` plus the plugin's own keys, passed on to the plugin's ``Config`` model."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field(min_length=1)

    def plugin_settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class CreditorConfig(Strict):
    """Who is owed; shown in every message."""

    name: str = Field(min_length=1)
    email: str | None = None
    phone: str | None = None
    iban: str | None = None
    website: str | None = None
    signature: str | None = None


class StepConfig(Strict):
    """One rung of the ladder. Exactly one of ``after_due`` / ``after_previous`` is set."""

    name: str
    channel: str
    template: str
    after_due: int | None = Field(default=None, ge=0)
    after_previous: int | None = Field(default=None, ge=1)
    min_open_amount: Decimal = Field(default=Decimal("0.01"), ge=0)

    @field_validator("name")
    @classmethod
    def _name_is_slug(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(
                "use lowercase letters, digits, '-' and '_' only (it becomes part of the "
                "idempotency key)"
            )
        return value

    @model_validator(mode="after")
    def _one_delay(self) -> StepConfig:
        if (self.after_due is None) == (self.after_previous is None):
            raise ValueError(
                f"step {self.name!r} needs exactly one of 'after_due' (days after the due date) "
                "or 'after_previous' (days after the previous step)"
            )
        return self


class PipelineConfig(Strict):
    source: PluginSection
    creditor: CreditorConfig
    channels: dict[str, PluginSection] = Field(min_length=1)
    steps: list[StepConfig] = Field(min_length=1)
    default_language: Literal["nl", "en"] = "nl"

    @model_validator(mode="after")
    def _steps_are_consistent(self) -> PipelineConfig:
        seen: set[str] = set()
        for step in self.steps:
            if step.name in seen:
                raise ValueError(f"step name {step.name!r} is used twice; step names must differ")
            seen.add(step.name)
        if self.steps[0].after_previous is not None:
            raise ValueError(
                f"the first step {self.steps[0].name!r} has no previous step; use 'after_due'"
            )
        return self


class RootConfig(Strict):
    version: Literal[1] = 1
    state: str = "dunning.db"
    pipelines: dict[str, PipelineConfig] = Field(min_length=1)

    @field_validator("pipelines")
    @classmethod
    def _pipeline_names(cls, value: dict[str, PipelineConfig]) -> dict[str, PipelineConfig]:
        for name in value:
            if not NAME_PATTERN.match(name):
                raise ValueError(
                    f"pipeline name {name!r}: use lowercase letters, digits, '-' and '_' only"
                )
        return value
