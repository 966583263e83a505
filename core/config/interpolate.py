"""``${NAME}`` and ``${NAME:-default}`` in string values, from the environment and ``.env``.

The process environment wins over ``.env``. ``$${`` writes a literal ``${``. A missing variable
without a default is an error that names the variable and where it is used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from dunning.core.config.yamlfile import ConfigPath, YamlDocument, dotted

_PATTERN = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def environment_for(config_path: Path) -> dict[str, str]:
    """The process environment layered over ``.env`` next to the config file."""
    values: dict[str, str] = {}
    env_file = config_path.parent / ".env"
    if env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ)
    return values


def interpolate(document: YamlDocument, environment: Mapping[str, str], problems: list[str]) -> Any:
    """Return a copy of the document's data with variables substituted.

    Each missing variable appends one message to ``problems``; its value is left empty.
    """

    def substitute(text: str, loc: ConfigPath) -> str:
        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            name, default = match.group(1), match.group(2)
            if name in environment:
                return environment[name]
            if default is not None:
                return default
            problems.append(
                f"{document.where(loc)}: {dotted(loc)}: environment variable {name} is not set; "
                f"set it in the environment or in {document.path.parent / '.env'}"
            )
            return ""

        return _PATTERN.sub(replace, text)

    def walk(value: Any, loc: ConfigPath) -> Any:
        if isinstance(value, str):
            return substitute(value, loc)
        if isinstance(value, dict):
            return {key: walk(item, (*loc, str(key))) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, (*loc, index)) for index, item in enumerate(value)]
        return value

    return walk(document.data, ())
