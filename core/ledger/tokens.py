"""OAuth tokens of sources: the pair in use, replaced atomically when a refresh rotates it.

A platform that rotates refresh tokens invalidates the old one on every refresh, so the new pair
must be stored before it is used, and a second process must not refresh with a token that was
just replaced. :meth:`TokenStore.replace` is a compare-and-swap on the refresh token: it stores
the new pair only when the stored refresh token is still the one the caller refreshed with, in
one transaction (SQLite takes the write lock up front; PostgreSQL locks the row).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from dunning.core.ledger.schema import oauth_tokens

t = oauth_tokens.c


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: datetime | None = None


class TokenStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, pipeline: str, provider: str) -> TokenPair | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(oauth_tokens).where(t.pipeline == pipeline, t.provider == provider)
            ).first()
        if row is None:
            return None
        return TokenPair(row.access_token, row.refresh_token, row.expires_at)

    def replace(
        self, pipeline: str, provider: str, used_refresh_token: str, new: TokenPair
    ) -> bool:
        """Store ``new`` if the stored refresh token is ``used_refresh_token`` (or none is
        stored yet). False when another process replaced it meanwhile: re-read with
        :meth:`load` instead of refreshing again."""
        values = {
            "access_token": new.access_token,
            "refresh_token": new.refresh_token,
            "expires_at": new.expires_at,
            "updated_at": datetime.now(UTC),
        }
        with self.engine.begin() as connection:
            stored = connection.execute(
                select(t.refresh_token)
                .where(t.pipeline == pipeline, t.provider == provider)
                .with_for_update()
            ).scalar_one_or_none()
            if stored is None:
                connection.execute(
                    oauth_tokens.insert().values(pipeline=pipeline, provider=provider, **values)
                )
                return True
            if stored != used_refresh_token:
                return False
            connection.execute(
                update(oauth_tokens)
                .where(t.pipeline == pipeline, t.provider == provider)
                .values(**values)
            )
            return True
