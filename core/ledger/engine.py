"""Opening the ledger database: engine set-up (SQLite in WAL mode) and automatic migrations."""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from dunning.core.errors import LedgerError

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_SECONDS = 30
OWNER_ONLY = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def _owner_only(database: Path) -> None:
    """Create the ledger file owner-only (``0600``) before SQLite does, whatever the umask; tighten
    companion files SQLite made (``-wal``, ``-shm``: SQLite gives them the database's mode).

    The ledger holds debtors' personal data and OAuth tokens. An existing ledger readable by
    others is left as it is (its owner may share it on purpose) and logged as a warning."""
    if not database.exists():
        try:
            descriptor = os.open(database, os.O_RDWR | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
        except FileExistsError:
            return  # another process created it this instant, with the same care
        except OSError as exc:
            raise LedgerError(
                f"cannot create the ledger {database} ({exc.strerror}); check the folder's "
                "permissions or change 'state:' in pipelines.yaml"
            ) from None
        os.close(descriptor)
        os.chmod(database, OWNER_ONLY)  # noqa: PTH101 - the umask may have narrowed os.open
    elif stat.S_IMODE(database.stat().st_mode) & 0o077:
        logging.getLogger("dunning.ledger").warning(
            "the ledger %s can be read by other users; run: chmod 600 %s", database, database
        )


def _tighten_companions(database: Path) -> None:
    if stat.S_IMODE(database.stat().st_mode) & 0o077:
        return
    for suffix in SQLITE_COMPANIONS:
        companion = database.with_name(database.name + suffix)
        if companion.exists() and stat.S_IMODE(companion.stat().st_mode) & 0o077:
            companion.chmod(OWNER_ONLY)


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        folder = Path(database).parent
        if not folder.is_dir():
            raise LedgerError(
                f"ledger folder {folder} does not exist; create it or change 'state:' "
                "in pipelines.yaml"
            )
        _owner_only(Path(database))
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.close()
        if database and database != ":memory:":
            _tighten_companions(Path(database))

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: two writers queue instead of deadlocking.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


_MIGRATING = threading.Lock()
"""Alembic keeps the migration context in module globals: one migration per process at a time."""
MIGRATION_LOCK_KEY = 0x64756E6E696E67  # "dunning"
"""PostgreSQL advisory lock taken while migrating, so processes opening a new ledger at the same
moment (several workers) migrate it once, one after the other."""


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    config = _alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:  # the usual case, without taking any lock
        if MigrationContext.configure(connection).get_current_revision() == head:
            return
    with _MIGRATING, engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        current = MigrationContext.configure(connection).get_current_revision()
        if current == head:
            return
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_engine(url: str) -> Engine:
    """Create the engine for ``url`` and migrate it. Errors become one-line LedgerErrors."""
    try:
        engine = _sqlite_engine(url) if url.startswith("sqlite") else create_engine(url)
        migrate(engine)
    except SQLAlchemyError as exc:
        original = getattr(exc, "orig", None)
        reason = str(original) if original is not None else str(exc).splitlines()[0]
        raise LedgerError(f"cannot open the ledger at {url}: {reason}") from None
    return engine
