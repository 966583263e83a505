"""The base class every channel plugin derives from: how one message reaches one debtor."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from dunning.core.models import (
    Confirmation,
    Creditor,
    Debtor,
    EarlyDiscount,
    Invoice,
    PaymentDetails,
    Receipt,
    ResumeNote,
)

if TYPE_CHECKING:  # the law pack reads the config, which imports this module
    from dunning.core.config.schema import PipelineConfig
    from dunning.core.handoff.dossier import AgencyUpdate, Dossier, InvoiceDocument
    from dunning.core.law.claim import Claim
    from dunning.core.ledger import Ledger


class ChannelConfig(BaseModel):
    """Base for a channel's config model. Unknown keys are errors (with a suggestion)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class ChannelContext:
    """What the engine tells a channel about where it runs."""

    pipeline: str
    name: str
    """The channel's name in ``pipelines.yaml`` (steps refer to it)."""
    config_dir: Path
    """Folder of ``pipelines.yaml``: relative paths in the channel's config are relative to it."""
    creditor: Creditor
    ledger: Ledger | None = None
    """The pipeline's ledger, for channels whose records live there (call tasks)."""
    pipeline_config: PipelineConfig | None = None
    """The pipeline's engine settings (``calls:``, ``law:``), for channels that follow them."""


@dataclass(frozen=True, slots=True)
class PreviousContact:
    """An earlier message to the same debtor, so a template can say "on 3 March we wrote"."""

    step: str
    sent_on: date
    channel: str


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """Everything a channel needs to render and send one message.

    ``invoices`` carry the open amounts re-checked right before sending. ``idempotency_key`` is
    stable for this message across retries: channels use it as the provider's idempotency key
    or to derive a message id, so a provider can drop a duplicate.
    """

    idempotency_key: str
    pipeline: str
    debtor: Debtor
    recipient: str
    step: str
    template: str
    invoices: tuple[Invoice, ...]
    today: date
    creditor: Creditor
    previous_contacts: tuple[PreviousContact, ...] = ()
    early_discount: EarlyDiscount | None = None
    """Set when the invoices' terms offer an early-payment discount that has not expired."""
    resume_notes: tuple[ResumeNote, ...] = ()
    """Broken promises or missed instalments since the last message: the message says so."""
    confirmation: Confirmation | None = None
    """Set on confirmation messages (``confirm-*`` templates): the agreement or pause confirmed."""
    claim: Claim | None = None
    """Set on ``legal:`` steps (final demand, 14-day letter): principal, interest, costs, total."""
    legal: str | None = None
    """The step's ``legal:`` kind, if any (``nl_14_day_letter``, ``final_demand``)."""
    dossier: Dossier | None = None
    """Set on handoff steps of channels with ``hands_over``: the debtor's complete file."""
    agency_update: AgencyUpdate | None = None
    """Set on ``agency-update`` messages: a handed-over invoice was paid to the creditor."""
    message_id: int = 0
    """The outbox row of this message (channels keeping records in the ledger key on it)."""
    documents: tuple[InvoiceDocument, ...] = ()
    """The invoices' PDFs from the source, for channels that attach them (ladder steps)."""
    payment: PaymentDetails | None = None
    """Set on ladder steps: how to pay (a payment link when there is one, the bank details and
    the reference). Every reminder shows it."""


class Connection(Protocol):
    """An open session with the provider (an SMTP connection) that sends messages one by one."""

    def send(self, message: OutgoingMessage) -> Receipt:
        """Deliver ``message``; return the provider's receipt.

        Raises :class:`~dunning.core.errors.SendError` (``retryable`` or not) or
        :class:`~dunning.core.errors.BadRecipient` when the message was certainly *not*
        delivered. Any other exception means its fate is unknown: the message is marked
        ``uncertain`` and never re-sent automatically.
        """
        ...


class Channel(ABC):
    """A way to reach a debtor: email, SMS, a call task, an agency dossier.

    Subclasses set ``kind`` and ``Config`` and implement :meth:`recipient` and :meth:`connect`.
    """

    kind: ClassVar[str]
    Config: ClassVar[type[ChannelConfig]] = ChannelConfig
    hands_over: ClassVar[bool] = False
    """True for a collection-agency channel: its step hands the invoices over. The engine then
    builds a dossier for each message, never contacts the debtor about those invoices again,
    and later sends ``agency-update`` messages through it when they are paid."""
    attaches_documents: ClassVar[bool] = False
    """True when the channel attaches the invoices' PDFs (email): the engine then fetches them
    from sources that have them and puts them in ``OutgoingMessage.documents``."""
    contacts_debtor: ClassVar[bool] = True
    """False for channels that do not reach the debtor when they "send" (a call task for a
    credit controller): the send window does not apply to them."""

    def __init__(self, config: ChannelConfig, context: ChannelContext) -> None:
        self.config = config
        self.context = context

    @abstractmethod
    def recipient(self, debtor: Debtor) -> str:
        """Return the debtor's validated, normalised address for this channel.

        Raises :class:`~dunning.core.errors.BadRecipient` with a message naming the debtor when the
        debtor has no usable address: the engine reports it and skips that debtor only.
        """

    @abstractmethod
    def connect(self) -> AbstractContextManager[Connection]:
        """Open one session for a batch of messages; closed when the ``with`` block ends.

        Raises :class:`~dunning.core.errors.SendError` when the provider cannot be reached at all.
        """

    def check(self, templates: Collection[str] = ()) -> None:  # noqa: B027 - optional hook
        """Validate what can be validated without sending (templates exist, folder writable).

        ``templates`` are the template names the pipeline's steps use on this channel.

        Called by ``dunning check`` and before a run; raises
        :class:`~dunning.core.errors.ConfigError`. The default checks nothing.
        """
