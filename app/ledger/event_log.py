"""Published events in commit order. Outbox ids follow insert order, and on PostgreSQL a
transaction may commit after one that inserted later, so a reader paging by id could
step past a row that is not yet visible and never see it. The sequencer gives each
published row, once it is committed and seen, the next number of one sequence: a row
seen later always gets a later number, so paging by `sequence` misses nothing."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.published import EventType, PublishedEvent, published
from app.domain.records import Page
from app.ledger.tables import members, outbox

#: pg_try_advisory_xact_lock key: one sequencer at a time across instances.
SEQUENCER_LOCK = 7_202_612


class EventLog:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def sequence(self, limit: int = 1000) -> int:
        """Number the published rows committed since the last round (oldest id first);
        0 when another instance is sequencing right now. Call inside a write transaction."""
        if self.conn.dialect.name == "postgresql":
            locked = await self.conn.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEQUENCER_LOCK}
            )
            if not locked.scalar_one():
                return 0
        top = (await self.conn.execute(select(func.max(outbox.c.sequence)))).scalar_one()
        ids = list(
            (
                await self.conn.execute(
                    select(outbox.c.id)
                    .where(outbox.c.event_type.is_not(None), outbox.c.sequence.is_(None))
                    .order_by(outbox.c.id)
                    .limit(limit)
                )
            ).scalars()
        )
        if ids:
            start = (top or 0) + 1
            await self.conn.execute(
                update(outbox)
                .where(outbox.c.id == bindparam("row_id"))
                .values(sequence=bindparam("row_sequence")),
                [{"row_id": i, "row_sequence": start + n} for n, i in enumerate(ids)],
            )
        return len(ids)


async def unsequenced(conn: AsyncConnection) -> bool:
    """Whether a published row waits for its number (a read: no write lock for nothing)."""
    found = await conn.execute(
        select(outbox.c.id)
        .where(outbox.c.event_type.is_not(None), outbox.c.sequence.is_(None))
        .limit(1)
    )
    return found.first() is not None


def _event(row: Any) -> PublishedEvent:
    return published(
        outbox_id=row.id,
        sequence=row.sequence,
        type_=EventType(row.event_type),
        created_at=row.created_at,
        member_id=row.member_id,
        external_id=row.external_id,
        version=row.version,
        payload=row.payload,
    )


async def events_by_outbox_ids(
    conn: AsyncConnection, ids: Collection[int]
) -> dict[int, PublishedEvent]:
    """The published events of these outbox rows, by outbox id."""
    if not ids:
        return {}
    c = outbox.c
    rows = await conn.execute(_columns().where(c.id.in_(sorted(ids)), c.sequence.is_not(None)))
    return {r.id: _event(r) for r in rows}


def _columns() -> Any:
    c = outbox.c
    return select(
        c.id,
        c.sequence,
        c.event_type,
        c.created_at,
        c.member_id,
        c.version,
        c.payload,
        members.c.external_id,
    ).select_from(outbox.outerjoin(members, members.c.id == c.member_id))


async def events_page(
    conn: AsyncConnection,
    *,
    after: int,
    limit: int,
    types: Collection[EventType] | None = None,
    member_id: int | None = None,
    since: datetime | None = None,
) -> Page[PublishedEvent]:
    """Published events after sequence `after` (and recorded at or after `since`), in
    commit order."""
    c = outbox.c
    query = (
        select(
            c.id,
            c.sequence,
            c.event_type,
            c.created_at,
            c.member_id,
            c.version,
            c.payload,
            members.c.external_id,
        )
        .select_from(outbox.outerjoin(members, members.c.id == c.member_id))
        .where(c.sequence > after)
    )
    if types:
        query = query.where(c.event_type.in_(sorted(t.value for t in types)))
    if member_id is not None:
        query = query.where(c.member_id == member_id)
    if since is not None:
        query = query.where(c.created_at >= since)
    rows = list(await conn.execute(query.order_by(c.sequence).limit(limit + 1)))
    return Page([_event(r) for r in rows[:limit]], len(rows) > limit)
