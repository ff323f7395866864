"""Shutdown leaves nothing running: a live server with an open subscription and a LISTEN
connection stops within its bounds, and no task is left on the event loop afterwards.

The server runs in this test's own event loop (uvicorn.Server, not a subprocess) so that
the test can see every task the app started.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
import websockets
from starlette.applications import Starlette

from app.ledger.database import asyncpg_connect_args
from app.ledger.uow import NOTIFY_CHANNEL
from app.main import Runtime, create_app
from app.services.program import apply_program
from tests.api import ops
from tests.api.client import Api, make_settings
from tests.e2e.server import free_port
from tests.ledger.harness import program_data

FOLLOW = "subscription { balanceChanged(sinceVersion: 0) { version balance { available } } }"
BOUND = 20.0


async def _listening_backends(db_url: str) -> int:
    """Sessions on this test's database whose last statement was our LISTEN."""
    conn = await asyncpg.connect(**asyncpg_connect_args(db_url), timeout=5)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query = $1 AND pid <> pg_backend_pid()",
            f'LISTEN "{NOTIFY_CHANNEL}"',
        )
        return count
    finally:
        await conn.close()


async def _eventually_listening(db_url: str, expected: int) -> int:
    seen = -1
    for _ in range(100):
        seen = await _listening_backends(db_url)
        if seen == expected:
            break
        await asyncio.sleep(0.05)
    return seen


async def _receive(ws: websockets.ClientConnection) -> dict[str, object]:
    message: dict[str, object] = json.loads(await asyncio.wait_for(ws.recv(), BOUND))
    return message


async def _closed_by_server(ws: websockets.ClientConnection) -> bool:
    """Drain what the server sent before it closed the socket; True once it is closed."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), BOUND)
    except websockets.ConnectionClosed:
        return True


async def _serve(tmp_path: Path, db_url: str) -> AsyncIterator[tuple[uvicorn.Server, Starlette]]:
    settings = make_settings(db_url, tmp_path, shutdown_timeout=2)
    app = create_app(settings)
    runtime: Runtime = app.state.runtime
    await apply_program(runtime.services.uow, runtime.services.clock, program_data())
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=free_port(),
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
    )
    serving = asyncio.create_task(server.serve(), name="test-uvicorn")
    try:
        for _ in range(200):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "the server did not start"
        yield server, app
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, BOUND)


async def test_shutdown_with_an_open_subscription_leaves_no_task(
    db_url: str, tmp_path: Path, backend: str
) -> None:
    served = _serve(tmp_path, db_url)
    server, app = await anext(served)
    runtime: Runtime = app.state.runtime
    base = f"http://127.0.0.1:{server.config.port}"
    async with httpx.AsyncClient(base_url=base, timeout=BOUND) as http:
        api = Api(app=app, runtime=runtime, http=http)
        pk = await ops.enroll(api, "alice")
        await ops.adjust(api, pk, 25)

    if backend == "postgres":
        assert await _eventually_listening(db_url, 1) == 1, "the feed listener is not LISTENing"

    token = api.token(member="alice")
    url = base.replace("http", "ws", 1) + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
        assert (await _receive(ws))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": FOLLOW}}))
        first = await _receive(ws)
        assert first["type"] == "next", first
        assert runtime.services.feed.subscriber_count == 1

        # End the lifespan while the subscription is open.
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(anext(served), BOUND)

        assert await _closed_by_server(ws)

    assert runtime.services.feed.subscriber_count == 0
    assert runtime.services.tasks.closing
    assert runtime.services.tasks.running == ()
    for _ in range(5):
        await asyncio.sleep(0)
    left = [
        f"{task.get_name()}: {task.get_coro()!r}"
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task() and not task.done()
    ]
    assert left == [], "tasks left running after shutdown:\n" + "\n".join(left)
    if backend == "postgres":
        assert await _eventually_listening(db_url, 0) == 0, "a LISTEN session outlived shutdown"
