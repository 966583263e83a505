"""Pipeline runs in a small thread pool, never two of the same pipeline at once.

Across processes the ledger's run lock refuses overlap; within this process :class:`RunSlots`
refuses it before a thread is even taken, so a skipped trigger costs nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


class RunSlots:
    """Start jobs keyed by pipeline in up to ``workers`` threads; one job per pipeline.

    A job waiting for a free thread already holds its pipeline's slot. Jobs handle their own
    errors: one that raises still frees its slot.
    """

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dunning-run")
        self._busy: set[str] = set()
        self._changed = threading.Condition()

    def start(self, pipeline: str, job: Callable[[], None]) -> bool:
        """Queue ``job`` for ``pipeline``; False (and nothing queued) while one is going."""
        with self._changed:
            if pipeline in self._busy:
                return False
            self._busy.add(pipeline)
        self._pool.submit(self._hold, pipeline, job)
        return True

    def _hold(self, pipeline: str, job: Callable[[], None]) -> None:
        try:
            job()
        finally:
            with self._changed:
                self._busy.discard(pipeline)
                self._changed.notify_all()

    def busy(self) -> set[str]:
        """Pipelines with a job queued or running."""
        with self._changed:
            return set(self._busy)

    def wait_idle(self, timeout: float) -> bool:
        """Block until no job is queued or running; False when ``timeout`` seconds passed."""
        deadline = time.monotonic() + timeout
        with self._changed:
            return self._changed.wait_for(
                lambda: not self._busy, timeout=max(0.0, deadline - time.monotonic())
            )

    def close(self) -> None:
        """Release the threads (call once idle)."""
        self._pool.shutdown(wait=True)
