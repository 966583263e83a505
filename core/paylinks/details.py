"""The payment details of one reminder: what to pay, the reference, and a link when possible.

Order: a Mollie payment link made for this message (``payment_links:`` in pipelines.yaml; kept
in the ledger per message key, so a retried message shows the same link), else the invoice's own
payment URL from the source (one invoice), else none: the message shows the bank details and
the reference. A Mollie failure never holds a reminder back: it falls back and is reported.
"""

from __future__ import annotations

from decimal import Decimal

from dunning.core.config.schema import PaymentLinksConfig
from dunning.core.errors import SendError
from dunning.core.http import RetryPolicy
from dunning.core.ledger import Ledger
from dunning.core.ledger.payment_links import StoredLink
from dunning.core.models import Creditor, Invoice, PaymentDetails
from dunning.core.paylinks.mollie import MollieClient, MollieRefused


def payment_reference(invoices: list[Invoice]) -> str:
    """The reference to quote: the invoice's own (one invoice with one), else the numbers."""
    if len(invoices) == 1 and invoices[0].payment_reference:
        return invoices[0].payment_reference
    return ", ".join(i.number for i in invoices)


class PaymentLinks:
    """Makes payment details for the messages of one run (one Mollie session, if any)."""

    def __init__(
        self, ledger: Ledger, pipeline: str, creditor: Creditor, config: PaymentLinksConfig | None
    ) -> None:
        self.ledger = ledger
        self.pipeline = pipeline
        self.creditor = creditor
        self.config = config
        self.client: MollieClient | None = None
        self.off_reason: str | None = None
        """Set when Mollie refused the settings: no more attempts this run."""
        self.problems: list[str] = []

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    def _mollie(self) -> MollieClient:
        assert self.config is not None
        if self.client is None:
            self.client = MollieClient(
                self.config.api_key.get_secret_value(),
                base_url=self.config.base_url,
                policy=RetryPolicy(
                    max_attempts=self.config.max_attempts,
                    wait_seconds=self.config.retry_wait_seconds,
                    timeout=self.config.timeout,
                ),
            )
        return self.client

    def details(self, key: str, invoices: list[Invoice], amount: Decimal) -> PaymentDetails:
        """Payment details for the message ``key`` asking ``amount`` for ``invoices``."""
        currency = invoices[0].currency if invoices else "EUR"
        reference = payment_reference(invoices)
        base = PaymentDetails(amount, currency, reference, self.creditor.iban)
        link = self._link(key, invoices, amount, currency) if amount > 0 else None
        if link is not None:
            return PaymentDetails(amount, currency, reference, self.creditor.iban, link, "mollie")
        own = {i.payment_link for i in invoices if i.payment_link}
        if len(invoices) == 1 and len(own) == 1:
            return PaymentDetails(
                amount, currency, reference, self.creditor.iban, own.pop(), "invoice"
            )
        return base

    def _link(
        self, key: str, invoices: list[Invoice], amount: Decimal, currency: str
    ) -> str | None:
        if self.config is None or self.off_reason is not None:
            return None
        stored = self.ledger.payment_links.get(key)
        if stored is not None and stored.amount == amount:
            return stored.url
        link_key = key if stored is None else f"{key}:{amount:.2f}"
        description = self.config.description.format(
            creditor=self.creditor.name, invoices=", ".join(i.number for i in invoices)
        )
        try:
            created = self._mollie().create(
                amount=amount,
                currency=currency,
                description=description,
                key=link_key,
                redirect_url=self.config.redirect_url,
                webhook_url=self.config.webhook_url,
                expires_after_days=self.config.expires_after_days,
            )
        except MollieRefused as error:
            self.off_reason = str(error)
            self.problems.append(f"payment links off for this run: {error}")
            return None
        except SendError as error:
            self.problems.append(f"no payment link for {key} (bank details instead): {error}")
            return None
        if stored is None:
            self.ledger.payment_links.record(
                self.pipeline,
                StoredLink(key, "mollie", created.link_id, created.url, amount, description),
            )
        return created.url
