"""pytest fixtures: a throwaway PostgreSQL server for the session, a fresh database per test.

``DUNNING_TEST_POSTGRES`` set to a URL uses that server instead; set to ``skip`` leaves the
PostgreSQL tests out (they are otherwise required: a missing server is an error, not a skip).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dunning.core.testing.postgres import BIN_ROOT, PostgresServer, server_binaries

ENV = "DUNNING_TEST_POSTGRES"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | str]:
    """The session's PostgreSQL server (or the URL of the one ``DUNNING_TEST_POSTGRES`` names)."""
    given = os.environ.get(ENV, "")
    if given == "skip":
        pytest.skip(f"{ENV}=skip: PostgreSQL tests left out")
    if given:
        yield given
        return
    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError(
            f"no PostgreSQL server binaries under {BIN_ROOT}; install postgresql (apt) or set "
            f"{ENV} to a server's URL"
        )
    folder = Path(tempfile.mkdtemp(prefix="dunning-pg-"))
    server = PostgresServer(binaries, folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer | str) -> str:
    """A fresh, empty database on the session's server, for one test."""
    if isinstance(postgres_server, str):
        from sqlalchemy import create_engine, text

        name = f"t_{uuid.uuid4().hex[:12]}"
        engine = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return postgres_server.rsplit("/", 1)[0] + f"/{name}"
    return postgres_server.create_database()
