"""Engines for SQLite (one writer, BEGIN IMMEDIATE, WAL, synchronous=FULL) and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout=30000",  # first: switching to WAL may have to wait for a lock
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",  # a committed point survives a power cut
    "PRAGMA foreign_keys=ON",
)


@dataclass
class Database:
    """The engines of one database. On SQLite, writes go through one lock and one engine."""

    url: str
    write_engine: AsyncEngine
    read_engine: AsyncEngine
    write_lock: asyncio.Lock | None = field(default=None)

    @property
    def dialect(self) -> str:
        return self.write_engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    options: dict[str, Any] = {"poolclass": NullPool} if ":memory:" in url else {}
    if not immediate:
        # Readers run in autocommit: each SELECT reads one consistent WAL snapshot, and
        # no BEGIN/ROLLBACK round trips are spent on a read-only connection.
        options["pool_reset_on_return"] = None
    engine = create_async_engine(url, **options)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions, so BEGIN IMMEDIATE is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    if immediate:

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def ensure_sqlite_directory(url: str) -> None:
    """SQLite creates the file, not its folder (./var on a fresh checkout)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def open_database(url: str, *, pool_size: int = 10) -> Database:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        ensure_sqlite_directory(url)
        return Database(
            url=url,
            write_engine=_sqlite_engine(url, immediate=True),
            read_engine=_sqlite_engine(url, immediate=False),
            write_lock=asyncio.Lock(),
        )
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)
    return Database(url=url, write_engine=engine, read_engine=engine)
