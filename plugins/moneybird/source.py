"""The ``moneybird`` source: sales invoices in, payments, notes and reminder pauses back.

Write-back choices (API-CONTRACTS.md 2.6):

- A payment is registered with ``POST sales_invoices/{id}/payments.json`` (never the deprecated
  ``register_payment``), its ``transaction_identifier`` the payment's stable key. The invoice is
  read first; a payment with that identifier already there is not registered again, nor is one
  for an invoice Moneybird already shows as fully paid. The ``POST`` is never repeated blindly:
  when its answer is lost the invoice is read again, and a payment not found there is left for
  the next run (it may still be on its way), so a payment is never registered twice.
- ``manual_payment_action`` is left out by default: Moneybird then expects the bank transaction
  to be matched to the payment when it comes in through the bank feed, the usual case for money
  paid to the creditor's account. Set ``manual_payment_action`` (``payment_without_proof``,
  ``cash_payment``, ...) when no bank transaction will follow.
- Notes (``notes: true``) and call tasks (a note with ``todo: true``, Moneybird's to-do) go on
  the invoice; pausing Moneybird's own reminders (``pause_own_reminders: true``) uses
  ``pause.json``/``resume.json``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import requests

from dunning.core.errors import PluginError, SourceError
from dunning.core.handoff.dossier import InvoiceDocument
from dunning.core.http import AnswerLost
from dunning.core.models import Invoice, Payment
from dunning.core.source import Capability, Source, SourceConfig, SourceContext, SyncRecord
from dunning.plugins.moneybird.client import (
    WHAT,
    MoneybirdClient,
    OAuthRefresh,
    read_json,
    segment,
)
from dunning.plugins.moneybird.config import MoneybirdConfig
from dunning.plugins.moneybird.sync import sync_moneybird

if TYPE_CHECKING:
    from dunning.core.calls.model import CallTask


class MoneybirdSource(Source):
    """One Moneybird administration, synced incrementally (see :mod:`.sync`)."""

    kind = "moneybird"
    Config = MoneybirdConfig
    capabilities = frozenset(
        {
            Capability.REGISTER_PAYMENTS,
            Capability.REVERSE_PAYMENTS,
            Capability.ATTACH_NOTES,
            Capability.TASKS,
            Capability.INVOICE_DOCUMENTS,
            Capability.OWN_REMINDERS,
        }
    )

    def __init__(self, config: SourceConfig, context: SourceContext) -> None:
        if not isinstance(config, MoneybirdConfig):
            raise PluginError(
                f"the moneybird source needs a MoneybirdConfig, got {type(config).__name__}"
            )
        super().__init__(config, context)
        self.settings = config
        refresh = None
        if config.refresh_token and config.client_id and config.client_secret:
            refresh = OAuthRefresh(
                config.oauth_url,
                config.refresh_token,
                config.client_id,
                config.client_secret,
                tokens=context.tokens,
                pipeline=context.pipeline,
            )
        kept = refresh.stored() if refresh is not None else None
        if refresh is not None and kept is not None:
            refresh.refresh_token = kept.refresh_token  # the configured one was rotated away
        self.client = MoneybirdClient(
            config.base_url,
            kept.access_token if kept is not None else config.token.get_secret_value(),
            administration_id=config.administration_id,
            policy=config.retry_policy(),
            requests_per_window=config.requests_per_window,
            window_seconds=config.window_seconds,
            refresh=refresh,
        )
        self.invoice_ids: dict[str, str] = {}
        """Invoice number -> Moneybird id, of every invoice read by this source."""

    # -- reading -------------------------------------------------------------------------------

    def sync(self, cursor: str | None) -> Iterator[SyncRecord]:
        return sync_moneybird(self.client, self.settings.period, cursor, self.invoice_ids)

    def _find(self, number: str) -> dict[str, Any]:
        """The full sales invoice with this invoice number (one ``GET``)."""
        known = self.invoice_ids.get(number)
        path = (
            f"sales_invoices/{known}"
            if known
            else f"sales_invoices/find_by_invoice_id/{segment(number)}"
        )
        body = self.client.json("GET", path)
        if not isinstance(body, dict) or not body.get("id"):
            raise SourceError(f"{WHAT} answered the lookup of invoice {number} without an id")
        self.invoice_ids[number] = str(body["id"])
        return body

    def _id(self, number: str) -> str:
        return self.invoice_ids.get(number) or str(self._find(number)["id"])

    # -- write-back ----------------------------------------------------------------------------

    def register_payment(self, invoice: Invoice, payment: Payment) -> None:
        key = payment.identifier
        data = self._find(invoice.number)
        if _has_payment(data, key) or _fully_paid(data):
            return
        body: dict[str, Any] = {
            "payment_date": payment.paid_on.isoformat(),
            "price": f"{payment.amount:.2f}",
            "transaction_identifier": key,
        }
        if self.settings.manual_payment_action:
            body["manual_payment_action"] = self.settings.manual_payment_action
        path = f"sales_invoices/{data['id']}/payments"
        try:
            self.client.request("POST", path, replay_after_send=False, json={"payment": body})
        except AnswerLost as lost:
            if _has_payment(self._find(invoice.number), key):
                return
            raise SourceError(
                f"{lost}; the payment of invoice {invoice.number} ({key}) is not in {WHAT} yet, "
                "so it is checked and registered on the next run"
            ) from None

    def reverse_payment(self, invoice: Invoice, payment: Payment) -> None:
        """Delete the payment registered with ``payment``'s key (the bank returned it); the
        invoice is open again in Moneybird. Nothing to do when Moneybird has no such payment."""
        key = payment.identifier
        data = self._find(invoice.number)
        for registered in data.get("payments") or []:
            if isinstance(registered, dict) and registered.get("transaction_identifier") == key:
                path = f"sales_invoices/{data['id']}/payments/{segment(str(registered['id']))}"
                try:
                    self.client.request("DELETE", path, replay_after_send=False)
                except AnswerLost as lost:
                    if _has_payment(self._find(invoice.number), key):
                        raise SourceError(
                            f"{lost}; the returned payment of invoice {invoice.number} ({key}) "
                            f"is still in {WHAT}, so it is undone on the next run"
                        ) from None
                return

    def attach_note(self, invoice: Invoice, note: str) -> None:
        if self.settings.notes:
            self._note(invoice.number, note, todo=False)

    def create_task(self, task: CallTask) -> str:
        if not task.invoice_numbers:
            raise SourceError(f"call task #{task.id} names no invoice to put the to-do on")
        who = task.contact_name or "the debtor"
        phone = f" ({task.contact_phone})" if task.contact_phone else ""
        text = (
            f"Call {who}{phone} by {task.due_on.isoformat()} about invoice(s) "
            f"{', '.join(task.invoice_numbers)}: {task.reason}"
        )
        return self._note(task.invoice_numbers[0], text, todo=True)

    def _note(self, number: str, text: str, *, todo: bool) -> str:
        path = f"sales_invoices/{self._id(number)}/notes"
        body = self.client.json("POST", path, json={"note": {"note": text, "todo": todo}})
        return str(body.get("id", "")) if isinstance(body, dict) else ""

    def take_over(self, invoice: Invoice) -> None:
        if self.settings.pause_own_reminders:
            self._set_paused(invoice.number, paused=True)

    def let_go(self, invoice: Invoice) -> None:
        if self.settings.pause_own_reminders:
            self._set_paused(invoice.number, paused=False)

    def _set_paused(self, number: str, *, paused: bool) -> None:
        """Pause or resume; a refusal is accepted when the invoice already is as wanted
        (Moneybird may refuse to pause a paused invoice)."""
        action = "pause" if paused else "resume"
        try:
            self.client.request("POST", f"sales_invoices/{self._id(number)}/{action}")
        except SourceError:
            if bool(self._find(number).get("paused")) != paused:
                raise

    def invoice_document(self, invoice: Invoice) -> InvoiceDocument | None:
        """The PDF. Moneybird may answer with the PDF or a redirect to a temporary address;
        the redirect is followed without the token (the address is signed)."""
        timeout = self.settings.timeout

        def follow(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
            location = response.headers.get("Location")
            if response.is_redirect and location:
                return requests.get(location, timeout=timeout)
            return response

        path = f"sales_invoices/{self._id(invoice.number)}/download_pdf"
        response = self.client.request("GET", path, hooks={"response": follow})
        if not response.content.startswith(b"%PDF"):
            read_json(response)  # a JSON error body says more than "not a PDF"
            raise SourceError(f"{WHAT} sent no PDF for invoice {invoice.number}")
        return InvoiceDocument(invoice.number, f"{invoice.number}.pdf", response.content)


def _has_payment(data: dict[str, Any], key: str) -> bool:
    return any(
        isinstance(p, dict) and p.get("transaction_identifier") == key
        for p in data.get("payments") or []
    )


def _fully_paid(data: dict[str, Any]) -> bool:
    try:
        return data.get("state") == "paid" or Decimal(str(data.get("total_unpaid"))) <= 0
    except ArithmeticError:
        return False
