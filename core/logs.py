"""Structured logs for the service and runs, with secrets redacted (being built).

Code logs through ``logging.getLogger("dunning.<area>")`` with context in ``extra``
(``pipeline``, ``run_id``, ``message_id``, ``invoice``); :func:`setup_logging` installs the
handler, the format and the redaction.
"""

from __future__ import annotations

import logging
from typing import IO, Literal

LogFormat = Literal["auto", "json", "text"]


def setup_logging(log_format: LogFormat = "auto", stream: IO[str] | None = None) -> None:
    """Send ``dunning.*`` log records to ``stream`` (default stderr) in ``log_format``."""
    logging.getLogger("dunning").setLevel(logging.INFO)
