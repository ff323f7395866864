"""A request never leaves work running that the app's shutdown does not wait for.

When one field fails, graphql-core cancels its siblings, and Strawberry then cancels a
dataloader batch nobody waits for any more. A query cut there used to leave the database
driver closing its connection in a task that outlived the response and the lifespan, and
could hang the event loop's shutdown forever (`make test` stuck in a runner's teardown).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from app.domain.records import Balance
from app.main import Runtime, create_app
from tests.api import ops
from tests.api.client import make_settings, open_api
from tests.api.ops import member_gid

FAILS_BESIDE_A_LOADER = """
query($id: ID!) {
  member(id: $id) {
    balance { available }
    activity(first: 101) { edges { node { points } } }
  }
}"""


async def test_a_failed_sibling_never_cuts_a_loader_query_and_shutdown_drains_it(
    db_url: str, tmp_path: Path
) -> None:
    started, finished = asyncio.Event(), asyncio.Event()
    async with open_api(make_settings(db_url, tmp_path)) as api:
        runtime: Runtime = api.runtime
        queries = runtime.services.queries
        fetch = queries.balances

        async def slow_balances(ids: Sequence[int]) -> dict[int, Balance]:
            started.set()
            await asyncio.sleep(0.3)  # still running when the request has its answer
            found = await fetch(ids)
            finished.set()
            return found

        pk = await ops.enroll(api, "alice")
        queries.balances = slow_balances  # type: ignore[method-assign]

        body = await api.gql(FAILS_BESIDE_A_LOADER, {"id": member_gid(pk)})

        assert "INVALID_INPUT" in ops.error_codes(body)
        assert started.is_set()
        assert not finished.is_set()
        assert "loader:slow_balances" in runtime.services.tasks.running

    assert finished.is_set()  # shutdown waited for it instead of cutting it
    assert runtime.services.tasks.running == ()
    left = [
        f"{task.get_name()}: {task.get_coro()!r}"
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task() and not task.done()
    ]
    assert left == [], left


async def test_one_app_runs_its_lifespan_twice(db_url: str, tmp_path: Path) -> None:
    """A test client opened twice on one app: the second lifespan starts its tasks again."""
    settings = make_settings(db_url, tmp_path)
    app = create_app(settings)
    for _ in range(2):
        async with app.router.lifespan_context(app):
            assert "tally-feed-listener" in app.state.runtime.services.tasks.running
        assert app.state.runtime.services.tasks.running == ()
