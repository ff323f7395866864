"""Shared fixtures: `db_url` runs a test on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

from tests.backends import PostgresServer, SqliteTemplate, postgres_server

pytest_plugins = ["tests.hang_guard"]

settings.register_profile(  # make test: no explain phase (tracing is slow before 3.12)
    "quick",
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "deep",
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(  # for chasing a failure: report it as found, without shrinking
    "noshrink",
    max_examples=100,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def _postgres() -> Iterator[PostgresServer]:
    server = postgres_server()
    assert server is not None
    yield server
    asyncio.run(server.drop())


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: SqliteTemplate
) -> str:
    if backend == "sqlite":
        return sqlite_template.fresh(tmp_path)
    server: PostgresServer = request.getfixturevalue("_postgres")
    asyncio.run(server.reset())
    return server.url


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> str:
    """PostgreSQL only: for races that SQLite's single writer rules out."""
    server: PostgresServer = request.getfixturevalue("_postgres")
    asyncio.run(server.reset())
    return server.url
