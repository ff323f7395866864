"""Dataloaders: a page of members or rewards costs a fixed number of queries.

A batch's query runs as supervised work, shielded from its callers: when every field that
asked for it is cancelled (a sibling field failed), Strawberry cancels the batch task, and a
query cut in the middle would leave the driver closing a connection in a task nobody waits
for, past the response and past the app's shutdown. Shielded, the query finishes (it is
short), its answer is dropped, and the app's shutdown waits for it with a bound.

Each caller awaits its own shield of the loader's future, never the shared future itself:
with caching, two fields asking for the same key share one future, and cancelling a task
cancels the future it awaits. Unshielded, a field cancelled because its sibling failed
cancelled the future for a field elsewhere in the document too, whose CancelledError then
escaped the executor and the request (found by the fuzz, issue 8). Shielded, a cancelled
caller only stops waiting; the future, and the batch behind it, still complete.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

from app.domain.records import (
    Balance,
    Entry,
    ExpiringPoints,
    Redemption,
    RedemptionChange,
    Reward,
)
from app.domain.tiers.progress import TierProgress
from app.services.queries import Queries
from app.supervisor import TaskSupervisor

K = TypeVar("K")
V = TypeVar("V")


class SharedLoader(DataLoader[K, V]):
    """A DataLoader whose callers can be cancelled one by one (see the module's docstring)."""

    def load(self, key: K) -> Awaitable[V]:
        return asyncio.shield(super().load(key))

    def forget(self, key: K) -> None:
        """The next load of `key` reads it again (nothing happens if it was never loaded)."""
        with contextlib.suppress(KeyError):
            self.clear(key)


class Loaders:
    def __init__(self, queries: Queries, tasks: TaskSupervisor, *, cache: bool = True) -> None:
        self._tasks = tasks
        self._cache = cache
        self.member = self._loader(queries.members)
        self.member_by_external_id = self._loader(queries.members_by_external_id)
        self.balance: SharedLoader[int, Balance | None] = self._loader(queries.balances)
        self.tier: SharedLoader[int, TierProgress | None] = self._loader(queries.tiers)
        self.expiring: SharedLoader[int, list[ExpiringPoints] | None] = self._loader(
            queries.expiring_soon
        )
        self.reward: SharedLoader[int, Reward | None] = self._loader(queries.rewards)
        self.redemption: SharedLoader[int, Redemption | None] = self._loader(queries.redemptions)
        self.entry: SharedLoader[int, Entry | None] = self._loader(queries.entries)
        self.redemption_history: SharedLoader[int, list[RedemptionChange] | None] = self._loader(
            queries.redemption_histories
        )

    def _loader(
        self, fetch: Callable[[Sequence[K]], Awaitable[dict[K, V]]]
    ) -> SharedLoader[K, V | None]:
        name = f"loader:{getattr(fetch, '__name__', 'fetch')}"

        async def fetched(keys: list[K]) -> dict[K, V]:
            return await fetch(keys)

        async def load(keys: list[K]) -> list[V | None]:
            found = await self._tasks.shielded(fetched(keys), name=name)
            return [found.get(key) for key in keys]

        return SharedLoader(load_fn=load, cache=self._cache)
