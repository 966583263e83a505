"""Turn pydantic validation errors into one-line messages: file:line, key, and the fix."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from dunning.core.config.yamlfile import ConfigPath, YamlDocument, dotted

SECRET_WORDS = ("password", "secret", "token", "key")


def _model_at(model: type[BaseModel], loc: ConfigPath) -> type[BaseModel] | None:
    """The model class that validates the mapping found at ``loc`` under ``model``."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin is dict and len(args) == 2:
            current = args[1]
        elif origin is list and args:
            current = args[0]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """``X | None`` -> ``X``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(options) == 1:
            return options[0]
    return annotation


def describe_errors(
    error: ValidationError,
    model: type[BaseModel],
    document: YamlDocument,
    prefix: ConfigPath = (),
) -> list[str]:
    """One message per pydantic error, located in ``document`` under ``prefix``."""
    messages = []
    for item in error.errors():
        loc: ConfigPath = tuple(p for p in item["loc"] if isinstance(p, str | int))
        full = (*prefix, *loc)
        kind = item["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1])
            parent_model = _model_at(model, loc[:-1])
            known = list(parent_model.model_fields) if parent_model else []
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = (
                f"did you mean {close[0]!r}?"
                if close
                else f"allowed keys: {', '.join(known)}"
                if known
                else "remove it"
            )
            text = f"unknown key {key!r}; {hint}"
            where = document.where(full)
            full = full[:-1]
        elif kind == "missing":
            text = f"required key {str(loc[-1])!r} is missing; add it"
            where = document.where(full[:-1])
            full = full[:-1]
        else:
            reason = str(item["msg"]).removeprefix("Value error, ")
            given = item.get("input")
            secret = any(word in dotted(full).lower() for word in SECRET_WORDS)
            shown = (
                f" (got {given!r})" if isinstance(given, str | int | float) and not secret else ""
            )
            text = f"{reason}{shown}"
            where = document.where(full)
        messages.append(f"{where}: {dotted(full)}: {text}")
    return messages
