"""Redaction: secret values and secret-shaped text replaced by ``[redacted]``.

Two layers, applied together by :func:`redact`:

* exact values registered with :func:`register_secrets` (the CLI registers every ``SecretStr``
  of the config, every ``${VAR}`` value interpolated into pipelines.yaml and the OAuth tokens in
  the ledger; plugins register what they learn at run time, such as a refreshed token). Values
  shorter than :data:`MIN_SECRET_LENGTH` are ignored: redacting ``"out"`` everywhere would ruin
  every line and protect nothing. A value is also matched URL-encoded and JSON-escaped.
* patterns for secrets nobody registered: ``Bearer``/``Basic``/``AccessKey`` credentials,
  ``Authorization`` headers, ``password``/``token``/``api_key``-like keys in query strings,
  form and JSON bodies and reprs, ``user:password@`` in URLs, Mollie ``live_``/``test_`` keys
  and Twilio ``AC...:token`` pairs.

Redaction is idempotent: redacting redacted text changes nothing.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8

_KEYS = (
    r"password|passwd|passphrase|secret|client_secret|token|access_token|refresh_token|id_token"
    r"|auth_token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|authorization"
)
_QUOTED_KEY_VALUE = re.compile(
    rf"""(?P<head>(?P<kq>["']?)\b(?:{_KEYS})(?P=kq)\s*[:=]\s*(?P<q>["']))"""
    rf"""(?P<value>(?:\\.|(?!(?P=q)).)*)(?P=q)""",
    re.IGNORECASE,
)
"""``"password": "..."``, ``'token': '...'``, ``password="..."``: quoted values."""
_PLAIN_KEY_VALUE = re.compile(
    rf"""(?P<head>\b(?:{_KEYS})=)(?!\[redacted\]|SecretStr\(|\*|\.\.\.)"""
    r"""(?P<value>[^\s"'&,;)}\]]+)""",
    re.IGNORECASE,
)
"""``token=...`` in query strings, form bodies and ``key=value`` reprs."""
_HEADER = re.compile(r"(?P<head>\bauthorization:[ \t]*)(?P<value>[^\r\n\"',}]+)", re.IGNORECASE)
_SCHEMES = re.compile(
    r"(?P<head>\b(?:[Bb]earer|AccessKey|accesskey)[ \t]+)(?P<value>[A-Za-z0-9\-._~+/=]{6,})"
    r"|(?P<basic_head>\bBasic[ \t]+)(?P<basic>[A-Za-z0-9+/]{16,}=*)"
)
"""Credentials after an HTTP auth scheme; ``Basic`` only before real base64, not a word."""
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)(?P<value>[^/\s@]+)(?=@)")
_MOLLIE_KEY = re.compile(r"\b(?:live|test|access)_[A-Za-z0-9]{20,}\b")
_TWILIO_PAIR = re.compile(r"(?P<head>\bAC[0-9a-fA-F]{32}:)(?P<value>[^\s@/\"',]+)")
_PATTERNS = (_QUOTED_KEY_VALUE, _PLAIN_KEY_VALUE, _HEADER, _SCHEMES, _URL_PASSWORD, _TWILIO_PAIR)


def _keep_head(match: re.Match[str]) -> str:
    if "basic" in match.re.groupindex and match.group("basic") is not None:
        return f"{match.group('basic_head')}{REDACTED}"
    if match.group("value") in (REDACTED, "") or set(match.group("value")) <= {"*", "."}:
        return match.group(0)
    whole, head, value = match.group(0), match.group("head"), match.group("value")
    tail = whole[len(head) + len(value) :]
    return f"{head}{REDACTED}{tail}"


class SecretRegistry:
    """The exact values to redact; thread-safe, one per process (:data:`registry`)."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, values: Iterable[str | None]) -> None:
        with self._lock:
            before = len(self._values)
            for value in values:
                if value is None or len(value.strip()) < MIN_SECRET_LENGTH:
                    continue
                self._values.update(_variants(value))
            if len(self._values) != before:
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None

    def sub(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(REDACTED, text) if pattern is not None else text


def _variants(value: str) -> set[str]:
    """The value as written, URL-encoded and JSON-escaped (how it shows up in a request)."""
    return {value, quote(value, safe=""), json.dumps(value)[1:-1]}


registry = SecretRegistry()


def register_secrets(values: Iterable[str | None]) -> None:
    """Redact these exact values from every log line and from the CLI's output from now on.

    For plugins too: a source that obtains a token at run time registers it here. ``None`` and
    values shorter than 8 characters are ignored."""
    registry.add(values)


def redact(text: str) -> str:
    """``text`` with registered secrets and secret-shaped parts replaced by ``[redacted]``."""
    text = registry.sub(text)
    for pattern in _PATTERNS:
        text = pattern.sub(_keep_head, text)
    return _MOLLIE_KEY.sub(REDACTED, text)


def redact_data(value: Any) -> Any:
    """A copy of JSON-like ``value`` (dicts, lists, strings, numbers) with every string
    redacted: for commands that print stored free text, such as a provider's error."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(item) for item in value]
    return value
