"""Read a YAML file safely and remember the line of every key, for error messages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dunning.core.errors import ConfigError

ConfigPath = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """Parsed data plus a map from each key path to its 1-based line."""

    path: Path
    data: Any
    lines: dict[ConfigPath, int]

    def line_of(self, loc: ConfigPath) -> int:
        """Line of ``loc`` or of its nearest ancestor that exists in the file."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return 1

    def where(self, loc: ConfigPath) -> str:
        return f"{self.path.name}:{self.line_of(loc)}"


def dotted(loc: ConfigPath) -> str:
    """``('pipelines', 'x', 'steps', 0, 'channel')`` -> ``pipelines.x.steps[0].channel``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _index_lines(node: yaml.Node, prefix: ConfigPath, lines: dict[ConfigPath, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = (*prefix, str(key_node.value))
            lines[path] = key_node.start_mark.line + 1
            _index_lines(value_node, path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = (*prefix, index)
            lines[path] = item.start_mark.line + 1
            _index_lines(item, path, lines)


def read_yaml(path: Path) -> YamlDocument:
    """Load ``path`` with ``yaml.safe_load``; syntax errors become one-line ConfigErrors."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: configuration file not found; pass --config FILE or set DUNNING_CONFIG"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc}") from None
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(
            f"{path.name}:{line}: invalid YAML: {problem}; check indentation and quoting there"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: invalid YAML: {exc}") from None
    lines: dict[ConfigPath, int] = {}
    if root is not None:
        _index_lines(root, (), lines)
    return YamlDocument(path=path, data=data, lines=lines)
