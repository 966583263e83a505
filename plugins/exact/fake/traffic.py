"""Rate limits and injected faults: what stands between an API call and its answer.

Rate limits (API-CONTRACTS.md 1.7), counted per division (the fake serves one client app):

- minutely: a fixed window of ``60 s * time_scale`` that opens with the first call;
- daily: until the next midnight UTC, real time.

Every answer carries ``X-RateLimit-{Limit,Remaining,Reset}`` (daily) and
``X-RateLimit-Minutely-{Limit,Remaining,Reset}``, resets as UTC epoch **milliseconds**. A call
over the minutely limit gets only the minutely headers; one over the daily limit gets both sets.
A refused (429) call does not use up budget; every other call does, 401s and 403s included.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal[500, 503, 429, "daily", "revoked", "timeout", "malformed"]
FAULT_KINDS: tuple[FaultKind, ...] = (500, 503, 429, "daily", "revoked", "timeout", "malformed")
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class Budget:
    """One call's standing. ``refused`` is ``None`` (allowed), ``"minutely"`` or ``"daily"``."""

    refused: Literal["minutely", "daily"] | None
    daily_limit: int
    daily_remaining: int
    daily_reset: float
    minutely_limit: int
    minutely_remaining: int
    minutely_reset: float

    def headers(self) -> dict[str, str]:
        minutely = {
            "X-RateLimit-Minutely-Limit": str(self.minutely_limit),
            "X-RateLimit-Minutely-Remaining": str(self.minutely_remaining),
            "X-RateLimit-Minutely-Reset": str(math.ceil(self.minutely_reset * 1000)),
        }
        if self.refused == "minutely":
            return minutely
        return {
            "X-RateLimit-Limit": str(self.daily_limit),
            "X-RateLimit-Remaining": str(self.daily_remaining),
            "X-RateLimit-Reset": str(math.ceil(self.daily_reset * 1000)),
            **minutely,
        }


class RateLimiter:
    def __init__(
        self,
        minutely_limit: int = 60,
        daily_limit: int = 5000,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.minutely_limit = minutely_limit
        self.daily_limit = daily_limit
        self.window = 60.0 * time_scale
        self._clock = clock
        self._minutes: dict[int, tuple[float, int]] = {}
        self._days: dict[int, tuple[int, int]] = {}

    def _day(self, key: int, now: float) -> tuple[int, int]:
        today = int(now // DAY_SECONDS)
        day, used = self._days.get(key, (today, 0))
        return (today, 0) if day != today else (day, used)

    def _minute(self, key: int, now: float) -> tuple[float, int]:
        started, used = self._minutes.get(key, (now, 0))
        return (now, 0) if now >= started + self.window else (started, used)

    def spend(self, key: int) -> Budget:
        """Count one call against division ``key``, or refuse it."""
        now = self._clock()
        day, day_used = self._day(key, now)
        started, minute_used = self._minute(key, now)
        refused: Literal["minutely", "daily"] | None = None
        if minute_used >= self.minutely_limit:
            refused = "minutely"
        elif day_used >= self.daily_limit:
            refused = "daily"
        else:
            day_used, minute_used = day_used + 1, minute_used + 1
        self._days[key] = (day, day_used)
        self._minutes[key] = (started, minute_used)
        return Budget(
            refused,
            self.daily_limit,
            max(0, self.daily_limit - day_used),
            (day + 1) * DAY_SECONDS,
            self.minutely_limit,
            max(0, self.minutely_limit - minute_used),
            started + self.window,
        )

    def set_daily_remaining(self, key: int, remaining: int) -> None:
        now = self._clock()
        self._days[key] = (int(now // DAY_SECONDS), max(0, self.daily_limit - remaining))

    def reset(self) -> None:
        self._minutes.clear()
        self._days.clear()


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    sleep_seconds: float = 5.0


class FaultQueue:
    """Faults waiting for the next API calls, taken one per call in order."""

    def __init__(self) -> None:
        self._pending: deque[Fault | None] = deque()

    def add(self, count: int, fault: Fault, after: int = 0) -> None:
        """``count`` faults, after ``after`` calls answered normally."""
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault.kind!r}; choose one of {FAULT_KINDS}")
        self._pending.extend([None] * after + [fault] * count)

    def take(self) -> Fault | None:
        return self._pending.popleft() if self._pending else None

    def clear(self) -> None:
        self._pending.clear()
