"""Errors of the email channel that the core hierarchy does not have (yet).

Both exist because of how the dispatcher reads exceptions from ``Connection.send``: a
:class:`~dunning.core.errors.SendError` is a failure of that message (retried when ``retryable``),
while any other exception marks the message ``uncertain`` (never re-sent automatically).
"""

from __future__ import annotations

from dunning.core.errors import ConfigError, DunningError, SendError


class TemplateFailure(SendError, ConfigError):
    """A template could not be found or rendered while sending.

    It is a :class:`ConfigError` (the fix is in the templates or the config) and also a
    permanent :class:`SendError`, so the engine records the message as failed with this reason,
    nothing having been sent, instead of as possibly sent.
    """

    def __init__(self, message: str) -> None:
        SendError.__init__(self, message, retryable=False)


class DeliveryUncertain(DunningError):
    """The connection broke after the message content was handed to the server.

    The server may or may not have accepted it. Deliberately not a :class:`SendError`: an
    automatic retry could deliver it twice, so the engine reports it as ``uncertain`` instead.
    """
