"""Database URLs as hosting providers hand them out are accepted and use our drivers."""

from __future__ import annotations

import pytest

from app.ledger.database import (
    UnsupportedDatabaseUrl,
    asyncpg_connect_args,
    database_url,
)
from app.settings import Settings


@pytest.mark.parametrize(
    ("given", "used"),
    [
        (
            "postgres://u:pw@db.example.com:5432/tally",
            "postgresql+asyncpg://u:pw@db.example.com:5432/tally",
        ),
        ("postgresql://u@db.example.com/tally", "postgresql+asyncpg://u@db.example.com/tally"),
        ("postgresql+asyncpg://u@h/tally", "postgresql+asyncpg://u@h/tally"),
        ("postgresql://u@h/tally?sslmode=require", "postgresql+asyncpg://u@h/tally?ssl=require"),
        ("sqlite:///./var/tally.db", "sqlite+aiosqlite:///./var/tally.db"),
        ("sqlite+aiosqlite:///./var/tally.db", "sqlite+aiosqlite:///./var/tally.db"),
    ],
)
def test_provider_urls_use_asyncpg_or_aiosqlite(given: str, used: str) -> None:
    assert database_url(given) == used
    assert Settings(database_url=given).database_url == used


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://u@h/db", "mysql://u@h/db", "postgresql+psycopg2://u@h/db", "::"]
)
def test_other_drivers_are_refused_with_a_message(url: str) -> None:
    with pytest.raises(UnsupportedDatabaseUrl, match="database URL"):
        database_url(url)


def test_the_listen_connection_reads_the_url_as_the_engine_does() -> None:
    """Dialect-only keys stay out (asyncpg would send them to the server as settings);
    several hosts and socket directories reach asyncpg as the engine sees them."""
    assert asyncpg_connect_args("postgres://u:pw@h/db?prepared_statement_cache_size=100") == {
        "host": "h",
        "database": "db",
        "user": "u",
        "password": "pw",
    }
    assert asyncpg_connect_args("postgresql://u@/db?host=h1:5432&host=h2:5433") == {
        "database": "db",
        "user": "u",
        "host": ["h1", "h2"],
        "port": [5432, 5433],
    }
    assert asyncpg_connect_args("postgresql:///db?host=/var/run/postgresql") == {
        "database": "db",
        "host": "/var/run/postgresql",
    }
    assert asyncpg_connect_args("postgresql://u@h/db?sslmode=require")["ssl"] == "require"
