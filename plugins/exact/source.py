"""The ``exact`` source: open receivables of one Exact Online division in; notes, tasks and
(opt-in) payments back.

Write-back choices (API-CONTRACTS.md 1.10):

- Exact has no call to mark an invoice paid: it is paid once a bank, cash or journal entry is
  matched to it. By default nothing is written: "paid" is learnt from the next sync (the terms
  matched, or gone from the receivables). With ``payment_entries`` configured, each payment the
  pipeline learns of is posted as a line on that bank or cash journal, with the invoice number
  as ``OurRef``, which Exact matches to the invoice when the amounts agree. The payment's key is
  in the line's description: before posting, the invoice's lines are read and a payment already
  there is not posted again; when the answer to a post is lost, they are read again instead of
  posting twice.
- Each action (a reminder sent, a confirmation, a handoff) becomes a communication note on the
  account (``notes: true``); call tasks are mirrored as Exact tasks of type call when the
  pipeline's ``calls.mirror_to_source`` is on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from dunning.core.errors import PluginError, SourceError
from dunning.core.http import AnswerLost
from dunning.core.models import Invoice, Payment
from dunning.core.source import Capability, Source, SourceConfig, SourceContext, SyncRecord
from dunning.plugins.exact.client import ExactClient
from dunning.plugins.exact.config import ExactConfig
from dunning.plugins.exact.mapping import text
from dunning.plugins.exact.oauth import WHAT, ExactAuth
from dunning.plugins.exact.sync import ExactSync

if TYPE_CHECKING:
    from dunning.core.calls.model import CallTask

CODE_WIDTH = 18
CALL_TASK = 1


class ExactSource(Source):
    """One Exact Online division (see :mod:`.sync` for how it is read)."""

    kind = "exact"
    Config = ExactConfig
    capabilities = frozenset(
        {Capability.REGISTER_PAYMENTS, Capability.ATTACH_NOTES, Capability.TASKS}
    )

    def __init__(self, config: SourceConfig, context: SourceContext) -> None:
        if not isinstance(config, ExactConfig):
            raise PluginError(f"the exact source needs an ExactConfig, got {type(config).__name__}")
        super().__init__(config, context)
        self.settings = config
        if config.payment_entries is None:
            self.capabilities = self.capabilities - {Capability.REGISTER_PAYMENTS}
        self.auth = ExactAuth(config, context.tokens)
        self.client = ExactClient(config, self.auth)
        self.accounts: dict[str, dict[str, Any]] = {}
        """Debtor id (account code) -> the account as last read, for write-back."""

    @property
    def today(self) -> date:
        """The run's day (``--date``), else the computer's."""
        return self.context.today or date.today()

    # -- reading -------------------------------------------------------------------------------

    def sync(self, cursor: str | None) -> Iterator[SyncRecord]:
        run = ExactSync(self.client, self.settings, cursor, self.today)
        yield from run.records()
        for account in run.cursor.accounts.values():
            code = text(account, "Code")
            if code:
                self.accounts[code] = account

    def _account(self, debtor_id: str) -> dict[str, Any]:
        """The account with this code (read by the sync, else one request)."""
        if debtor_id not in self.accounts:
            padded = debtor_id.rjust(CODE_WIDTH)
            params = {"$select": "ID,Code,MainContact", "$filter": f"Code eq '{padded}'"}
            for page in self.client.pages("crm/Accounts", params):
                for row in page:
                    self.accounts[debtor_id] = row
            if debtor_id not in self.accounts:
                raise SourceError(f"{WHAT} has no account with code {debtor_id}")
        return self.accounts[debtor_id]

    # -- write-back ----------------------------------------------------------------------------

    def attach_note(self, invoice: Invoice, note: str) -> None:
        if not self.settings.notes:
            return
        account = self._account(invoice.debtor_id)
        self.client.post(
            "activities/CommunicationNotes",
            {
                "Account": text(account, "ID"),
                "Subject": f"Invoice {invoice.number}: {note}"[:200],
                "Notes": f"{note}\nInvoice {invoice.number}, open {invoice.amount_open} "
                f"{invoice.currency}.",
                "Date": f"{self.today.isoformat()}T00:00:00",
            },
            replay_after_send=True,
        )

    def create_task(self, task: CallTask) -> str:
        debtor_id = task.debtor_id
        account = self._account(debtor_id)
        who = task.contact_name or "the debtor"
        phone = f" ({task.contact_phone})" if task.contact_phone else ""
        numbers = ", ".join(task.invoice_numbers) or "-"
        body: dict[str, Any] = {
            "Account": text(account, "ID"),
            "Description": f"Call {who}{phone} about invoice(s) {numbers}"[:200],
            "Notes": task.reason,
            "ActionDate": f"{task.due_on.isoformat()}T00:00:00",
            "TaskType": CALL_TASK,
        }
        if self.settings.task_user:
            body["User"] = self.settings.task_user
        if text(account, "MainContact"):
            body["Contact"] = text(account, "MainContact")
        answer = self.client.post("activities/Tasks", body, replay_after_send=True)
        entity = answer.get("d", {}) if isinstance(answer, dict) else {}
        return str(entity.get("ID", "")) if isinstance(entity, dict) else ""

    def register_payment(self, invoice: Invoice, payment: Payment) -> None:
        entries = self.settings.payment_entries
        if entries is None:
            raise PluginError("payment write-back to Exact is off (source.payment_entries)")
        if not invoice.number.isdigit():
            raise SourceError(
                f"invoice {invoice.number} is not an Exact invoice number; the payment cannot "
                "be posted with it as OurRef"
            )
        key = payment.identifier
        if self._posted(invoice.number, key):
            return
        line: dict[str, Any] = {
            "Account": text(self._account(invoice.debtor_id), "ID"),
            "AmountFC": float(payment.amount),  # Exact's Edm.Double; cents survive the trip
            "Date": f"{payment.paid_on.isoformat()}T00:00:00",
            "Description": f"{key} invoice {invoice.number}"[:100],
            "OurRef": int(invoice.number),
        }
        if entries.gl_account:
            line["GLAccount"] = entries.gl_account
        body = {"JournalCode": entries.journal, "BankEntryLines": [line]}
        try:
            self.client.post("financialtransaction/BankEntries", body)
        except AnswerLost as lost:
            if self._posted(invoice.number, key):
                return
            raise SourceError(
                f"{lost}; the payment of invoice {invoice.number} ({key}) is not in {WHAT} yet, "
                "so it is checked and posted on the next run"
            ) from None

    def _posted(self, number: str, key: str) -> bool:
        """True when a bank entry line for invoice ``number`` already carries ``key``."""
        params = {"$select": "ID,Description", "$filter": f"OurRef eq {int(number)}"}
        return any(
            key in text(row, "Description")
            for page in self.client.pages("financialtransaction/BankEntryLines", params)
            for row in page
        )
