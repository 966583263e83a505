"""Signals for ``dunning serve``: TERM/INT stop cleanly, a second one exits at once, HUP reloads.

The handlers only set flags (they run between two bytecodes of the main thread); the service's
loop does the work. A run in a worker thread is never interrupted by a signal.
"""

from __future__ import annotations

import os
import signal
from types import FrameType
from typing import Protocol


class Stoppable(Protocol):
    @property
    def stopping(self) -> bool: ...

    def request_stop(self) -> None: ...

    def request_reload(self) -> None: ...


def install_signal_handlers(service: Stoppable, force_exit_code: int) -> None:
    """Route SIGTERM/SIGINT to ``service.request_stop`` (a second one: ``os._exit``) and SIGHUP
    to ``service.request_reload``. Call from the main thread."""

    def on_stop(signum: int, frame: FrameType | None) -> None:
        if service.stopping:
            name = signal.Signals(signum).name
            os.write(2, f"dunning serve: second {name}, exiting without waiting\n".encode())
            os._exit(force_exit_code)
        service.request_stop()

    def on_hangup(signum: int, frame: FrameType | None) -> None:
        service.request_reload()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, on_hangup)
