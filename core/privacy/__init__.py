"""Data protection: secrets kept out of logs and output, a debtor's data exported, and the
personal data of old closed cases purged (anonymised) while the figures stay.

* :mod:`.redaction`: :func:`register_secrets` and :func:`redact`, used by every log line and
  by the CLI's own output.
* :mod:`.secrets`: the secret values a loaded config and a ledger hold, to register.
* :mod:`.export` and :mod:`.purge`: ``dunning export`` and ``dunning purge``.
"""

from dunning.core.privacy.redaction import REDACTED, redact, register_secrets

__all__ = ["REDACTED", "redact", "register_secrets"]
