"""Following a platform's pages by the ``Link: <...>; rel="next"`` header (RFC 8288).

Moneybird (and many REST APIs) put the next page's full address in the ``Link`` header and leave
it out on the last page. A source plugin passes a ``fetch`` that makes one request (usually
:func:`~dunning.core.http.source_request` with its session, budget and policy) and reads each
page as it comes, so a long list is streamed, never held whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin

import requests

from dunning.core.errors import SourceError

Fetch = Callable[[str, dict[str, Any] | None], requests.Response]
"""Makes one request: the URL, and the query parameters (``None`` for a next link, which
carries its own)."""


def next_link(response: requests.Response) -> str | None:
    """The address of the next page (made absolute against the response's), or ``None``."""
    target = response.links.get("next", {}).get("url")
    return urljoin(response.url, target) if target else None


def follow_pages(
    fetch: Fetch,
    first_url: str,
    params: dict[str, Any] | None = None,
    *,
    what: str = "the source",
) -> Iterator[requests.Response]:
    """Yield the response of each page: the first from ``first_url`` with ``params``, then each
    next link, until a page has none.

    Raises :class:`~dunning.core.errors.SourceError` when a next link points to a page already
    fetched (a server stuck on one page would otherwise be read for ever); ``what`` names the
    platform in that message."""
    response = fetch(first_url, params)
    seen = {response.url}
    pages = 1
    while True:
        yield response
        target = next_link(response)
        if target is None:
            return
        if target in seen:
            raise SourceError(
                f"{what} sent page {pages} with a next link to a page already read ({target}); "
                "stopped reading to avoid an endless loop, so this sync is incomplete: it is "
                "tried again on the next run"
            )
        seen.add(target)
        response = fetch(target, None)
        seen.add(response.url)
        pages += 1
