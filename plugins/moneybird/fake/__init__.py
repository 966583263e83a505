"""A faithful local fake of the Moneybird API v2 (API-CONTRACTS.md section 2), for tests and demos.

Start it in a test with ``with FakeMoneybird(token=..., today=...) as fake:``; run it for a demo
with ``python -m dunning.plugins.moneybird.fake --port 8765 --invoices 300 --token demo-token``.
"""

from __future__ import annotations

from dunning.plugins.moneybird.fake.app import LoggedRequest
from dunning.plugins.moneybird.fake.models import Contact, Invoice
from dunning.plugins.moneybird.fake.server import FakeMoneybird

__all__ = ["Contact", "FakeMoneybird", "Invoice", "LoggedRequest"]
