"""``dunning serve``: the long-running service that runs each pipeline on its own schedule.

The parts, one job each: :mod:`.timing` (when is a pipeline due, pure), :mod:`.history` (when
did it last run, from the ledger), :mod:`.workers` (runs in threads, never one pipeline twice at
once), :mod:`.health` (the health file and ``GET /health``), :mod:`.signals` (TERM/INT stop, HUP
reload) and :mod:`.service` (the loop that ties them together).
"""

from __future__ import annotations

from dunning.core.service.service import EXIT_GRACE_EXCEEDED, Service, ServiceOptions

__all__ = ["EXIT_GRACE_EXCEEDED", "Service", "ServiceOptions"]
