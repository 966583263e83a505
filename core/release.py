"""``dunning release INVOICE``: the pipeline lets go of an open invoice.

No further step goes out for it (planning leaves it out), and a source that sends reminders of
its own (:attr:`Capability.OWN_REMINDERS`) is told to resume them for it, so the invoice is never
left without anyone chasing it, and never chased twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dunning.core.config import LoadedConfig
from dunning.core.errors import DunningError, UsageError
from dunning.core.ledger import Ledger
from dunning.core.payments import find_invoice_pipeline
from dunning.core.runner import make_source
from dunning.core.source import Capability


@dataclass(frozen=True, slots=True)
class Released:
    pipeline: str
    number: str
    source_told: str
    """What the source was told, in words."""
    failed: bool = False


def release_invoice(
    config: LoadedConfig, ledger: Ledger, number: str, today: date, pipeline: str | None = None
) -> Released:
    loaded = find_invoice_pipeline(config, ledger, number, pipeline)
    found = ledger.invoices.get(loaded.name, [number]).get(number)
    if found is None or not (found[1] and found[0].is_dunnable):
        raise UsageError(f"invoice {number} has nothing open; there is nothing to release")
    handed, released = ledger.invoices.let_go_among(loaded.name, [number])
    if number in handed:
        raise UsageError(f"invoice {number} was handed over to a collection agency")
    if number in released:
        raise UsageError(f"invoice {number} was released before")
    ledger.invoices.release(loaded.name, number, today)
    source = make_source(config, loaded, ledger)
    if Capability.OWN_REMINDERS not in source.capabilities:
        return Released(loaded.name, number, "the source sends no reminders of its own")
    try:
        source.let_go(found[0])
    except DunningError as error:
        return Released(
            loaded.name, number, f"the source's own reminders could not be resumed: {error}", True
        )
    return Released(loaded.name, number, "the source's own reminders resume for it")
