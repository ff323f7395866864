"""The published events (app/domain/published.py): numbered in commit order after commit
(the sequencer, a background task of `tally serve` and `tally worker`), then read as a
feed (`events`, `tally events export`) and delivered to webhook endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from datetime import datetime

from app.domain.published import EventType, PublishedEvent
from app.ledger.uow import UnitOfWork

BATCH = 1000


async def sequence_events(uow: UnitOfWork) -> int:
    """Number every published event committed so far; how many were numbered."""
    numbered = 0
    while True:
        async with uow.read() as r:
            if not await r.unsequenced_events():
                return numbered
        async with uow.write() as tx:
            done = await tx.events.sequence(BATCH)
        numbered += done
        if done < BATCH:
            return numbered


async def all_events(
    uow: UnitOfWork,
    *,
    since: datetime | None = None,
    after: int = 0,
    types: Collection[EventType] | None = None,
) -> AsyncIterator[PublishedEvent]:
    """Every published event from `since` (or after sequence `after`), in commit order,
    read a page at a time."""
    while True:
        async with uow.read() as r:
            page = await r.events_page(after=after, limit=BATCH, types=types, since=since)
        for event in page.items:
            yield event
        if not page.has_next:
            return
        after = page.items[-1].sequence
