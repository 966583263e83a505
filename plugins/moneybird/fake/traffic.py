"""The rate budget and the injected faults: what stands between a request and its answer.

Rate limit (API-CONTRACTS.md 2.7): 150 requests per 300 seconds, counted per token in a fixed
window that opens with the first request. ``time_scale`` multiplies the window (``0.01`` turns
five minutes into three seconds) so a benchmark can live through several windows.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal[500, 503, 429, "timeout", "malformed"]
FAULT_KINDS: tuple[FaultKind, ...] = (500, 503, 429, "timeout", "malformed")


@dataclass(frozen=True)
class Budget:
    """One request's place in its token's window."""

    allowed: bool
    limit: int
    remaining: int
    reset_epoch: float

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(math.ceil(self.reset_epoch)),
        }


class RateLimiter:
    def __init__(
        self,
        limit: int = 150,
        window_seconds: float = 300.0,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.time_scale = time_scale
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}

    @property
    def effective_window(self) -> float:
        return self.window_seconds * self.time_scale

    def spend(self, key: str) -> Budget:
        """Count one request for ``key``; refused once the window's budget is used up."""
        now = self._clock()
        started, used = self._windows.get(key, (now, 0))
        if now >= started + self.effective_window:
            started, used = now, 0
        allowed = used < self.limit
        if allowed:
            used += 1
        self._windows[key] = (started, used)
        return Budget(allowed, self.limit, self.limit - used, started + self.effective_window)

    def reset(self) -> None:
        self._windows.clear()


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    sleep_seconds: float = 0.0
    retry_after_seconds: float = 1.0


class FaultQueue:
    """Faults waiting for the next requests, taken one per request in order."""

    def __init__(self) -> None:
        self._pending: deque[Fault] = deque()

    def add(self, count: int, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault.kind!r}; choose one of {FAULT_KINDS}")
        self._pending.extend([fault] * count)

    def take(self) -> Fault | None:
        return self._pending.popleft() if self._pending else None

    def clear(self) -> None:
        self._pending.clear()

    def __len__(self) -> int:
        return len(self._pending)
