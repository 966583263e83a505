"""The dispatch stage: hand pending outbox messages to their channels, one batch per channel.

For every message, in this order: re-check its invoices against the ledger (paid or gone means
cancelled), validate the recipient (a bad address fails that message only), claim it
(``pending`` -> ``sending``, committed), send, and record the receipt or the failure. A process
killed between claim and record leaves ``sending`` behind, which the next run reports as
``uncertain`` and never sends again.

A ``stop`` event is checked before each message: once set, the message in flight is finished
(a channel call is never interrupted) and the others stay ``pending`` for the next run.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from dunning.core.calendar import calendar_for
from dunning.core.calls.queue import cancel_calls_about
from dunning.core.channel import (
    Channel,
    ChannelContext,
    Connection,
    OutgoingMessage,
    PreviousContact,
)
from dunning.core.config import LoadedPipeline
from dunning.core.errors import BadRecipient, ChannelDown, DunningError, OptedOut, SendError
from dunning.core.handoff.build import build_dossier
from dunning.core.handoff.dossier import AgencyUpdate, Dossier, InvoiceDocument
from dunning.core.http import AnswerLost
from dunning.core.law.claim import Claim, build_claim
from dunning.core.law.costs import BE_LIMITS
from dunning.core.law.deadline import fourteen_day_term
from dunning.core.law.tables import amounts
from dunning.core.ledger import Ledger, OutboxMessage
from dunning.core.ledger.letters import LetterProof
from dunning.core.ledger.outbox import AGENCY_UPDATE, CONFIRMATION, STEP
from dunning.core.models import (
    Confirmation,
    ConfirmationEvent,
    Debtor,
    EarlyDiscount,
    Invoice,
    PaymentDetails,
    Receipt,
)
from dunning.core.paylinks.details import PaymentLinks
from dunning.core.policy.build import policy_rules
from dunning.core.policy.discount import early_discount
from dunning.core.progress import Progress
from dunning.core.source import Capability, Source
from dunning.core.summary import RunSummary

MAX_ATTEMPTS = 5
"""Attempts over all runs before a retryable failure becomes ``failed``."""
TRIES_PER_RUN = 3
log = logging.getLogger("dunning.run")


def make_channel(
    pipeline: LoadedPipeline, name: str, config_dir: Path, ledger: Ledger | None = None
) -> Channel:
    """Instantiate the channel called ``name`` in ``pipeline``."""
    loaded = pipeline.channels[name]
    context = ChannelContext(
        pipeline=pipeline.name,
        name=name,
        config_dir=config_dir,
        creditor=pipeline.creditor,
        ledger=ledger,
        pipeline_config=pipeline.config,
    )
    return loaded.cls(loaded.config, context)


def _is_retryable(error: BaseException) -> bool:
    """Worth another attempt within this run (a channel that is down is not)."""
    return (
        isinstance(error, SendError)
        and error.retryable
        and not error.bad_recipient
        and not isinstance(error, ChannelDown)
    )


class _StopChannel(Exception):
    """The channel reported it cannot send anything more this run."""


class _Stopped(Exception):
    """The stop event was set: start no further message."""


class Dispatcher:
    def __init__(
        self,
        pipeline: LoadedPipeline,
        ledger: Ledger,
        run_id: int,
        today: date,
        summary: RunSummary,
        progress: Progress,
        config_dir: Path,
        retry_wait: float = 0.5,
        *,
        only_kind: str | None = None,
        now: datetime | None = None,
        source: Source | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.source = source
        self.stop = stop
        self.stopped = False
        """Whether ``stop`` cut this dispatch short (set by :meth:`run`)."""
        self.documents: dict[str, InvoiceDocument | None] = {}
        self.config_dir = config_dir
        self.pipeline = pipeline
        self.ledger = ledger
        self.run_id = run_id
        self.today = today
        self.summary = summary
        self.progress = progress
        self.retry_wait = retry_wait
        self.only_kind = only_kind
        self.rules = policy_rules(pipeline.config, now)
        self.payments = PaymentLinks(
            ledger, pipeline.name, pipeline.creditor, pipeline.config.payment_links
        )
        self.legal = {s.name: s.legal for s in pipeline.steps if s.legal}

    def run(self) -> None:
        pending = [
            m
            for m in self.ledger.outbox.pending(self.pipeline.name)
            if self.only_kind is None or m.kind == self.only_kind
        ]
        try:
            self._run(pending)
        finally:
            self.payments.close()
            self.summary.problems.extend(self.payments.problems)

    def _stop_requested(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _run(self, pending: list[OutboxMessage]) -> None:
        by_channel: dict[str, list[OutboxMessage]] = defaultdict(list)
        for message in pending:
            by_channel[message.channel].append(message)
        self.progress.begin(f"{self.pipeline.name}: sending", total=len(pending))
        try:
            self._run_channels(by_channel)
        except _Stopped:
            self.stopped = True
            left = len(self.ledger.outbox.pending(self.pipeline.name))
            self.summary.problems.append(
                f"stopped by a signal: {left} message(s) left pending for the next run"
            )
            log.info(
                "%s: stopped by a signal: %d message(s) left pending",
                self.pipeline.name,
                left,
                extra={"pipeline": self.pipeline.name, "run_id": self.run_id},
            )
        self.progress.end()

    def _run_channels(self, by_channel: dict[str, list[OutboxMessage]]) -> None:
        for name, messages in by_channel.items():
            if self._stop_requested():
                raise _Stopped
            if name not in self.pipeline.channels:
                for message in messages:
                    self.ledger.outbox.cancel(
                        message.id, f"channel {name!r} is no longer in pipelines.yaml"
                    )
                    self.summary.cancelled += 1
                self.progress.advance(len(messages))
                continue
            channel = make_channel(self.pipeline, name, self.config_dir, self.ledger)
            self._send_batch(channel, messages)

    def _send_batch(self, channel: Channel, messages: list[OutboxMessage]) -> None:
        try:
            with channel.connect() as connection:
                for message in messages:
                    if self._stop_requested():
                        raise _Stopped
                    self._send_one(channel, connection, message)
                    self.progress.advance()
        except _StopChannel:
            left = self.ledger.outbox.pending(self.pipeline.name)
            waiting = [m for m in left if m.channel == channel.context.name]
            self.summary.retry_later += len(waiting)
        except SendError as error:
            # The provider could not be reached at all: what was not attempted stays pending.
            self.summary.problems.append(f"channel {channel.context.name!r}: {error}")
            left = self.ledger.outbox.pending(self.pipeline.name)
            waiting = [m for m in left if m.channel == channel.context.name]
            self.summary.retry_later += len(waiting)

    def _current_invoices(self, message: OutboxMessage, channel: Channel) -> list[Invoice]:
        numbers = [item.invoice_number for item in message.items]
        current = self.ledger.invoices.get(self.pipeline.name, numbers)
        if message.kind == AGENCY_UPDATE:  # an invoice gone from the source counts as paid
            return [
                current[n][0] if current[n][1] else replace(current[n][0], amount_open=Decimal(0))
                for n in numbers
                if n in current
            ]
        # Handed-over invoices are the agency's: no message about them but the handoff itself.
        agency, released = self.ledger.invoices.let_go_among(self.pipeline.name, numbers)
        if channel.hands_over and message.kind == STEP:
            agency = set()
        handed = [item.id for item in message.items if item.invoice_number in agency]
        self.ledger.outbox.cancel_items(handed, "handed over to a collection agency")
        let_go = [item.id for item in message.items if item.invoice_number in released]
        self.ledger.outbox.cancel_items(let_go, "released: the source's own reminders took over")
        items = [
            item
            for item in message.items
            if item.invoice_number not in agency and item.invoice_number not in released
        ]
        if message.kind != STEP:
            # Thank-you notes are about paid invoices; confirmations about the agreement.
            return [current[i.invoice_number][0] for i in items if i.invoice_number in current]
        still_open, closed = [], []
        for item in items:
            found = current.get(item.invoice_number)
            if found and found[1] and found[0].is_dunnable:
                still_open.append(found[0])
            else:
                closed.append(item.id)
        self.ledger.outbox.cancel_items(closed, "paid or no longer open before sending")
        return still_open

    def _outside_window(
        self, message: OutboxMessage, channel: Channel, timezone: str | None
    ) -> bool:
        window, now = self.rules.send_window, self.rules.now
        if message.kind != STEP or not channel.contacts_debtor or window is None or now is None:
            return False
        return not window.contains(now, timezone or self.rules.timezone)

    def _confirmation(self, message: OutboxMessage) -> Confirmation | None:
        """Confirmation keys end in ``confirm-<pause id>-<event>``."""
        if message.kind != CONFIRMATION:
            return None
        _, pause_id, event = message.idempotency_key.rsplit(":", 1)[-1].split("-", 2)
        pause = self.ledger.pauses.get(self.pipeline.name, int(pause_id))
        return Confirmation(ConfirmationEvent(event), pause) if pause else None

    def _claim(
        self, message: OutboxMessage, debtor: Debtor, invoices: list[Invoice]
    ) -> Claim | None:
        if message.kind != STEP or message.step not in self.legal or not invoices:
            return None
        return self._claim_on(debtor, invoices)

    def _claim_on(self, debtor: Debtor, invoices: list[Invoice]) -> Claim:
        """The claim on ``invoices`` today: costs only once the legal term has passed."""
        numbers = [i.number for i in invoices]
        if self.pipeline.config.law.country == "be":
            # Book XIX WER: the first reminder is free and costs follow only after its term.
            term = int(amounts(BE_LIMITS)["term_days"])
            contacts = self.ledger.outbox.contacts_of(self.pipeline.name, debtor.debtor_id)
            passed = any(c.planned_for <= self.today - timedelta(days=term) for c in contacts)
        else:
            passed = self.ledger.letters.term_passed(
                self.pipeline.name, debtor.debtor_id, numbers, self.today
            )
        return build_claim(invoices, debtor.kind, self.today, self.pipeline.config.law, passed)

    def _keep_letter(self, message: OutboxMessage, channel: Channel, claim: Claim) -> None:
        """Proof for the agency: sent, received (per channel kind), the term's last day."""
        days = self.pipeline.config.law.receipt_days.get(channel.kind, 0)
        calendar = calendar_for("NL")
        received = calendar.add_business_days(self.today, days) if days else self.today
        term = fourteen_day_term(received, calendar)
        self.ledger.letters.record(
            self.pipeline.name,
            LetterProof(
                message.id,
                message.debtor_id,
                tuple(line.invoice for line in claim.lines),
                channel.context.name,
                self.today,
                received,
                term.last_day,
                claim.principal,
                claim.costs + claim.vat,
            ),
        )

    def _dossier(
        self, message: OutboxMessage, channel: Channel, debtor: Debtor, invoices: list[Invoice]
    ) -> Dossier | None:
        if not channel.hands_over or message.kind != STEP:
            return None
        problems: list[str] = []
        dossier = build_dossier(
            self.ledger,
            self.pipeline,
            debtor,
            tuple(invoices),
            self._claim_on(debtor, invoices),
            self.today,
            message.idempotency_key,
            self.source,
            problems,
        )
        self.summary.problems.extend(problems)
        return dossier

    def _agency_update(
        self, message: OutboxMessage, debtor: Debtor, invoices: list[Invoice]
    ) -> AgencyUpdate | None:
        if message.kind != AGENCY_UPDATE or not invoices:
            return None
        invoice = invoices[0]
        handoff = self.ledger.handoffs.of_invoices(self.pipeline.name, [invoice.number])
        found = handoff.get(invoice.number)
        return AgencyUpdate(
            reference=message.idempotency_key,
            handoff_reference=found.reference if found else "",
            pipeline=self.pipeline.name,
            debtor=debtor,
            invoice=invoice,
            open_before=found.open_at_handoff.get(invoice.number, invoice.amount_total)
            if found
            else invoice.amount_total,
            paid_on=invoice.paid_on,
            event="paid" if invoice.amount_open <= 0 else "partly-paid",
        )

    def _handed_over(
        self, message: OutboxMessage, channel: Channel, outgoing: OutgoingMessage, receipt: Receipt
    ) -> None:
        """Record the delivered dossier, and cancel the calls about what the agency now has."""
        if outgoing.dossier is None:
            return
        self.ledger.handoffs.record(
            self.pipeline.name,
            debtor_id=message.debtor_id,
            message_id=message.id,
            reference=message.idempotency_key,
            channel=channel.context.name,
            open_amounts={i.number: i.amount_open for i in outgoing.invoices},
            handed_on=self.today,
            receipt=receipt.provider_message_id,
        )
        self.summary.handed_over += 1
        self.summary.calls_cancelled += cancel_calls_about(
            self.ledger, self.pipeline.name, message.debtor_id
        )

    def _send_one(self, channel: Channel, connection: Connection, message: OutboxMessage) -> None:
        invoices = self._current_invoices(message, channel)
        if not invoices and (message.kind in (STEP, AGENCY_UPDATE) or message.items):
            self.ledger.outbox.cancel(
                message.id, "every invoice was paid, closed or handed over before sending"
            )
            self.summary.cancelled += 1
            return
        debtor = self.ledger.invoices.debtor(self.pipeline.name, message.debtor_id)
        if debtor is None:
            self._fail(message, f"debtor {message.debtor_id} is not in the ledger", retry=False)
            return
        if self._outside_window(message, channel, debtor.timezone):
            self.summary.waiting += 1
            return
        try:
            recipient = channel.recipient(debtor)
        except BadRecipient as error:
            self._bad_recipient(message, str(error))
            return
        opted_out = self.ledger.opt_outs.reason(
            self.pipeline.name, debtor.debtor_id, channel.kind, recipient
        )
        if opted_out is not None:
            self._bad_recipient(
                message,
                f"debtor {debtor.debtor_id} ({debtor.name}) opted out of {channel.kind} at "
                f"{recipient} ({opted_out}); use another channel for them",
            )
            return
        if not self.ledger.outbox.claim(message.id, self.run_id, recipient):
            return
        claim = self._claim(message, debtor, invoices)
        discount = (
            early_discount(invoices, debtor.debtor_id, self.rules, self.today)
            if message.kind == STEP
            else None
        )
        outgoing = OutgoingMessage(
            idempotency_key=message.idempotency_key,
            pipeline=self.pipeline.name,
            debtor=debtor,
            recipient=recipient,
            step=message.step,
            template=message.template,
            invoices=tuple(invoices),
            today=self.today,
            creditor=self.pipeline.creditor,
            previous_contacts=tuple(
                PreviousContact(c.step, c.planned_for, c.channel)
                for c in self.ledger.outbox.contacts_of(self.pipeline.name, debtor.debtor_id)
                if c.planned_for < message.planned_for
            ),
            early_discount=discount,
            resume_notes=tuple(item.note for item in message.items if item.note is not None),
            confirmation=self._confirmation(message),
            claim=claim,
            legal=self.legal.get(message.step) if message.kind == STEP else None,
            dossier=self._dossier(message, channel, debtor, invoices),
            agency_update=self._agency_update(message, debtor, invoices),
            message_id=message.id,
            payment=self._payment(message, channel, invoices, claim, discount),
            documents=self._documents(message, channel, invoices),
        )
        try:
            receipt = self._deliver(connection, outgoing)
        except ChannelDown as error:
            self.ledger.outbox.mark_failed(message.id, str(error), retry=True)
            self.summary.problems.append(
                f"channel {channel.context.name!r} stopped for this run: {error}; its messages "
                "wait for the next run"
            )
            raise _StopChannel from None
        except OptedOut as error:
            self.ledger.opt_outs.add(
                self.pipeline.name, debtor.debtor_id, channel.kind, recipient, str(error)
            )
            self._bad_recipient(message, f"{error} (remembered: not tried again)")
            return
        except SendError as error:
            attempts_left = message.attempts + 1 < MAX_ATTEMPTS
            self._fail(message, str(error), retry=_is_retryable(error) and attempts_left)
            return
        except AnswerLost as error:
            self.ledger.outbox.mark_uncertain_one(message.id, str(error))
            self._log(message, "uncertain")
            self.summary.uncertain_found += 1
            self.summary.problems.append(f"uncertain: message {message.idempotency_key}: {error}")
            return
        except Exception as error:
            self.ledger.outbox.mark_uncertain_one(
                message.id, f"unexpected error while sending: {error}"
            )
            self._log(message, "uncertain")
            self.summary.uncertain_found += 1
            self.summary.problems.append(f"uncertain: message {message.idempotency_key}: {error}")
            return
        self.ledger.outbox.mark_sent(message.id, receipt)
        self._log(message, "sent")
        self._handed_over(message, channel, outgoing, receipt)
        if outgoing.legal == "nl_14_day_letter" and outgoing.claim is not None:
            self._keep_letter(message, channel, outgoing.claim)
        self.summary.sent += 1
        self.summary.sent_per_step[message.step] += 1

    def _payment(
        self,
        message: OutboxMessage,
        channel: Channel,
        invoices: list[Invoice],
        claim: Claim | None,
        discount: EarlyDiscount | None,
    ) -> PaymentDetails | None:
        """How to pay what a ladder step asks for (not for call tasks or handoffs)."""
        if message.kind != STEP or not channel.contacts_debtor or not invoices:
            return None
        if claim is not None:
            amount = claim.total
        elif discount is not None:
            amount = discount.pay_amount
        else:
            amount = sum((i.amount_open for i in invoices), Decimal(0))
        return self.payments.details(message.idempotency_key, invoices, amount)

    def _documents(
        self, message: OutboxMessage, channel: Channel, invoices: list[Invoice]
    ) -> tuple[InvoiceDocument, ...]:
        """The invoices' PDFs for a ladder step on a channel that attaches them; one that the
        source cannot give is reported and the message goes without it."""
        source = self.source
        if (
            message.kind != STEP
            or not channel.attaches_documents
            or source is None
            or Capability.INVOICE_DOCUMENTS not in source.capabilities
        ):
            return ()
        found = []
        for invoice in invoices:
            if invoice.number not in self.documents:
                try:
                    self.documents[invoice.number] = source.invoice_document(invoice)
                except DunningError as error:
                    self.summary.problems.append(
                        f"invoice {invoice.number}: PDF not attached: {error}"
                    )
                    self.documents[invoice.number] = None
            document = self.documents[invoice.number]
            if document is not None:
                found.append(document)
        return tuple(found)

    def _log(self, message: OutboxMessage, outcome: str) -> None:
        """One cheap line per message: ids, invoice numbers and channel, never the content."""
        if not log.isEnabledFor(logging.INFO):
            return
        log.info(
            "%s: message %d %s via %s",
            self.pipeline.name,
            message.id,
            outcome,
            message.channel,
            extra={
                "pipeline": self.pipeline.name,
                "run_id": self.run_id,
                "message_id": message.id,
                "invoice": ",".join(item.invoice_number for item in message.items),
                "channel": message.channel,
                "outcome": outcome,
            },
        )

    def _bad_recipient(self, message: OutboxMessage, reason: str) -> None:
        self.ledger.outbox.mark_failed(message.id, reason, retry=False, bounced=True)
        self._log(message, "failed (bad recipient)")
        self.summary.bad_recipients += 1
        self.summary.failed_per_step[message.step] += 1
        self.summary.problems.append(f"not sent: {reason}")

    def _deliver(self, connection: Connection, outgoing: OutgoingMessage) -> Receipt:
        for attempt in Retrying(
            retry=retry_if_exception(_is_retryable),
            stop=stop_after_attempt(TRIES_PER_RUN),
            wait=wait_exponential(multiplier=self.retry_wait, max=5),
            reraise=True,
        ):
            with attempt:
                return connection.send(outgoing)
        raise AssertionError("unreachable")  # pragma: no cover

    def _fail(self, message: OutboxMessage, reason: str, *, retry: bool) -> None:
        self.ledger.outbox.mark_failed(message.id, reason, retry=retry)
        self._log(message, "failed (retried next run)" if retry else "failed")
        if retry:
            self.summary.retry_later += 1
            self.summary.problems.append(
                f"will retry next run: {message.idempotency_key}: {reason}"
            )
        else:
            self.summary.failed += 1
            self.summary.failed_per_step[message.step] += 1
            self.summary.problems.append(f"failed: {message.idempotency_key}: {reason}")
