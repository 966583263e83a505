"""The OData query options a client needs, parsed strictly: ``$select``, ``$filter``, ``$top``,
``$skiptoken``. Anything else in ``$filter`` is a 400, so a client cannot lean on syntax the fake
never checked.

``$filter`` grammar: clauses joined by `` and ``; a clause is ``Field op literal`` where ``op`` is
``gt`` for ``Timestamp`` (sync endpoints, literal ``123L`` or ``123``) and ``eq`` elsewhere, with
``guid'...'``, ``true``/``false``, an integer or a ``'string'`` (``''`` escapes a quote) as the
field's type demands. Which fields may be filtered is declared per entity set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

LiteralKind = Literal["guid", "bool", "int", "str"]
CLAUSE = re.compile(r"\s*(\w+)\s+(eq|gt)\s+(guid'[^']*'|'(?:[^']|'')*'|[^\s']+)\s*")
AND = re.compile(r"and(?=\s)")
GUID = re.compile(
    r"^guid'([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})'$"
)
TIMESTAMP = re.compile(r"^(\d+)L?$")


class QueryError(ValueError):
    """A query option Exact would refuse; the message goes into the 400 envelope."""


@dataclass(frozen=True)
class Filterable:
    """A field a ``$filter`` may name: its literal type and how to read it from a record."""

    kind: LiteralKind
    read: Callable[[Any], Any]


@dataclass(frozen=True)
class Filter:
    timestamp_after: int | None
    equals: tuple[tuple[Callable[[Any], Any], Any], ...]

    def matches(self, record: Any) -> bool:
        return all(read(record) == value for read, value in self.equals)


def parse_select(text: str | None, fields: tuple[str, ...], type_name: str) -> tuple[str, ...]:
    """The selected fields in the order asked; all of them when ``$select`` is absent."""
    if text is None:
        return fields
    chosen = tuple(name.strip() for name in text.split(",") if name.strip())
    if not chosen:
        raise QueryError("The $select query option is empty.")
    for name in chosen:
        if name not in fields:
            raise QueryError(f"Property '{name}' does not exist on type '{type_name}'.")
    return chosen


def parse_filter(text: str | None, sync: bool, filterable: Mapping[str, Filterable]) -> Filter:
    if not text or not text.strip():
        return Filter(None, ())
    after: int | None = None
    equals: list[tuple[Callable[[Any], Any], Any]] = []
    position = 0
    while True:
        clause = CLAUSE.match(text, position)
        if clause is None:
            raise QueryError(f"Invalid $filter near position {position}: '{text[position:]}'")
        name, operator, literal = clause.groups()
        if sync:
            found = TIMESTAMP.match(literal)
            if name != "Timestamp" or operator != "gt" or found is None:
                raise QueryError(
                    f"Unsupported filter '{clause.group().strip()}': use Timestamp gt 1L"
                )
            after = max(after or 0, int(found.group(1)))
        else:
            field = filterable.get(name)
            if field is None or operator != "eq":
                raise QueryError(f"Unsupported filter '{clause.group().strip()}'")
            equals.append((field.read, _literal(field.kind, literal, name)))
        position = clause.end()
        if position == len(text):
            return Filter(after, tuple(equals))
        joined = AND.match(text, position)
        if joined is None:
            raise QueryError(f"Invalid $filter near position {position}: '{text[position:]}'")
        position = joined.end()


def _literal(kind: LiteralKind, literal: str, name: str) -> Any:
    if kind == "guid" and (found := GUID.match(literal)):
        return found.group(1).lower()
    if kind == "bool" and literal in ("true", "false"):
        return literal == "true"
    if kind == "int" and re.fullmatch(r"-?\d+", literal):
        return int(literal)
    if kind == "str" and len(literal) >= 2 and literal[0] == literal[-1] == "'":
        return literal[1:-1].replace("''", "'")
    raise QueryError(f"Operator 'eq' incompatible with operand types for '{name}': {literal}")


def parse_top(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit():
        raise QueryError(f"Invalid $top value '{text}'.")
    return int(text)


def parse_skiptoken(text: str | None, order: str) -> Any:
    """The key of the last row already delivered: ``123L`` (Timestamp), ``guid'...'`` (ID) or
    an integer (HID)."""
    if text is None:
        return None
    if order == "timestamp" and (found := TIMESTAMP.match(text)):
        return int(found.group(1))
    if order == "id" and (found := GUID.match(text)):
        return found.group(1).lower()
    if order == "hid" and text.isdigit():
        return int(text)
    raise QueryError(f"Invalid $skiptoken '{text}'.")


def format_skiptoken(key: Any, order: str) -> str:
    if order == "timestamp":
        return f"{key}L"
    if order == "id":
        return f"guid'{key}'"
    return str(key)
