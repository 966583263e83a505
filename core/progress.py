"""How the engine reports progress of long stages without knowing about terminals."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def begin(self, label: str, total: int | None = None) -> None:
        """A stage starts; ``total`` is known for dispatch, unknown for a streaming sync."""

    def advance(self, amount: int = 1) -> None:
        """``amount`` more units of the current stage are done."""

    def end(self) -> None:
        """The current stage is finished."""


class NoProgress:
    """Reports nothing (tests, ``--quiet``, JSON output)."""

    def begin(self, label: str, total: int | None = None) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass

    def end(self) -> None:
        pass
