"""A faithful local fake of the Exact Online REST API (API-CONTRACTS.md section 1), for tests and
demos: OAuth2 with rotating refresh tokens, OData v2 JSON and Atom, paging, ``$select``/``$filter``,
rate limits, faults and automatic matching of bank entries.

Start it in a test with ``with FakeExact(divisions=(123456,)) as fake:``; run it for a demo with
``python -m dunning.plugins.exact.fake --port 8766 --receivables 300``.
"""

from __future__ import annotations

from dunning.plugins.exact.fake.app import LoggedRequest
from dunning.plugins.exact.fake.models import Account, Contact, Term
from dunning.plugins.exact.fake.server import FakeExact

__all__ = ["Account", "Contact", "FakeExact", "LoggedRequest", "Term"]
