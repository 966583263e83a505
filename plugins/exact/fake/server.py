"""``FakeExact``: the fake Exact Online API on a real local HTTP server, and the handles tests need.

with FakeExact(divisions=(123456,)) as fake:
    invoice = fake.add_invoice(fake.add_account("Bakker B.V.").id, "121.00")
    access, _refresh = fake.issue_tokens()
    requests.get(f"{fake.base_url}/api/v1/{fake.division}/cashflow/Receivables",
                 headers={"Authorization": f"Bearer {access}", "Accept": "application/json"})

Tokens, codes and ``Modified`` live on the fake's clock (``now()`` = real time + the offset that
:meth:`FakeExact.advance` moves); rate-limit windows run on real time, scaled by ``time_scale``.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dunning.core.testing.served import ServedApp
from dunning.plugins.exact.fake.app import ExactApp, LoggedRequest
from dunning.plugins.exact.fake.models import Account, Contact, Term
from dunning.plugins.exact.fake.oauth import Client
from dunning.plugins.exact.fake.seed import seed
from dunning.plugins.exact.fake.store import ExactStore
from dunning.plugins.exact.fake.traffic import Fault, FaultKind, RateLimiter


class FakeExact(ServedApp, ExactApp):
    """One Exact user (with ``divisions``; the first is ``CurrentDivision``) and one registered
    client app, behind ``http://127.0.0.1:<port>``."""

    def __init__(
        self,
        client_id: str = "test-client",
        client_secret: str = "test-secret",
        redirect_uri: str = "http://localhost:8400/callback",
        *,
        divisions: tuple[int, ...] = (123456,),
        minutely_limit: int = 60,
        daily_limit: int = 5000,
        time_scale: float = 1.0,
        today: date | None = None,
    ) -> None:
        self._offset = 0.0
        super().__init__(
            ExactStore(divisions, today, self._fake_time),
            Client(client_id, client_secret, redirect_uri),
            RateLimiter(minutely_limit, daily_limit, time_scale),
            self._fake_time,
        )

    def _fake_time(self) -> float:
        return time.time() + self._offset

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: in front of ``/api/oauth2/...`` and ``/api/v1/...``."""
        return self.address

    @property
    def division(self) -> int:
        return self.store.current

    @property
    def client_id(self) -> str:
        return self.client.client_id

    @property
    def redirect_uri(self) -> str:
        """The app's registered redirect URI."""
        return self.client.redirect_uri

    @property
    def client_secret(self) -> str:
        return self.client.client_secret

    # -- clock and tokens ----------------------------------------------------------------------

    def now(self) -> float:
        """The fake's clock in epoch seconds: real time plus what :meth:`advance` added."""
        return self._fake_time()

    def advance(self, seconds: float) -> None:
        with self.store.lock:
            self._offset += seconds

    def issue_tokens(self, age_seconds: float = 0) -> tuple[str, str]:
        """A fresh (access, refresh) pair as if a code had been exchanged ``age_seconds`` ago."""
        with self.store.lock:
            return self.tokens.issue(self.now() - age_seconds)

    def authorization_code(self) -> str:
        """A single-use code (180 s), as the auth page hands it out but not URL-encoded."""
        with self.store.lock:
            return self.tokens.new_code(self.now())

    def expire_access_tokens(self) -> None:
        """Every access token issued so far answers 401 "access token expired" from now on."""
        with self.store.lock:
            self.tokens.expire_all()

    @property
    def refreshes(self) -> int:
        return self.tokens.refreshes

    def valid_refresh_tokens(self) -> set[str]:
        with self.store.lock:
            return self.tokens.valid_refresh_tokens(self.now())

    # -- traffic controls ----------------------------------------------------------------------

    def use_daily_limit(self, remaining: int = 0) -> None:
        """Leave ``remaining`` calls of today's daily limit, in every division."""
        with self.store.lock:
            for number in self.store.divisions:
                self.limiter.set_daily_remaining(number, remaining)

    def reset_limits(self) -> None:
        with self.store.lock:
            self.limiter.reset()

    def fail_next(
        self, n: int = 1, kind: FaultKind = 503, *, sleep_seconds: float = 5.0, after: int = 0
    ) -> None:
        """The next ``n`` API calls fail: ``500`` (JSON envelope), ``503`` (HTML), ``429``
        (minutely, reset in 1 s), ``"daily"`` (a daily 429: another client spent what was left
        of the day, in this call's division, so the calls after it are refused too),
        ``"revoked"`` (401 without "expired": the app's access was withdrawn),
        ``"malformed"`` (200 with cut JSON) or ``"timeout"`` (carried
        out, answered after ``sleep_seconds``); ``after`` calls are answered normally first."""
        with self.store.lock:
            self.faults.add(n, Fault(kind, sleep_seconds), after)

    def requests_to(self, endpoint: str) -> list[LoggedRequest]:
        """Logged requests for ``"GET sync/Cashflow/PaymentTerms"`` and the like."""
        with self.store.lock:
            return [entry for entry in self.log if entry.endpoint == endpoint]

    def clear_log(self) -> None:
        with self.store.lock:
            self.log.clear()
            self.counts.clear()
            self.token_requests.clear()

    # -- written by clients --------------------------------------------------------------------

    @property
    def notes(self) -> list[dict[str, Any]]:
        return self.store.notes

    @property
    def tasks(self) -> list[dict[str, Any]]:
        return self.store.tasks

    @property
    def bank_entries(self) -> list[dict[str, Any]]:
        return self.store.bank_entries

    # -- data ----------------------------------------------------------------------------------

    def add_account(
        self,
        name: str,
        *,
        code: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        language: str = "NL",
        country: str = "NL",
        chamber_of_commerce: str | None = None,
        vat_number: str | None = None,
        address_line1: str | None = None,
        postcode: str | None = None,
        city: str | None = None,
        blocked: bool = False,
        division: int | None = None,
    ) -> Account:
        return self.store.add_account(
            name,
            code=code,
            division=division,
            email=email,
            phone=phone,
            language=language,
            country=country,
            chamber_of_commerce=chamber_of_commerce,
            vat_number=vat_number,
            address_line1=address_line1,
            postcode=postcode,
            city=city,
            blocked=blocked,
        )

    def add_contact(
        self,
        account_id: str,
        first_name: str,
        last_name: str,
        *,
        email: str | None = None,
        phone: str | None = None,
        mobile: str | None = None,
        is_main: bool = True,
        division: int | None = None,
    ) -> Contact:
        return self.store.add_contact(
            account_id,
            first_name,
            last_name,
            is_main=is_main,
            division=division,
            email=email,
            phone=phone,
            mobile=mobile,
        )

    def add_invoice(
        self,
        account_id: str,
        amount: Decimal | str | int,
        *,
        invoice_number: int | None = None,
        invoice_date: date | None = None,
        due_date: date | None = None,
        your_ref: str | None = None,
        payment_reference: str | None = None,
        description: str | None = None,
        currency: str = "EUR",
        terms: int = 1,
        division: int | None = None,
    ) -> int:
        """Open receivable terms for a new sales invoice; returns its number."""
        return self.store.add_invoice(
            account_id,
            amount,
            invoice_number=invoice_number,
            invoice_date=invoice_date,
            due_date=due_date,
            your_ref=your_ref,
            payment_reference=payment_reference,
            description=description,
            currency=currency,
            terms=terms,
            division=division,
        )

    def add_payable(
        self, account_id: str, amount: Decimal | str | int, division: int | None = None
    ) -> Term:
        return self.store.add_payable(account_id, amount, division)

    def pay(
        self,
        invoice_number: int,
        amount: Decimal | str | int | None = None,
        *,
        on: date | None = None,
        division: int | None = None,
    ) -> None:
        """Money received and matched in Exact: everything open by default, or part of it."""
        self.store.pay(invoice_number, amount, on=on, division=division)

    def delete_invoice(self, invoice_number: int, division: int | None = None) -> None:
        self.store.delete_invoice(invoice_number, division)

    def change_account(self, account_id: str, **fields: Any) -> Account:
        return self.store.change_account(account_id, **fields)

    def change_contact(self, contact_id: str, **fields: Any) -> Contact:
        return self.store.change_contact(contact_id, **fields)

    def open_amount(self, invoice_number: int, division: int | None = None) -> Decimal:
        return self.store.open_amount(invoice_number, division)

    def terms(self, invoice_number: int, division: int | None = None) -> list[Term]:
        return self.store.terms(invoice_number, division)

    def seed(
        self,
        n_receivables: int,
        *,
        rng_seed: int = 0,
        division: int | None = None,
        paid_share: float = 0.2,
    ) -> None:
        with self.store.lock:
            seed(
                self.store,
                n_receivables,
                rng_seed=rng_seed,
                division=division,
                paid_share=paid_share,
            )

    def server_time(self) -> datetime:
        return self.store.now()
