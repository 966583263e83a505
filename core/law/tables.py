"""Reading the law's rate tables (``data/*.csv``): lines starting with ``#`` are comments."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources

from dunning.core.errors import ConfigError


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("dunning.core.law").joinpath("data", name).read_text("utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines))


def _decimal(name: str, row: dict[str, str], key: str) -> Decimal:
    try:
        return Decimal(row[key])
    except (InvalidOperation, KeyError):
        raise ConfigError(f"law table {name}: {key} {row.get(key)!r} is not a number") from None


@dataclass(frozen=True, slots=True)
class Slice:
    """A slice of the principal (``low`` exclusive, ``high`` inclusive, ``None``: no bound)."""

    low: Decimal
    high: Decimal | None
    percent: Decimal
    fixed: Decimal = Decimal(0)


@cache
def slices(name: str) -> tuple[Slice, ...]:
    result = []
    for row in _rows(name):
        high = row.get("up_to") or ""
        result.append(
            Slice(
                _decimal(name, row, "from"),
                Decimal(high) if high else None,
                _decimal(name, row, "percent"),
                Decimal(row["fixed"]) if row.get("fixed") else Decimal(0),
            )
        )
    return tuple(result)


@cache
def amounts(name: str) -> dict[str, Decimal]:
    return {row["key"]: _decimal(name, row, "amount") for row in _rows(name)}


@cache
def rates(name: str, column: str) -> tuple[tuple[date, Decimal], ...]:
    """(first day, percent per year) in date order."""
    result = []
    for row in _rows(name):
        try:
            day = date.fromisoformat(row["from"])
        except ValueError:
            raise ConfigError(f"law table {name}: {row['from']!r} is not a date") from None
        result.append((day, _decimal(name, row, column)))
    return tuple(sorted(result))
