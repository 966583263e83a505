"""OAuth2 state on the fake's own clock (API-CONTRACTS.md 1.1 and 1.2): authorization codes,
access tokens and rotating refresh tokens, and the rules that make them traps.

- A code lives 180 s and works once. Real codes contain ``!``; the redirect carries it as ``%21``.
- An access token lives 600 s from issue, used or not.
- A refresh is refused while the pair's access token is younger than 570 s (9 min 30 s).
- A refresh token works once: refreshing rotates it away ("Old refresh token used.").
- A refresh token not used for 30 days dies ("The refresh token expired at ...").
The previous access token stays valid after a refresh until its own 600 s are over.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

CODE_SECONDS = 180.0
ACCESS_SECONDS = 600.0
EARLIEST_REFRESH_SECONDS = 570.0
REFRESH_SECONDS = 30 * 86_400.0


class TokenRefused(Exception):
    """A token-endpoint refusal: ``status``, OAuth ``error``, ``description``, extra headers."""

    def __init__(
        self, status: int, error: str, description: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.headers = headers or {}


@dataclass
class RefreshToken:
    issued_at: float
    access_token: str
    rotated: bool = False


@dataclass
class TokenState:
    codes: dict[str, tuple[float, bool]] = field(default_factory=dict)
    access: dict[str, float] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    force_expired: set[str] = field(default_factory=set)
    refreshes: int = 0

    def new_code(self, now: float) -> str:
        code = f"stampNL001.{secrets.token_hex(6)}!{secrets.token_urlsafe(24)}"
        self.codes[code] = (now, False)
        return code

    def issue(self, issued_at: float) -> tuple[str, str]:
        access = f"stampNL001.{secrets.token_urlsafe(48)}"
        refresh = f"stampNL001.{secrets.token_urlsafe(36)}"
        self.access[access] = issued_at
        self.refresh[refresh] = RefreshToken(issued_at, access)
        return access, refresh

    def exchange_code(self, code: str, now: float) -> tuple[str, str]:
        issued = self.codes.get(code)
        if issued is None or issued[1] or now - issued[0] > CODE_SECONDS:
            raise TokenRefused(400, "invalid_grant", "The authorization code is invalid.")
        self.codes[code] = (issued[0], True)
        return self.issue(now)

    def use_refresh_token(self, token: str, now: float) -> tuple[str, str]:
        held = self.refresh.get(token)
        if held is None:
            raise TokenRefused(400, "invalid_grant", "Invalid refresh token.")
        if held.rotated:
            raise TokenRefused(400, "invalid_grant", "Old refresh token used.")
        dies = held.issued_at + REFRESH_SECONDS
        if now > dies:
            moment = datetime.fromtimestamp(dies, UTC).isoformat(timespec="seconds")
            raise TokenRefused(
                400,
                "invalid_request",
                f"The refresh token expired at {moment.replace('+00:00', 'Z')}",
            )
        if now - self.access[held.access_token] < EARLIEST_REFRESH_SECONDS:
            raise TokenRefused(
                400,
                "access_denied",
                "Rate limit exceeded: access_token not expired",
                {"Reason": "TooEarlyToRefreshTokens"},
            )
        held.rotated = True
        self.refreshes += 1
        return self.issue(now)

    def access_problem(self, token: str | None, now: float) -> str | None:
        """``None`` for a live token, else the ``WWW-Authenticate`` value of the 401."""
        issued = self.access.get(token) if token else None
        if issued is None:
            return 'Bearer error="invalid_token"'
        if token in self.force_expired or now - issued > ACCESS_SECONDS:
            return 'Bearer error="invalid_token", error_description="access token expired"'
        return None

    def expire_all(self) -> None:
        self.force_expired.update(self.access)

    def valid_refresh_tokens(self, now: float) -> set[str]:
        return {
            token
            for token, held in self.refresh.items()
            if not held.rotated and now <= held.issued_at + REFRESH_SECONDS
        }
