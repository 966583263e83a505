"""A table of records kept in ``Timestamp`` order, with cached sorted views for paging.

A dict keyed by id keeps its insertion order; :meth:`Table.put` re-inserts a changed record, so
the dict order *is* ascending ``Timestamp`` order without ever sorting. Views ordered by another
attribute (``id``, ``hid``) are sorted once and cached until the next change, so following
``__next`` through 50,000 rows costs one sort and then a ``bisect`` per page.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter
from typing import Any, Generic, Protocol, TypeVar


class Keyed(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def timestamp(self) -> int: ...


R = TypeVar("R", bound=Keyed)


class Table(Generic[R]):
    def __init__(self) -> None:
        self._rows: dict[str, R] = {}
        self._views: dict[str, tuple[list[R], list[Any]]] = {}

    def put(self, record: R) -> None:
        """Add a record or move a changed one to the end (its ``timestamp`` is the newest)."""
        self._rows.pop(record.id, None)
        self._rows[record.id] = record
        self._views.clear()

    def remove(self, record_id: str) -> R:
        record = self._rows.pop(record_id)
        self._views.clear()
        return record

    def get(self, record_id: str) -> R | None:
        return self._rows.get(record_id)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._rows

    def __iter__(self) -> Iterator[R]:
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)

    def ordered(self, attribute: str) -> tuple[list[R], list[Any]]:
        """The records ascending by ``attribute`` and the list of their keys (for ``bisect``)."""
        view = self._views.get(attribute)
        if view is None:
            key = attrgetter(attribute)
            rows = list(self._rows.values())
            if attribute != "timestamp":
                rows.sort(key=key)
            view = rows, [key(row) for row in rows]
            self._views[attribute] = view
        return view
