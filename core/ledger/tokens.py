"""OAuth tokens of sources: the pair in use, replaced atomically when a refresh rotates it.

A platform that rotates refresh tokens invalidates the old one on every refresh, so the new pair
must be stored before it is used, and a second process must not refresh with a token that was
just replaced. :meth:`TokenStore.replace` is a compare-and-swap on the refresh token: it stores
the new pair only when the stored refresh token is still the one the caller refreshed with, in
one transaction (SQLite takes the write lock up front; PostgreSQL locks the row).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select, update

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
        return TokenPair(row.access_token, row.refresh_token, _aware(row.expires_at))

    def locked(self, key: str, provider: str) -> AbstractContextManager[HeldTokens]:
        """The stored pair under a lock, for a refresh: see :func:`locked_tokens`."""
        return locked_tokens(self.engine, key, provider)

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


class HeldTokens:
    """The stored pair while :meth:`TokenStore.locked` holds it; :meth:`save` replaces it in
    the same transaction (committed when the ``with`` block ends without an error)."""

    def __init__(self, connection: Connection, key: str, provider: str, pair: TokenPair | None):
        self._connection = connection
        self._key = key
        self._provider = provider
        self.pair = pair

    def save(self, pair: TokenPair) -> None:
        values = {
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "expires_at": pair.expires_at,
            "updated_at": datetime.now(UTC),
        }
        where = (t.pipeline == self._key, t.provider == self._provider)
        if self.pair is None:
            self._connection.execute(
                oauth_tokens.insert().values(pipeline=self._key, provider=self._provider, **values)
            )
        else:
            self._connection.execute(update(oauth_tokens).where(*where).values(**values))
        self.pair = pair


def _locked_pair(connection: Connection, key: str, provider: str) -> TokenPair | None:
    row = connection.execute(
        select(oauth_tokens).where(t.pipeline == key, t.provider == provider).with_for_update()
    ).first()
    if row is None:
        return None
    return TokenPair(row.access_token, row.refresh_token, _aware(row.expires_at))


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite gives a stored UTC moment back without its zone."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


@contextmanager
def locked_tokens(engine: Engine, key: str, provider: str) -> Iterator[HeldTokens]:
    """Hold the pair stored under (``key``, ``provider``) so that no other process or thread
    reads it for a refresh, or writes it, until the block ends; the block's :meth:`HeldTokens.save`
    is committed at the end, or rolled back when the block raises.

    The lock is the database's: on SQLite the transaction begins ``IMMEDIATE`` (the ledger's
    write lock, which a second process waits for up to the busy timeout); on PostgreSQL the row
    is locked ``FOR UPDATE`` (and the first insert of a key is serialised by its primary key)."""
    with engine.begin() as connection:
        yield HeldTokens(connection, key, provider, _locked_pair(connection, key, provider))
