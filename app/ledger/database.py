"""Engines for SQLite (one writer, BEGIN IMMEDIATE, WAL, synchronous=FULL) and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger("tally.db")

#: How long shutdown waits for the pools to close their connections.
DISPOSE_TIMEOUT = 5.0

#: Database URLs as hosting providers hand them out, and the driver Tally uses for each.
_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}


class UnsupportedDatabaseUrl(ValueError):
    pass


def database_url(url: str) -> str:
    """The URL Tally connects with: `postgres://` and `postgresql://` (the forms hosting
    providers hand out) use asyncpg, `sqlite://` uses aiosqlite; libpq's `sslmode` becomes
    asyncpg's `ssl`. Any other driver is refused with a message, not a missing module."""
    try:
        parsed = make_url(url)
    except Exception as error:  # noqa: BLE001 - SQLAlchemy raises several kinds
        raise UnsupportedDatabaseUrl(f"not a database URL: {error}") from None
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise UnsupportedDatabaseUrl(
            f"unsupported database URL scheme {parsed.drivername!r}: use postgresql:// "
            "(asyncpg) or sqlite:// (aiosqlite)"
        )
    parsed = parsed.set(drivername=driver)
    if driver.startswith("postgresql") and "sslmode" in parsed.query:
        query = dict(parsed.query)
        query.setdefault("ssl", query.pop("sslmode"))
        query.pop("sslmode", None)
        parsed = parsed.set(query=query)
    return parsed.render_as_string(hide_password=False)


#: Query parameters SQLAlchemy's asyncpg dialect reads itself; asyncpg.connect() would send
#: them to the server as settings (and the server would refuse them).
_DIALECT_ONLY = frozenset({"prepared_statement_cache_size", "prepared_statement_name_func"})


def asyncpg_connect_args(url: str) -> dict[str, Any]:
    """What asyncpg.connect() needs for a connection outside the pool (the LISTEN one):
    the engine's own reading of the URL (hosts, ports, socket dirs, ssl), less the keys
    only the dialect understands."""
    _, options = PGDialect_asyncpg().create_connect_args(make_url(database_url(url)))  # type: ignore[no-untyped-call]
    return {key: value for key, value in options.items() if key not in _DIALECT_ONLY}


class _SqliteConnection(aiosqlite.Connection):
    """aiosqlite's connection with an idempotent `stop()`.

    aiosqlite runs each connection on a worker thread fed by a queue and ended by a stop
    item. SQLAlchemy's `terminate()` (a connection invalidated, e.g. by a query cancelled
    mid-flight) runs a shielded graceful `close()` and, if it is cancelled again meanwhile,
    a forced `stop()`. The graceful close then ends with a second `stop()` whose item lands
    behind the first: the thread has exited, that future never resolves, and the task that
    awaits it can never finish, so an event loop's shutdown waits for it forever. Here a
    second `stop()` is a no-op: the first one's item already closes the connection.
    """

    def stop(self) -> asyncio.Future[Any] | None:
        if not self._running:
            return None
        self._interrupt()
        return super().stop()

    async def close(self) -> None:
        self._interrupt()
        await super().close()

    def _interrupt(self) -> None:
        """A statement still running when its connection is closed (a cancelled sweep's)
        would hold the write lock until it ends: interrupt it (sqlite3 allows this from
        another thread; with nothing running it does nothing)."""
        connection = self._connection
        if connection is not None:
            connection.interrupt()


def _sqlite_connector(database: str, options: Mapping[str, Any]) -> Any:
    async def connect() -> aiosqlite.Connection:
        connection = _SqliteConnection(
            lambda: sqlite3.connect(database, **options), iter_chunk_size=64
        )
        connection._thread.daemon = True  # as SQLAlchemy's own aiosqlite connect does
        return await connection

    return connect


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

    async def dispose(self, *, limit: float = DISPOSE_TIMEOUT) -> bool:
        """Close the pools' connections; gives up (and says so) after `limit` seconds."""
        engines = [self.write_engine]
        if self.read_engine is not self.write_engine:
            engines.append(self.read_engine)
        try:
            async with asyncio.timeout(limit):
                for engine in engines:
                    await engine.dispose()
        except TimeoutError:
            log.error("database pools did not close within %.0f s; leaving them", limit)
            return False
        return True


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    options: dict[str, Any] = {"poolclass": NullPool} if ":memory:" in url else {}
    if not immediate:
        # Readers run in autocommit: each SELECT reads one consistent WAL snapshot, and
        # no BEGIN/ROLLBACK round trips are spent on a read-only connection.
        options["pool_reset_on_return"] = None
    # The dialect's own reading of the URL (path, check_same_thread), our connection class.
    (database, *_), connect_options = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
    engine = create_async_engine(
        url, async_creator=_sqlite_connector(database, connect_options), **options
    )

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
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def open_database(url: str, *, pool_size: int = 10) -> Database:
    url = database_url(url)
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
