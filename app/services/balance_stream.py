"""A member's changes as streams: the missed ones first, then live ones. Balance changes
(numbered by the balance version) and redemption changes (numbered per member).

Subscribe to the feed before reading the backlog, then always read by version: every
change arrives once, in order, with no gap, whatever the wake-ups do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from app.domain.records import BalanceChange, RedemptionChange
from app.events.feed import ChangeFeed
from app.services.queries import BACKLOG_PAGE, Queries

HEARTBEAT_SECONDS = 15.0
PAGE = BACKLOG_PAGE


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


C = TypeVar("C", bound=Versioned)


async def _stream(
    feed: ChangeFeed,
    member_id: int,
    *,
    start: Callable[[], Awaitable[int]],
    after: Callable[[int], Awaitable[Sequence[C]]],
    recheck_seconds: float,
) -> AsyncIterator[C]:
    async with feed.subscribe(member_id) as wakeups:
        last = await start()
        while True:
            while True:  # drain every page of the backlog before waiting
                page = await after(last)
                first = last
                for change in page:
                    if change.version != last + 1:
                        break  # never skip: the missing version is read on the next pass
                    last = change.version
                    yield change
                if len(page) < PAGE or last == first:
                    break
            try:
                # Re-check now and then even without a wake-up: a lost notification
                # (another instance's connection dropped) delays a change, never loses it.
                await asyncio.wait_for(wakeups.get(), timeout=recheck_seconds)
            except TimeoutError:
                pass


async def balance_changes(
    queries: Queries,
    feed: ChangeFeed,
    member_id: int,
    *,
    since_version: int | None,
    recheck_seconds: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[BalanceChange]:
    async def start() -> int:
        if since_version is not None:
            return since_version
        balances = await queries.balances([member_id])
        return balances[member_id].version if member_id in balances else 0

    async def after(last: int) -> list[BalanceChange]:
        return await queries.balance_changes(member_id, after_version=last)

    async for change in _stream(
        feed, member_id, start=start, after=after, recheck_seconds=recheck_seconds
    ):
        yield change


async def redemption_changes(
    queries: Queries,
    feed: ChangeFeed,
    member_id: int,
    *,
    since_version: int | None,
    recheck_seconds: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[RedemptionChange]:
    async def start() -> int:
        if since_version is not None:
            return since_version
        return await queries.last_redemption_version(member_id)

    async def after(last: int) -> list[RedemptionChange]:
        return await queries.redemption_changes(member_id, after_version=last)

    async for change in _stream(
        feed, member_id, start=start, after=after, recheck_seconds=recheck_seconds
    ):
        yield change
