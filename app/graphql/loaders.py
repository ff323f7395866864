"""Dataloaders: a page of members or rewards costs a fixed number of queries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

from app.domain.records import Balance, Entry, ExpiringPoints, Redemption, Reward
from app.domain.tiers import TierProgress
from app.services.queries import Queries

K = TypeVar("K")
V = TypeVar("V")


def _loader(
    fetch: Callable[[Sequence[K]], Awaitable[dict[K, V]]], *, cache: bool
) -> DataLoader[K, V | None]:
    async def load(keys: list[K]) -> list[V | None]:
        found = await fetch(keys)
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load, cache=cache)


class Loaders:
    def __init__(self, queries: Queries, *, cache: bool = True) -> None:
        self.member = _loader(queries.members, cache=cache)
        self.member_by_external_id = _loader(queries.members_by_external_id, cache=cache)
        self.balance: DataLoader[int, Balance | None] = _loader(queries.balances, cache=cache)
        self.tier: DataLoader[int, TierProgress | None] = _loader(queries.tiers, cache=cache)
        self.expiring: DataLoader[int, list[ExpiringPoints] | None] = _loader(
            queries.expiring_soon, cache=cache
        )
        self.reward: DataLoader[int, Reward | None] = _loader(queries.rewards, cache=cache)
        self.redemption: DataLoader[int, Redemption | None] = _loader(
            queries.redemptions, cache=cache
        )
        self.entry: DataLoader[int, Entry | None] = _loader(queries.entries, cache=cache)
