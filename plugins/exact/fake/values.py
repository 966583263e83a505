"""Exact's value conventions (API-CONTRACTS.md 1.3 and 1.9): GUID ids, ``/Date(ms)/`` dates,
Amsterdam wall-clock ``Modified`` times, money as ``Decimal`` inside and doubles on the wire.
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CENT = Decimal("0.01")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InvalidValue(ValueError):
    """A request value Exact would refuse; the message goes into the 400 envelope."""


def new_guid(rng: random.Random | None = None) -> str:
    """A lower-case GUID string; deterministic when ``rng`` is given (seed data)."""
    if rng is None:
        return str(uuid.uuid4())
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def parse_guid(value: Any, name: str) -> str:
    """The canonical (lower-case) form of a GUID sent in a request body."""
    if not isinstance(value, str) or not GUID.match(value):
        raise InvalidValue(f"{name}: '{value}' is not a valid Guid")
    return value.lower()


def money(value: Any) -> Decimal:
    """An amount given as ``Decimal``, ``str``, ``int`` or (from JSON) ``float``, to cents."""
    if isinstance(value, bool) or value is None:
        raise InvalidValue("Amount is not a number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidValue(f"Amount '{value}' is not a number") from None
    if not amount.is_finite():
        raise InvalidValue(f"Amount '{value}' is not a number")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def odata_date(day: date | None) -> str | None:
    """A date-only field: ``/Date(ms)/`` of midnight UTC of the calendar date."""
    if day is None:
        return None
    ms = (day.toordinal() - 719163) * 86_400_000
    return f"/Date({ms})/"


def odata_moment(moment: datetime | None) -> str | None:
    """``Modified``/``Created``: Amsterdam wall-clock time encoded as if it were UTC."""
    if moment is None:
        return None
    wall = moment.astimezone(AMSTERDAM).replace(tzinfo=UTC)
    return f"/Date({int((wall - EPOCH).total_seconds() * 1000)})/"


def odata_utc(moment: datetime) -> str:
    """A true UTC moment (``ServerTime``) as ``/Date(ms)/``."""
    return f"/Date({int((moment - EPOCH).total_seconds() * 1000)})/"


def parse_write_date(value: Any, name: str) -> date:
    """A date in a request body: ``"2024-01-15T00:00:00"`` (what clients send) or
    ``"2024-01-15"``."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            pass
    raise InvalidValue(f"{name}: '{value}' is not a valid date")
