"""Exact Online OAuth2: the authorization-code grant once, then rotating refreshes under a lock.

Exact's traps (API-CONTRACTS.md 1.2) and what this module does about them:

- An access token lives 600 s and a refresh before 9 min 30 s is refused, so
  :meth:`ExactAuth.access_token` refreshes only when fewer than 30 s remain (or after a ``401``
  "access token expired").
- Every refresh returns a new refresh token and kills the old one. The refresh therefore
  happens inside :meth:`~dunning.core.ledger.tokens.TokenStore.locked` (the database's lock):
  the stored pair is read under the lock, refreshed, and the new pair stored in the same
  transaction, which commits before the new access token is used. A process that waited for the
  lock finds a pair newer than the one it held and uses that instead of refreshing again.
- A refresh token unused for 30 days is dead: the admin is told to run ``dunning auth exact``.
- The token endpoint says ``expires_in`` as a string; a string and a number are both read.

A refresh is sent once and never repeated blindly: when its answer is lost, Exact may already
have rotated the token, and a second refresh with the old one would be refused.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlencode

import requests

from dunning.core.errors import ConfigError, SourceError
from dunning.core.http import excerpt, json_or_none
from dunning.core.ledger.tokens import HeldTokens, TokenPair, TokenStore
from dunning.plugins.exact.config import ExactConfig

PROVIDER = "exact"
REFRESH_MARGIN = timedelta(seconds=30)
"""Refresh once fewer than this remain of the access token's life (never earlier)."""
DEFAULT_LIFETIME = 600
WHAT = "Exact Online"


def authorize_again(connection: str) -> str:
    return (
        f"run `dunning auth exact` again to authorize connection {connection!r} "
        "(an Exact user with access to the division logs in once)"
    )


def authorize_url(config: ExactConfig, state: str) -> str:
    """The page where the Exact user approves the app (``force_login=0``)."""
    query = urlencode(
        {
            "client_id": config.client_id.get_secret_value(),
            "redirect_uri": config.redirect_uri,
            "response_type": "code",
            "state": state,
            "force_login": "0",
        }
    )
    return f"{config.api_base}/api/oauth2/auth?{query}"


def new_state() -> str:
    return secrets.token_urlsafe(16)


def _expires_in(body: dict[str, Any]) -> int:
    value = body.get("expires_in", DEFAULT_LIFETIME)
    try:
        return int(str(value).strip())
    except ValueError:
        return DEFAULT_LIFETIME


