"""When a pipeline last ran, read from the ledger's run log (what catch-up and health need)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dunning.core.errors import EXIT_OK, EXIT_PARTIAL, EXIT_RUNTIME
from dunning.core.ledger import Ledger
from dunning.core.ledger.runs import RunRecord

LOOK_BACK = 50
"""Recent runs read to find the last real one (dry runs do not count)."""


def aware(moment: datetime) -> datetime:
    """``moment`` with a zone; the ledger stores UTC, and SQLite hands it back naive."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def last_run(ledger: Ledger, pipeline: str) -> RunRecord | None:
    """The pipeline's latest run that was not a dry run (any status, running included)."""
    for record in ledger.runs.recent(pipeline, limit=LOOK_BACK):
        if record.status != "dry-run":
            return record
    return None


FAILED = frozenset({"failed", "crashed"})
"""Run statuses that make the service ``degraded`` until the pipeline's next good run."""
_EXIT_CODES = {"completed": EXIT_OK, "stopped": EXIT_OK, "partial": EXIT_PARTIAL}


def run_report(record: RunRecord, exit_code: int | None = None) -> dict[str, Any]:
    """The health file's ``last_run`` entry for ``record``; ``exit_code`` as ``dunning run``
    would have exited (derived from the status when not given; None while running)."""
    if exit_code is None:
        exit_code = _EXIT_CODES.get(
            record.status, None if record.status == "running" else EXIT_RUNTIME
        )
    return {
        "id": record.id,
        "status": record.status,
        "finished_at": aware(record.finished_at).isoformat() if record.finished_at else None,
        "exit_code": exit_code,
    }
