"""Live servers for end-to-end tests: real uvicorn processes on the `db_url` database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.e2e.server import LiveServer, issuer_for, prepare_database, start_servers


class ServerPool:
    """Starts servers on one prepared database; stops every one of them, always."""

    def __init__(self, db_url: str, keys_file: Path, log_dir: Path) -> None:
        self.db_url = db_url
        self.keys_file = keys_file
        self.log_dir = log_dir
        self.started: list[LiveServer] = []

    def start(self, *names: str, env: Mapping[str, str] | None = None) -> list[LiveServer]:
        """Blocking; from a test coroutine use `await pool.astart(...)`. `env`: TALLY_*
        settings for these servers."""
        servers = start_servers(
            self.db_url, self.keys_file, self.log_dir, names or ("server",), env=env
        )
        self.started.extend(servers)
        return servers

    async def astart(self, *names: str, env: Mapping[str, str] | None = None) -> list[LiveServer]:
        return await asyncio.to_thread(self.start, *names, env=env)

    def restart(self, server: LiveServer) -> LiveServer:
        """Stop `server`; start a new one on the same port (clients keep their URL)."""
        server.stop()
        if server in self.started:
            self.started.remove(server)
        (again,) = start_servers(
            self.db_url, self.keys_file, self.log_dir, [server.name], ports=[server.port]
        )
        self.started.append(again)
        return again

    def stop_all(self) -> None:
        while self.started:
            self.started.pop().stop()


@pytest.fixture(scope="session")
def keys_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One signing key set for the run (RSA keys are slow to make); servers share it."""
    path = tmp_path_factory.mktemp("e2e-keys") / "jwks.json"
    issuer_for(path)
    return path


@pytest.fixture
def servers(db_url: str, keys_file: Path, tmp_path: Path) -> Iterator[ServerPool]:
    """A pool of servers on this test's database, with the test program active."""
    asyncio.run(prepare_database(db_url))
    pool = ServerPool(db_url, keys_file, tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()


@pytest.fixture
def live(servers: ServerPool) -> LiveServer:
    return servers.start()[0]
