"""The ledger: the pipeline's memory (SQLite file by default), migrated on open.

:class:`Ledger` groups one store per concern; all share one engine. Every write is its own short
transaction so a crash loses at most the step in progress, never what was recorded before it.
"""

from __future__ import annotations

from sqlalchemy import Engine

from dunning.core.ledger.bank import BankStore
from dunning.core.ledger.calls import CallStore
from dunning.core.ledger.engine import open_engine
from dunning.core.ledger.handoffs import HandoffStore
from dunning.core.ledger.invoices import InvoiceStore
from dunning.core.ledger.ladders import LadderStore
from dunning.core.ledger.letters import LetterStore
from dunning.core.ledger.optouts import OptOutStore
from dunning.core.ledger.outbox import Outbox, OutboxMessage, item_key, message_key
from dunning.core.ledger.pauses import PauseStore
from dunning.core.ledger.payment_links import PaymentLinkStore
from dunning.core.ledger.payments import PaymentStore
from dunning.core.ledger.runs import RunLog
from dunning.core.ledger.snapshots import SnapshotStore
from dunning.core.ledger.tokens import TokenStore

__all__ = ["Ledger", "OutboxMessage", "item_key", "message_key"]


class Ledger:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.invoices = InvoiceStore(engine)
        self.outbox = Outbox(engine)
        self.payments = PaymentStore(engine)
        self.runs = RunLog(engine)
        self.pauses = PauseStore(engine)
        self.ladders = LadderStore(engine)
        self.letters = LetterStore(engine)
        self.calls = CallStore(engine)
        self.handoffs = HandoffStore(engine)
        self.opt_outs = OptOutStore(engine)
        self.payment_links = PaymentLinkStore(engine)
        self.tokens = TokenStore(engine)
        self.bank = BankStore(engine)
        self.snapshots = SnapshotStore(engine)

    @classmethod
    def open(cls, url: str) -> Ledger:
        """Open (creating and migrating as needed) the ledger at the SQLAlchemy ``url``."""
        return cls(open_engine(url))

    def close(self) -> None:
        self.runs.release_all()
        self.engine.dispose()