class ExactAuth:
    """The access token of one connection (``source.connection``), kept fresh.

    ``tokens`` is the ledger's token store; without one (no ledger) nothing can be refreshed
    and the source cannot run. ``clock`` gives the current UTC moment (tests move it)."""

    def __init__(
        self,
        config: ExactConfig,
        tokens: TokenStore | None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.connection = config.connection
        self.clock = clock
        self.session = requests.Session()
        self.refreshes = 0
        """Refreshes this object made (not ones it found done by another process)."""
        self._pair = tokens.load(self.connection, PROVIDER) if tokens is not None else None

    @property
    def token_url(self) -> str:
        return f"{self.config.api_base}/api/oauth2/token"

    def _store(self) -> TokenStore:
        if self.tokens is None:
            raise ConfigError("the exact source needs the ledger to keep its OAuth tokens")
        return self.tokens

    def _not_authorized(self) -> ConfigError:
        return ConfigError(
            f"no Exact Online tokens are stored for connection {self.connection!r}; "
            + authorize_again(self.connection)
        )

    def _fresh(self, pair: TokenPair) -> bool:
        return pair.expires_at is None or pair.expires_at - self.clock() > REFRESH_MARGIN

    def access_token(self) -> str:
        """A token to send now: the one held, or a refreshed one when fewer than 30 s remain."""
        if self._pair is None:
            self._pair = self._store().load(self.connection, PROVIDER)
        if self._pair is None:
            raise self._not_authorized()
        if self._fresh(self._pair):
            return self._pair.access_token
        return self.refresh(self._pair.access_token, expired=False)

    def refresh(self, stale: str, *, expired: bool) -> str:
        """A new access token in place of ``stale`` (``expired``: Exact said so with a 401).

        Under the lock: when the stored pair is no longer the one holding ``stale`` and is still
        fresh, another process refreshed: that pair is used. Otherwise the stored refresh token
        is used, and the new pair stored before this returns."""
        with self._store().locked(self.connection, PROVIDER) as held:
            stored = held.pair
            if stored is None:
                raise self._not_authorized()
            if stored.access_token != stale and self._fresh(stored):
                self._pair = stored
                return stored.access_token
            self._pair = self._refresh_with(held, stored, expired=expired)
        return self._pair.access_token

    def _refresh_with(self, held: HeldTokens, stored: TokenPair, *, expired: bool) -> TokenPair:
        sent_at = self.clock()
        response = self._post(
            {
                "grant_type": "refresh_token",
                "refresh_token": stored.refresh_token,
                "client_id": self.config.client_id.get_secret_value(),
                "client_secret": self.config.client_secret.get_secret_value(),
            },
            doing="refresh the access token",
        )
        if response.status_code == 200:
            pair = self._pair_from(response, sent_at)
            held.save(pair)
            self.refreshes += 1
            return pair
        body = json_or_none(response)
        body = body if isinstance(body, dict) else {}
        error = str(body.get("error", ""))
        description = str(body.get("error_description", "")) or excerpt(response.text)
        reason = response.headers.get("Reason", "")
        if "TooEarly" in reason or "not expired" in description:
            if expired:
                raise SourceError(
                    f"{WHAT} said the access token expired but refused to refresh it this early "
                    f"({description}; {reason}); check this machine's clock. The next run tries "
                    "again"
                )
            # Exact still counts the token as alive: use it until Exact says it expired.
            return TokenPair(stored.access_token, stored.refresh_token, None)
        if "expired" in description.lower():
            raise ConfigError(
                f"{WHAT} refused the refresh token of connection {self.connection!r}: "
                f"{description} (a refresh token dies after 30 days unused); "
                + authorize_again(self.connection)
            )
        if error == "invalid_client" or response.status_code == 401:
            raise ConfigError(
                f"{WHAT} refused the app's credentials ({description}); check source.client_id "
                "and source.client_secret"
            )
        raise ConfigError(
            f"{WHAT} refused the refresh token of connection {self.connection!r} "
            f"({response.status_code} {error}: {description}); it was probably refreshed by "
            "another copy of these tokens or revoked; " + authorize_again(self.connection)
        )

    def _post(self, form: dict[str, str], *, doing: str) -> requests.Response:
        try:
            return self.session.post(self.token_url, data=form, timeout=self.config.timeout)
        except requests.ConnectionError as error:
            raise SourceError(
                f"cannot reach {WHAT} at {self.token_url} to {doing} ({error}); the next run "
                "tries again"
            ) from None
        except requests.Timeout:
            raise SourceError(
                f"{WHAT} did not answer within {self.config.timeout:g} s when asked to {doing}; "
                "the tokens may have been rotated: if the next run says the refresh token was "
                "refused, " + authorize_again(self.connection)
            ) from None

    def _pair_from(self, response: requests.Response, sent_at: datetime) -> TokenPair:
        body = json_or_none(response)
        body = body if isinstance(body, dict) else {}
        access, refresh = body.get("access_token"), body.get("refresh_token")
        if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
            raise SourceError(
                f"{WHAT} answered the token request without an access and refresh token "
                f"({excerpt(response.text) or 'empty body'})"
            )
        return TokenPair(access, refresh, sent_at + timedelta(seconds=_expires_in(body)))

    def exchange_code(self, code: str) -> TokenPair:
        """Trade the code from the redirect (URL-decoded first: ``%21`` is ``!``) for a pair
        and store it, replacing any pair of this connection."""
        sent_at = self.clock()
        response = self._post(
            {
                "grant_type": "authorization_code",
                "code": unquote(code.strip()),
                "redirect_uri": self.config.redirect_uri,
                "client_id": self.config.client_id.get_secret_value(),
                "client_secret": self.config.client_secret.get_secret_value(),
            },
            doing="exchange the authorization code",
        )
        if response.status_code != 200:
            body = json_or_none(response)
            body = body if isinstance(body, dict) else {}
            said = body.get("error_description") or body.get("error") or excerpt(response.text)
            raise ConfigError(
                f"{WHAT} refused the authorization code ({response.status_code}: {said}); a "
                "code is valid for about 3 minutes and once: run `dunning auth exact` again"
            )
        pair = self._pair_from(response, sent_at)
        with self._store().locked(self.connection, PROVIDER) as held:
            held.save(pair)
        self._pair = pair
        return pair
