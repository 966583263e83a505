"""What a run did, counted: printed at the end of ``dunning run`` and kept in the run log."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from dunning.core.errors import EXIT_OK, EXIT_PARTIAL


@dataclass
class RunSummary:
    pipeline: str
    as_of: date
    synced_debtors: int = 0
    synced_invoices: int = 0
    closed_invoices: int = 0
    skipped_rows: int = 0
    planned: int = 0
    already_planned: int = 0
    sent: int = 0
    failed: int = 0
    retry_later: int = 0
    bad_recipients: int = 0
    cancelled: int = 0
    uncertain_found: int = 0
    written_back: int = 0
    writeback_failed: int = 0
    not_due: int = 0
    waiting: int = 0
    """Messages left pending because the recipient's send window is closed now."""
    pauses_ended: int = 0
    handed_over: int = 0
    """Dossiers delivered to a collection agency."""
    agency_updates: int = 0
    """Notices planned for an agency about handed-over invoices paid to the creditor."""
    calls_cancelled: int = 0
    """Open call tasks cancelled: everything they were about was paid or handed over."""
    tasks_mirrored: int = 0
    notes_written: int = 0
    """Messages noted on their invoices at the source."""
    sync_incomplete: str | None = None
    """Why the sync stopped early (a platform limit); nothing was planned or sent then."""
    sent_per_step: Counter[str] = field(default_factory=Counter)
    failed_per_step: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    """One line per thing a person should look at: bad rows, bad addresses, failures."""
    notes: list[str] = field(default_factory=list)
    """News that needs no action (a promise kept or broken): reported, never a warning."""

    @property
    def exit_code(self) -> int:
        """0: done (data warnings are in ``problems``); 1: messages failed or are uncertain, or
        the sync stopped early."""
        if (
            self.failed
            or self.retry_later
            or self.uncertain_found
            or self.writeback_failed
            or self.sync_incomplete
        ):
            return EXIT_PARTIAL
        return EXIT_OK

    @property
    def has_warnings(self) -> bool:
        return bool(self.problems)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        data["sent_per_step"] = dict(self.sent_per_step)
        data["failed_per_step"] = dict(self.failed_per_step)
        return data
