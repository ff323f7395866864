"""Test databases: a migrated SQLite file per test, a migrated PostgreSQL database per run.

PostgreSQL tests read TALLY_TEST_POSTGRES_URL. Unset: they skip, saying why. Set but
unreachable: they skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from app.ledger import migrate
from app.ledger.tables import metadata

POSTGRES_ENV = "TALLY_TEST_POSTGRES_URL"
#: Every table of the schema, from the metadata: a new table is emptied between tests too.
TABLES = ", ".join(table.name for table in reversed(metadata.sorted_tables))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def plain_dsn(url: str, database: str | None = None) -> str:
    """A SQLAlchemy URL as the DSN asyncpg takes (optionally for another database)."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


class PostgresServer:
    """One throwaway database for the whole run, dropped at the end."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.name = f"tally_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.url = make_url(base_url).set(database=self.name).render_as_string(hide_password=False)
        self.migrated = False

    async def create(self) -> None:
        conn = await asyncpg.connect(plain_dsn(self.base_url), timeout=5)
        try:
            await conn.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await conn.close()

    async def drop(self) -> None:
        conn = await asyncpg.connect(plain_dsn(self.base_url), timeout=5)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await conn.close()

    async def reset(self) -> None:
        """Empty every table (ids restart) so each test starts from nothing."""
        if not self.migrated:
            await asyncio.to_thread(migrate.upgrade, self.url)
            self.migrated = True
        conn = await asyncpg.connect(plain_dsn(self.url), timeout=5)
        try:
            await conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        finally:
            await conn.close()


def postgres_server() -> PostgresServer | None:
    """The run's PostgreSQL database, or a skip (or, under CI, a failure) saying why."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if in_ci():
            pytest.fail(f"{POSTGRES_ENV} is not set; CI must run the PostgreSQL tests")
        pytest.skip(f"{POSTGRES_ENV} is not set; PostgreSQL tests skipped")
    server = PostgresServer(base)
    try:
        asyncio.run(server.create())
    except (OSError, asyncpg.PostgresError) as error:
        message = f"PostgreSQL at {POSTGRES_ENV} is unreachable: {error}"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return server


class SqliteTemplate:
    """Migrate once, copy the file per test: a fresh database costs a file copy."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "template.db"
        asyncio.run(asyncio.to_thread(migrate.upgrade, f"sqlite+aiosqlite:///{self.path}"))

    def fresh(self, directory: Path) -> str:
        target = directory / f"tally-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(self.path, target)
        return f"sqlite+aiosqlite:///{target}"
