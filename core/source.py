"""The base class every source plugin derives from: how invoices come in and payments go back."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict

from dunning.core.errors import PluginError
from dunning.core.models import Debtor, Invoice, Payment, RowProblem, SyncCursor, SyncIncomplete

if TYPE_CHECKING:
    from dunning.core.calls.model import CallTask
    from dunning.core.handoff.dossier import InvoiceDocument
    from dunning.core.ledger.tokens import TokenStore

SyncRecord = Debtor | Invoice | RowProblem | SyncIncomplete | SyncCursor


class Capability(enum.StrEnum):
    """What a source can do beyond reading."""

    REGISTER_PAYMENTS = "register_payments"
    """``register_payment`` writes a payment (paid status) back to the platform."""
    REVERSE_PAYMENTS = "reverse_payments"
    """``reverse_payment`` undoes a payment it registered, when the bank returned it."""
    ATTACH_NOTES = "attach_notes"
    """``attach_note`` records an action on the platform's invoice."""
    FULL_SNAPSHOT = "full_snapshot"
    """Every sync returns *all* open invoices; an invoice missing from a sync is settled."""
    TASKS = "tasks"
    """``create_task`` mirrors a call task into the platform's own task list."""
    INVOICE_DOCUMENTS = "invoice_documents"
    """``invoice_document`` returns the invoice's PDF (for the agency dossier)."""
    OWN_REMINDERS = "own_reminders"
    """The platform sends reminders of its own: ``take_over`` pauses them for an invoice the
    pipeline starts chasing, ``let_go`` resumes them, so a debtor never gets two sets."""


class SourceConfig(BaseModel):
    """Base for a source's config model. Unknown keys are errors (with a suggestion)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class SourceContext:
    """What the engine tells a source about where it runs."""

    pipeline: str
    config_dir: Path
    """Folder of ``pipelines.yaml``: relative paths in the source's config are relative to it."""
    tokens: TokenStore | None = None
    """Where OAuth tokens survive a run (the ledger's); ``None`` outside a pipeline."""
    today: date | None = None
    """The day the run acts as of (``dunning run --date``); ``None``: the computer's date."""


class Source(ABC):
    """A place open invoices come from and payments are written back to.

    Subclasses set ``kind``, ``Config`` and ``capabilities`` and implement :meth:`sync`; those
    declaring :attr:`Capability.REGISTER_PAYMENTS` implement :meth:`register_payment`.
    """

    kind: ClassVar[str]
    Config: ClassVar[type[SourceConfig]] = SourceConfig
    capabilities: frozenset[Capability] = frozenset()
    """What this kind can do; an instance may narrow it to what its config switched on."""

    def __init__(self, config: SourceConfig, context: SourceContext) -> None:
        self.config = config
        self.context = context

    @abstractmethod
    def sync(self, cursor: str | None) -> Iterator[SyncRecord]:
        """Yield what changed since ``cursor`` (``None``: everything), streaming.

        Yields :class:`Debtor` and :class:`Invoice` records (a debtor before its invoices),
        :class:`RowProblem` for each record that cannot be used (the sync goes on), at most one
        :class:`SyncIncomplete` when it had to stop early (a platform limit), and finally at
        most one :class:`SyncCursor`. The engine stores the records, then the cursor, in that
        order, so a sync cut short is repeated from the old cursor. Raises
        :class:`~dunning.core.errors.SourceError` when nothing can be read at all.
        """

    def register_payment(self, invoice: Invoice, payment: Payment) -> None:
        """Write ``payment`` back to the platform so the invoice shows as (partly) paid there.

        ``invoice`` is the ledger's view: its ``amount_open`` already has every payment the
        source has not yet been told about taken off (this one included). Must be idempotent
        for the same payment. Raises
        :class:`~dunning.core.errors.SourceError` when the write fails; the ledger keeps the
        payment and retries the write-back on the next run.
        """
        raise PluginError(f"source type {self.kind!r} cannot register payments")

    def reverse_payment(self, invoice: Invoice, payment: Payment) -> None:
        """Undo ``payment``, registered earlier with :meth:`register_payment` (same ``key``),
        because the bank returned it: the platform shows the invoice open again by that much.
        ``invoice`` is the ledger's view, the returned amount already added back to its
        ``amount_open``. Must be idempotent: a payment the platform does not have (never
        registered, or undone already) is not an error. Optional capability
        (:attr:`Capability.REVERSE_PAYMENTS`); raises
        :class:`~dunning.core.errors.SourceError` when the write fails (retried next run)."""
        raise PluginError(f"source type {self.kind!r} cannot undo payments")

    def attach_note(self, invoice: Invoice, note: str) -> None:
        """Record ``note`` (an action taken) on the platform's invoice. Optional capability."""
        raise PluginError(f"source type {self.kind!r} cannot attach notes")

    def create_task(self, task: CallTask) -> str:
        """Create ``task`` in the platform's task list; return the platform's id for it.

        Optional capability (:attr:`Capability.TASKS`). Called once per task; a task that fails
        (:class:`~dunning.core.errors.SourceError`) is tried again on the next run."""
        raise PluginError(f"source type {self.kind!r} cannot create tasks")

    def invoice_document(self, invoice: Invoice) -> InvoiceDocument | None:
        """The invoice's PDF as the platform keeps it, or ``None`` when it has none.

        Optional capability (:attr:`Capability.INVOICE_DOCUMENTS`); used for the agency
        dossier. Raises :class:`~dunning.core.errors.SourceError` when it cannot be read."""
        return None

    def take_over(self, invoice: Invoice) -> None:
        """Pause the platform's own reminders for ``invoice``: the pipeline chases it now.

        Optional capability (:attr:`Capability.OWN_REMINDERS`); called once per invoice, before
        its first step goes out, and again on the next run when it raised
        :class:`~dunning.core.errors.SourceError`. Must be idempotent."""
        raise PluginError(f"source type {self.kind!r} has no reminders of its own to pause")

    def let_go(self, invoice: Invoice) -> None:
        """Resume the platform's own reminders for ``invoice`` (the pipeline let it go)."""
        raise PluginError(f"source type {self.kind!r} has no reminders of its own to resume")
