"""One error hierarchy. Every error carries a message a user can act on.

The CLI prints ``str(error)`` on one line and exits with ``error.exit_code``; it never shows a
traceback for a :class:`DunningError`. Code that raises one of these must therefore say *where*
(file:line, invoice number, pipeline) and *what to do*.
"""

from __future__ import annotations

from datetime import datetime

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_RUNTIME = 3


class DunningError(Exception):
    """Base of every error dunning reports to a user."""

    exit_code = EXIT_RUNTIME


class ConfigError(DunningError):
    """``pipelines.yaml``, ``.env`` or a plugin section is wrong; the run cannot start."""

    exit_code = EXIT_USAGE


class UsageError(DunningError):
    """A command was called with arguments that cannot work (unknown invoice, bad date)."""

    exit_code = EXIT_USAGE


class PluginError(DunningError):
    """A plugin is missing, blocked, or broke its contract."""

    exit_code = EXIT_USAGE


class LedgerError(DunningError):
    """The ledger cannot be opened, migrated or written."""


class RunInProgressError(DunningError):
    """Another live process is running the same pipeline; this run refuses to overlap it."""


class SourceError(DunningError):
    """The source could not be read or written as a whole (file missing, platform down)."""


class SourceLimitReached(SourceError):
    """The platform's request allowance is used up until ``resumes_at`` (Exact's daily limit).

    Every further call would be refused until then, so callers stop calling: a sync ends early
    with what it read (:class:`~dunning.core.models.SyncIncomplete`), write-backs wait for the
    next run. ``resumes_at`` is the moment the platform named (UTC), ``None`` if it named none."""

    def __init__(self, message: str, resumes_at: datetime | None = None) -> None:
        super().__init__(message)
        self.resumes_at = resumes_at


class SendError(DunningError):
    """A channel could not deliver one message.

    ``retryable`` errors (a mail server busy, a 429) may succeed later; permanent ones will not.
    ``bad_recipient`` means the debtor's address or number is unusable: a problem of that debtor,
    not of the run.
    """

    def __init__(self, message: str, *, retryable: bool = False, bad_recipient: bool = False):
        super().__init__(message)
        self.retryable = retryable
        self.bad_recipient = bad_recipient


class BadRecipient(SendError):
    """The recipient address or phone number is invalid for this channel."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False, bad_recipient=True)


class OptedOut(BadRecipient):
    """The recipient told the provider to stop (an SMS STOP, unsubscribed): this message is not
    sent, and the engine remembers the opt-out so that no later run tries that address again
    on a channel of the same kind."""


class ChannelDown(SendError):
    """The channel cannot send anything more this run (bad credentials, no balance left).

    Raised from ``send``: this message and the rest of the channel's batch stay pending for
    the next run, the run reports the reason and exits non-zero."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)
