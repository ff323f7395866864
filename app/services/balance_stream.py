"""A member's balance changes as a stream: the missed ones first, then live ones.

Subscribe to the feed before reading the backlog, then always read the outbox by version:
every change arrives once, in order, with no gap, whatever the wake-ups do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from app.domain.records import BalanceChange
from app.events.feed import ChangeFeed
from app.services.queries import BACKLOG_PAGE, Queries

HEARTBEAT_SECONDS = 15.0
PAGE = BACKLOG_PAGE


async def balance_changes(
    queries: Queries,
    feed: ChangeFeed,
    member_id: int,
    *,
    since_version: int | None,
    recheck_seconds: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[BalanceChange]:
    async with feed.subscribe(member_id) as wakeups:
        if since_version is None:
            balances = await queries.balances([member_id])
            last = balances[member_id].version if member_id in balances else 0
        else:
            last = since_version
        while True:
            while True:  # drain every page of the backlog before waiting
                page = await queries.balance_changes(member_id, after_version=last)
                start = last
                for change in page:
                    if change.version != last + 1:
                        break  # never skip: the missing version is read on the next pass
                    last = change.version
                    yield change
                if len(page) < PAGE or last == start:
                    break
            try:
                # Re-check now and then even without a wake-up: a lost notification
                # (another instance's connection dropped) delays a change, never loses it.
                await asyncio.wait_for(wakeups.get(), timeout=recheck_seconds)
            except TimeoutError:
                pass
