"""A client-side request budget, so a client never goes over a platform's rate limit.

Platforms count requests per token in a window (Moneybird: 150 per 5 minutes; Exact: 60 a
minute per division). Going over costs a ``429`` and a wait that is usually longer than the one
the client could have taken itself, so a source plugin takes one :class:`RequestBudget` per
token and calls :meth:`RequestBudget.acquire` before each request.

The budget keeps the exact moments of the requests in the last window (a sliding window, not
fixed buckets), so a busy client gets the full allowed rate: ``limit`` requests at once, then one
each time the oldest leaves the window. What the server says is left
(:meth:`RequestBudget.observe`) can only tighten the budget: another process using the same token
spends from the same allowance on the server's side.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

SAME_RESET_SECONDS = 1.0
"""Two ``reset`` moments closer than this name the same server window (its clock ticks in
seconds); a later answer about the same window can only lower what is left."""


class RequestBudget:
    """At most ``limit`` requests in any ``window_seconds``, and no more than the server says.

    ``clock`` and ``sleep`` measure and pass time (monotonic seconds); ``wall_clock`` gives UTC
    epoch seconds, to place the server's reset moments on ``clock``. Tests pass fakes for all
    three. Safe to share between threads: waiters are served one at a time, in turn.
    """

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1:
            raise ValueError(f"a request budget needs a limit of at least 1, not {limit}")
        if window_seconds <= 0:
            raise ValueError(f"a request budget needs a positive window, not {window_seconds}")
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._sent: deque[float] = deque()
        self._server_left: int | None = None
        self._server_reset_at = 0.0
        self._state = threading.Lock()
        self._turn = threading.Lock()
        self.requests_made = 0
        """Requests let through by :meth:`acquire`."""
        self.waited_seconds = 0.0
        """Time :meth:`acquire` spent waiting, in total."""

    def acquire(self) -> None:
        """Wait until one more request stays within the budget, and count it as made."""
        with self._turn:
            while True:
                with self._state:
                    now = self._clock()
                    delay = self._delay(now)
                    if delay <= 0:
                        self._sent.append(now)
                        self.requests_made += 1
                        if self._server_left is not None:
                            self._server_left -= 1
                        return
                    self.waited_seconds += delay
                self._sleep(delay)

    def observe(self, remaining: int | None, reset_epoch: float | None) -> None:
        """Take in the server's ``RateLimit-Remaining`` and ``RateLimit-Reset`` (UTC epoch
        seconds) of an answer: until the reset, at most ``remaining`` more requests go out.
        Without a reset moment, that holds for one window from now. ``remaining`` of ``None``
        tells nothing and is ignored."""
        if remaining is None:
            return
        with self._state:
            now = self._clock()
            if reset_epoch is None:
                reset_at = now + self.window_seconds
            else:
                reset_at = now + max(reset_epoch - self._wall_clock(), 0.0)
            same_window = (
                self._server_left is not None
                and abs(reset_at - self._server_reset_at) < SAME_RESET_SECONDS
            )
            if same_window and self._server_left is not None:
                remaining = min(remaining, self._server_left)
            self._server_left = max(remaining, 0)
            self._server_reset_at = reset_at

    def _delay(self, now: float) -> float:
        """Seconds until a request may go out (zero or less: now). Holds ``_state``."""
        while self._sent and self._sent[0] <= now - self.window_seconds:
            self._sent.popleft()
        delay = 0.0
        if len(self._sent) >= self.limit:
            delay = self._sent[-self.limit] + self.window_seconds - now
        if self._server_left is not None:
            if now >= self._server_reset_at:
                self._server_left = None
            elif self._server_left <= 0:
                delay = max(delay, self._server_reset_at - now)
        return delay
