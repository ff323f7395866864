"""A real Tally server in a subprocess: uvicorn on a free port, stopped at teardown, always.

Run as `python -m tests.e2e.server`: it reads the usual TALLY_* variables, migrates the
database, activates the test program when TALLY_E2E_PROGRAM=1, then serves `create_app`.
The test process shares the key file with the server, so it mints tokens the server accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from app.auth.keys import load_or_create_keys
from app.auth.scopes import ALL_SCOPES, MEMBER_SCOPES
from app.auth.tokens import TokenIssuer

REPO = Path(__file__).resolve().parents[2]
ISSUER = "http://tally.e2e"
AUDIENCE = "tally-e2e"
PARTNER_SCOPES = frozenset(s.value for s in ALL_SCOPES if s not in MEMBER_SCOPES) | {"rewards:read"}
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """One running server process and the issuer that mints tokens it accepts."""

    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    issuer: TokenIssuer
    name: str = "server"
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"

    @property
    def ws_url(self) -> str:
        return "ws" + self.graphql_url.removeprefix("http")

    def member_token(
        self, external_id: str, scopes: Iterable[str] = MEMBER_SCOPES, ttl: int = 3600
    ) -> str:
        return self.issuer.mint(subject=external_id, scopes=scopes, ttl=ttl)

    def partner_token(self, client: str = "pos-1", scopes: Iterable[str] = PARTNER_SCOPES) -> str:
        return self.issuer.mint(subject=client, client_id=client, scopes=scopes)

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down gracefully), then SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None


def server_env(
    db_url: str,
    keys_file: Path,
    port: int,
    *,
    program: bool = True,
    migrate: bool = True,
    **extra: str,
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALLY_")}
    env.update(
        {
            "TALLY_ENV": "test",
            "TALLY_DATABASE_URL": db_url,
            "TALLY_KEYS_FILE": str(keys_file),
            "TALLY_HOST": "127.0.0.1",
            "TALLY_PORT": str(port),
            "TALLY_ISSUER": ISSUER,
            "TALLY_AUDIENCE": AUDIENCE,
            "TALLY_SWEEP_INTERVAL": "0",
            "TALLY_FEED_POLL_INTERVAL": "0.1",
            "TALLY_LOG_LEVEL": "warning",
            "TALLY_E2E_PROGRAM": "1" if program else "0",
            "TALLY_E2E_MIGRATE": "1" if migrate else "0",
            "TALLY_E2E_PARENT_PID": str(os.getpid()),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def issuer_for(keys_file: Path) -> TokenIssuer:
    """Create (or load) the shared key file; call before starting a server."""
    return TokenIssuer(load_or_create_keys(keys_file), ISSUER, AUDIENCE)


def start_server(
    db_url: str, keys_file: Path, log_dir: Path, *, name: str = "server", program: bool = True
) -> LiveServer:
    """Start a server and wait until /healthz answers; raise with its log if it does not."""
    return start_servers(db_url, keys_file, log_dir, [name], program=program, migrate=True)[0]


def start_servers(
    db_url: str,
    keys_file: Path,
    log_dir: Path,
    names: Iterable[str],
    *,
    program: bool = False,
    migrate: bool = False,
    ports: Sequence[int] | None = None,
    env: Mapping[str, str] | None = None,
) -> list[LiveServer]:
    """Start several servers at once on a prepared database (migrated, program active).

    `program` and `migrate` make each server do it itself; only safe for a single server."""
    issuer = issuer_for(keys_file)
    servers: list[LiveServer] = []
    try:
        for n, name in enumerate(names):
            port = ports[n] if ports else free_port()
            log_path = log_dir / f"{name}-{port}.log"
            log = log_path.open("wb")
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.e2e.server"],
                cwd=REPO,
                env=server_env(
                    db_url, keys_file, port, program=program, migrate=migrate, **(env or {})
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            servers.append(
                LiveServer(f"http://127.0.0.1:{port}", process, log_path, issuer, name, log)
            )
        for server in servers:
            _wait_healthy(server)
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


def _wait_healthy(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited at start-up:\n{server.log()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.base_url}/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(
        f"{server.name} did not answer /healthz in {START_TIMEOUT}s:\n{server.log()}"
    )


async def prepare_database(url: str) -> None:
    """Activate the test program (tests.ledger.harness.program_data); a no-op when active."""
    from app.ledger.database import open_database
    from app.ledger.uow import UnitOfWork
    from app.services.clock import SystemClock
    from app.services.program import apply_program
    from tests.ledger.harness import program_data

    db = open_database(url)
    try:
        await apply_program(UnitOfWork(db), SystemClock(), program_data())
    finally:
        await db.dispose()


# --- the subprocess side --------------------------------------------------------------


def _exit_with_parent() -> None:
    """If the test process dies without its teardown (SIGKILL), do not outlive it."""
    parent = int(os.environ.get("TALLY_E2E_PARENT_PID", "0"))
    if not parent:
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="e2e-parent-watch", daemon=True).start()


def main() -> None:
    import uvicorn

    from app.ledger.migrate import upgrade
    from app.main import create_app
    from app.settings import Settings

    _exit_with_parent()
    settings = Settings()
    if os.environ.get("TALLY_E2E_MIGRATE", "1") == "1":
        upgrade(settings.database_url)
    if os.environ.get("TALLY_E2E_PROGRAM") == "1":
        asyncio.run(prepare_database(settings.database_url))
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
