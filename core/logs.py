"""Structured logs for the service and runs, with secrets redacted.

Code logs through ``logging.getLogger("dunning.<area>")`` with context in ``extra``
(``pipeline``, ``run_id``, ``message_id``, ``invoice``, ``channel``, ``step``);
:func:`setup_logging` installs the one handler, the format and the redaction.

Formats: ``json`` writes one JSON object per line (``time`` in UTC ISO 8601, ``level``,
``logger``, ``message``, the context keys given, and ``error`` as ``"Type: message"`` when the
record carries an exception; the traceback is added as ``traceback`` only at DEBUG). ``text``
writes one readable line. ``auto`` is JSON unless the stream is a terminal.

Every string field and the final line pass through :func:`~dunning.core.privacy.redact`, so a
secret in a message, an argument, a context value or an exception never reaches the output.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, Literal

from dunning.core.privacy.redaction import redact, register_secrets

if TYPE_CHECKING:
    from dunning.core.ledger.runs import RunRecord
    from dunning.core.summary import RunSummary

__all__ = [
    "CONTEXT_KEYS",
    "LogFormat",
    "is_logging",
    "log_summary",
    "redacted_output",
    "register_secrets",
    "setup_logging",
]

LogFormat = Literal["auto", "json", "text"]
CONTEXT_KEYS = ("pipeline", "run_id", "message_id", "invoice", "channel", "step")
ROOT = "dunning"


def _error_of(record: logging.LogRecord) -> str | None:
    if not record.exc_info or record.exc_info[1] is None:
        return None
    error = record.exc_info[1]
    return redact(f"{type(error).__name__}: {error}")


def _traceback_of(record: logging.LogRecord) -> str | None:
    if not record.exc_info:
        return None
    return redact("".join(traceback.format_exception(*record.exc_info)).rstrip())


def _context(record: logging.LogRecord) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in CONTEXT_KEYS:
        value = getattr(record, key, None)
        if value is not None:
            found[key] = redact(value) if isinstance(value, str) else value
    return found


class JsonFormatter(logging.Formatter):
    """One JSON object per line, redacted field by field and as a whole."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
            **_context(record),
        }
        error = _error_of(record)
        if error is not None:
            data["error"] = error
            if logging.getLogger(ROOT).isEnabledFor(logging.DEBUG):
                data["traceback"] = _traceback_of(record)
        return redact(json.dumps(data, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """``2026-03-16T09:00:00Z info dunning.run [pipeline=main run_id=3] message: Error: ...``"""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        context = " ".join(f"{key}={value}" for key, value in _context(record).items())
        line = f"{moment} {record.levelname.lower()} {record.name}"
        if context:
            line += f" [{context}]"
        line += f" {record.getMessage()}"
        error = _error_of(record)
        if error is not None:
            line += f": {error}"
        if error is not None and logging.getLogger(ROOT).isEnabledFor(logging.DEBUG):
            line += "\n" + (_traceback_of(record) or "")
        return redact(line)


class _DunningHandler(logging.Handler):
    """Writes to its stream, or to ``sys.stderr`` as it is at the moment of each record (so a
    test runner's capture, or a replaced stderr, is honoured)."""

    def __init__(self, stream: IO[str] | None) -> None:
        super().__init__()
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            stream = self.stream or sys.stderr
            stream.write(line + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


def _is_terminal(stream: IO[str] | None) -> bool:
    target = stream or sys.stderr
    isatty = getattr(target, "isatty", None)
    return bool(isatty and isatty())


def setup_logging(
    log_format: LogFormat = "auto",
    stream: IO[str] | None = None,
    secrets: Iterable[str | None] = (),
    level: int = logging.INFO,
) -> None:
    """Send ``dunning.*`` records at ``level`` and above to ``stream`` (default: stderr at the
    time of writing) in ``log_format``, redacting ``secrets`` and every registered secret.

    Idempotent: a second call replaces the handler of the first, it never adds a second one."""
    register_secrets(secrets)
    logger = logging.getLogger(ROOT)
    for handler in list(logger.handlers):
        if isinstance(handler, _DunningHandler | logging.NullHandler):
            logger.removeHandler(handler)
    handler = _DunningHandler(stream)
    use_json = log_format == "json" or (log_format == "auto" and not _is_terminal(stream))
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)


def silence_logging() -> None:
    """Drop ``dunning.*`` records (the CLI's default when no log output was asked for): a
    NullHandler replaces ours, so Python's last-resort handler never prints them either."""
    logger = logging.getLogger(ROOT)
    for handler in list(logger.handlers):
        if isinstance(handler, _DunningHandler | logging.NullHandler):
            logger.removeHandler(handler)
    logger.addHandler(logging.NullHandler())


def is_logging() -> bool:
    """Whether :func:`setup_logging` has installed a handler that writes somewhere."""
    return any(isinstance(h, _DunningHandler) for h in logging.getLogger(ROOT).handlers)


class _RedactingWriter:
    """A text stream that redacts what is written and delegates everything else."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: Any) -> int:
        if isinstance(text, str):
            self._stream.write(redact(text))
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def redacted_output() -> Iterator[None]:
    """Redact what is written to stderr (warnings, errors, logs) while the block runs.

    Stdout is left alone: it is what the command was asked for (an authorize address with its
    client id, the desk's address with its token), and commands that print stored free text
    (``status``, ``export``) redact it themselves."""
    saved = sys.stderr
    sys.stderr = _RedactingWriter(sys.stderr)
    try:
        yield
    finally:
        sys.stderr = saved


def log_summary(summary: RunSummary, last_runs: list[RunRecord]) -> None:
    """Log one pipeline's run: each problem as a warning, each note as info, then a closing
    line with the counts and exit code (a warning unless it is 0), all on ``dunning.run`` with
    ``pipeline`` and ``run_id``."""
    log = logging.getLogger("dunning.run")
    context: dict[str, Any] = {"pipeline": summary.pipeline}
    if last_runs and last_runs[0].pipeline == summary.pipeline:
        context["run_id"] = last_runs[0].id
    for problem in summary.problems:
        log.warning(problem, extra=context)
    for note in summary.notes:
        log.info(note, extra=context)
    log.log(
        logging.INFO if summary.exit_code == 0 else logging.WARNING,
        "run finished: %d sent, %d failed, %d retry later, %d uncertain, %d write-backs "
        "failed; exit code %d",
        summary.sent,
        summary.failed,
        summary.retry_later,
        summary.uncertain_found,
        summary.writeback_failed,
        summary.exit_code,
        extra=context,
    )
