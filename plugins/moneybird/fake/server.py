"""``FakeMoneybird``: the fake API on a real local HTTP server, and the handles tests need.

with FakeMoneybird(token="t", today=date(2026, 3, 17)) as fake:
    fake.seed(300)
    requests.get(f"{fake.api_url}/sales_invoices.json", headers=fake.auth_headers)
    assert fake.counts["GET sales_invoices"] == 1
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from dunning.core.testing.served import ServedApp
from dunning.plugins.moneybird.fake.app import LoggedRequest, MoneybirdApp
from dunning.plugins.moneybird.fake.models import Contact, Invoice
from dunning.plugins.moneybird.fake.seed import seed
from dunning.plugins.moneybird.fake.store import MoneybirdStore
from dunning.plugins.moneybird.fake.traffic import Fault, FaultKind

ADMINISTRATION_ID = "496081500075198001"


class FakeMoneybird(ServedApp, MoneybirdApp):
    """A Moneybird administration behind ``http://127.0.0.1:<port>/api/v2``.

    ``limit``/``window_seconds``/``time_scale`` shape the rate limit; ``retry_after`` is
    ``"epoch"`` (default) or ``"delta"``. ``today`` fixes the date that decides ``late`` and
    ``period:this_year``; without it the real date is used.
    """

    def __init__(
        self,
        token: str = "test-token",
        *,
        administration_id: str = ADMINISTRATION_ID,
        today: date | None = None,
        limit: int = 150,
        window_seconds: float = 300.0,
        time_scale: float = 1.0,
        retry_after: Literal["epoch", "delta"] = "epoch",
    ) -> None:
        super().__init__(
            MoneybirdStore(administration_id, today),
            token,
            limit=limit,
            window_seconds=window_seconds,
            time_scale=time_scale,
            retry_after=retry_after,
        )

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/api/v2``: prefix of ``/administrations.json``."""
        return f"{self.address}/api/v2"

    @property
    def api_url(self) -> str:
        """``<base_url>/<administration_id>``: prefix of every administration resource."""
        return f"{self.base_url}/{self.administration_id}"

    @property
    def administration_id(self) -> str:
        return self.store.administration_id

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    # -- test controls -------------------------------------------------------------------------

    @property
    def today(self) -> date:
        return self.store.today

    @today.setter
    def today(self, value: date) -> None:
        self.store.today = value

    def revoke_token(self, token: str | None = None) -> None:
        """From now on ``token`` (default: the one given at start) gets a 401."""
        with self.store.lock:
            self.tokens.discard(token or self.token)

    def add_token(self, token: str) -> None:
        with self.store.lock:
            self.tokens.add(token)

    def fail_next(
        self,
        n: int = 1,
        status: FaultKind = 503,
        *,
        sleep_seconds: float = 5.0,
        retry_after_seconds: float = 1.0,
    ) -> None:
        """The next ``n`` requests fail: ``500``/``503``, ``429`` (``Retry-After`` in
        ``retry_after_seconds``), ``"malformed"`` (200 with broken JSON) or ``"timeout"`` (the
        request is carried out, and answered after ``sleep_seconds``)."""
        with self.store.lock:
            self.faults.add(n, Fault(status, sleep_seconds, retry_after_seconds))

    def requests_to(self, endpoint: str) -> list[LoggedRequest]:
        """Logged requests for ``"POST sales_invoices/{id}/payments"`` and the like."""
        with self.store.lock:
            return [entry for entry in self.log if entry.endpoint == endpoint]

    def clear_log(self) -> None:
        with self.store.lock:
            self.log.clear()
            self.counts.clear()
            self.misuses.clear()

    # -- data ----------------------------------------------------------------------------------

    def add_contact(self, **values: Any) -> Contact:
        return self.store.add_contact(**values)

    def add_invoice(self, contact_id: Any, total: Any = "100.0", **values: Any) -> Invoice:
        return self.store.add_invoice(contact_id, total, **values)

    def change_invoice(self, invoice_id: Any, **changes: Any) -> Invoice:
        return self.store.change_invoice(invoice_id, **changes)

    def change_contact(self, contact_id: Any, **changes: Any) -> Contact:
        return self.store.change_contact(contact_id, **changes)

    def invoice(self, invoice_id: Any) -> Invoice:
        return self.store.invoice(invoice_id)

    def seed(self, n_invoices: int, today: date | None = None, rng_seed: int = 0) -> None:
        with self.store.lock:
            seed(self.store, n_invoices, today or self.store.today, rng_seed)
